//! Webhooks (issue 14, item 3): an endpoint added on the settings page receives a finalised bill, signed (checked by a
//! receiver on loopback with its own HMAC), retried after a refusal and logged with its answers; a slow endpoint holds
//! up only its own deliveries; addresses follow the outbound rules; states are noticed once.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use time::macros::datetime;
use uuid::Uuid;

use app::webhooks::EventKind;
use server::webhooks::{claim, send, Sender};

use crate::helpers::{partner_tenant, seed_partner, spawn_app, spawn_app_with, test_key};

/// What a receiver was sent: headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on loopback answering each request with the next of `answers` (the last one repeats); `None` answers
/// 200 only once `release` is notified.
async fn receiver(answers: Vec<Option<u16>>) -> (String, Received) {
    receiver_held(answers, Arc::new(tokio::sync::Notify::new())).await
}

async fn receiver_held(answers: Vec<Option<u16>>, release: Arc<tokio::sync::Notify>) -> (String, Received) {
    let got: Received = Arc::default();
    let calls = Arc::new(Mutex::new(0usize));
    let (g, c) = (got.clone(), calls.clone());
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (g, c, answers, release) = (g.clone(), c.clone(), answers.clone(), release.clone());
            async move {
                g.lock().unwrap().push((headers, body));
                let n = {
                    let mut c = c.lock().unwrap();
                    *c += 1;
                    *c - 1
                };
                match answers[n.min(answers.len() - 1)] {
                    Some(code) => (StatusCode::from_u16(code).unwrap(), format!("answer {code}")),
                    None => {
                        release.notified().await;
                        (StatusCode::OK, "answer 200, late".to_string())
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// The receiver's check, written apart from the server's: HMAC-SHA256 of "<t>.<body>", and a recent timestamp.
fn verified(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let header = headers["stackbill-signature"].to_str().unwrap();
    let (t, v1) = header.split_once(",v1=").unwrap();
    let t: i64 = t.trim_start_matches("t=").parse().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let recent = (app::domain::clock::now().unix_timestamp() - t).abs() < 300;
    recent && mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

fn sender(timeout: Duration) -> Sender {
    Sender::new(app::domain::outbound::Outbound::lab(), Arc::new(test_key()), timeout).unwrap()
}

async fn deliver_due(pool: &PgPool, at: time::OffsetDateTime) -> usize {
    let claimed = claim(pool, at).await.unwrap();
    let n = claimed.len();
    for d in claimed {
        send(pool, &sender(Duration::from_secs(5)), d, at).await.unwrap();
    }
    n
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_finalised_bill_is_signed_retried_and_logged(pool: PgPool) {
    let m = crate::bills::month(pool.clone()).await;
    let contoso = partner_tenant(&pool, "Contoso").await;
    let (url, got) = receiver(vec![Some(503), Some(202)]).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(contoso), &["Partner.Admin"]).await;

    let add = app
        .client
        .post(app.url("/settings/webhooks/endpoints"))
        .header("origin", &app.base)
        .form(&[("url", url.as_str()), ("events", "bill.finalised"), ("events", "customer.threshold")])
        .send()
        .await
        .unwrap();
    assert_eq!(add.status(), StatusCode::SEE_OTHER);
    let page = app.page("/settings/webhooks").await;
    let at = page.find("whsec_").expect("the secret is shown once");
    let secret = page[at..at + 6 + 64].to_string();
    assert!(!app.page("/settings/webhooks").await.contains(&secret), "and only once");

    let finalise = app
        .client
        .post(app.url(&format!("/bills/2026-10/{}/finalise", m.b)))
        .header("origin", &app.base)
        .form(&[("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(finalise.status(), StatusCode::SEE_OTHER);

    let now = app::domain::clock::now();
    assert_eq!(deliver_due(&pool, now).await, 1);
    assert_eq!(deliver_due(&pool, now).await, 0, "the next attempt waits 30 seconds");
    assert_eq!(deliver_due(&pool, now + time::Duration::seconds(31)).await, 1);
    assert_eq!(deliver_due(&pool, now + time::Duration::hours(1)).await, 0, "delivered: not sent again");

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let (headers, body) = &got[1];
    assert!(verified(&secret, headers, body), "the receiver's own HMAC check passes");
    assert!(!verified("whsec_other", headers, body));
    assert_eq!(headers["stackbill-event"], "bill.finalised");
    assert_eq!(got[0].0["stackbill-delivery"], headers["stackbill-delivery"], "one delivery ID for both attempts");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["type"], "bill.finalised");
    assert_eq!(json["data"]["subscription_id"], m.b.to_string());
    // B's October by hand: 3.3333 × 0.008 = 0.0266664 → 0.02; 100 × 0.5 × 0.006 = 0.30; 0.32 in all.
    assert_eq!(json["data"]["total_amount"], "0.32");

    let log = app.page("/settings/webhooks").await;
    assert!(log.contains(r#"data-state="delivered""#) && log.contains("202 answer 202"), "{log}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_slow_endpoint_holds_up_only_its_own_deliveries(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let release = Arc::new(tokio::sync::Notify::new());
    let (slow, _) = receiver_held(vec![None], release.clone()).await;
    let (quick, got) = receiver(vec![Some(200)]).await;
    let mut tx = pool.begin().await.unwrap();
    let actor = app::audit::Actor::command_line();
    for url in [&slow, &quick] {
        let sealed = test_key().seal("whsec_test");
        app::webhooks::db::add_endpoint(&mut tx, &actor, partner, url, &[EventKind::StackSilent], &sealed)
            .await
            .unwrap();
    }
    let queued = app::webhooks::db::enqueue(&mut tx, partner, EventKind::StackSilent, "s1", serde_json::json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(queued, 2);

    let claimed = claim(&pool, app::domain::clock::now()).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let sends: Vec<_> = claimed
        .into_iter()
        .map(|d| {
            let pool = pool.clone();
            tokio::spawn(async move {
                send(&pool, &sender(Duration::from_secs(60)), d, app::domain::clock::now()).await.unwrap()
            })
        })
        .collect();
    // The first send to finish is the quick endpoint's, while the slow one is held (until released, whatever the
    // time): its delivery is recorded and the other still waits for its answer.
    let (_, _, slow_send) = tokio::time::timeout(Duration::from_secs(30), futures_util::future::select_all(sends))
        .await
        .expect("the quick endpoint is not held up");
    let delivered =
        || sqlx::query_scalar::<_, i64>("select count(*) from webhook_deliveries where delivered_at is not null");
    assert_eq!(delivered().fetch_one(&pool).await.unwrap(), 1);
    assert_eq!(got.lock().unwrap().len(), 1);
    assert_eq!(slow_send.len(), 1);
    assert!(!slow_send[0].is_finished(), "the slow one is still waiting for its answer");
    release.notify_one();
    for t in slow_send {
        t.await.unwrap();
    }
    assert_eq!(delivered().fetch_one(&pool).await.unwrap(), 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn deliveries_are_retried_for_a_day_then_given_up_and_the_log_says_so(pool: PgPool) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (url, got) = receiver(vec![Some(500)]).await;
    let mut tx = pool.begin().await.unwrap();
    let actor = app::audit::Actor::command_line();
    let sealed = test_key().seal("whsec_test");
    app::webhooks::db::add_endpoint(&mut tx, &actor, partner, &url, &[EventKind::StackSilent], &sealed).await.unwrap();
    for key in ["s1", "s2"] {
        app::webhooks::db::enqueue(&mut tx, partner, EventKind::StackSilent, key, serde_json::json!({})).await.unwrap();
    }
    tx.commit().await.unwrap();

    let now = app::domain::clock::now();
    let mut at = now;
    // Attempts 30 s, 1, 2, 4 … 64 minutes apart, then every 2 hours: the 19th is 7,650 s + 10 × 7,200 s = 22 h 7 min
    // 30 s after the event; a 20th would be at 24 h 7 min 30 s, past the day, so the 19th is the last.
    for k in 1..=19 {
        assert_eq!(deliver_due(&pool, at).await, 1, "attempt {k}");
        if k < 19 {
            assert_eq!(deliver_due(&pool, at).await, 0, "attempt {k}: nothing else is due before the back-off");
        }
        at += server::webhooks::backoff(k);
    }
    let first: (Option<time::OffsetDateTime>, i32) =
        sqlx::query_as("select given_up_at, attempts from webhook_deliveries where event_key like '%:s1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(first.0.is_some(), "given up");
    assert_eq!(first.1, 19);
    assert_eq!(got.lock().unwrap().len(), 19);
    // The endpoint's next event is tried once the first is given up (an endpoint's events go in order).
    assert_eq!(deliver_due(&pool, at).await, 1);
    let second: i32 = sqlx::query_scalar("select attempts from webhook_deliveries where event_key like '%:s2'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(second, 1);

    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let log = app.page("/settings/webhooks").await;
    assert!(log.contains(r#"data-state="given up""#) && log.contains("500 answer 500"), "{log}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn endpoints_follow_the_outbound_rules_belong_to_their_partner_and_are_removed_after_asking(pool: PgPool) {
    let (_, contoso) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (_, fabrikam) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let app = spawn_app_with(pool.clone(), |s| s.outbound = Default::default()).await;
    let add = |url: &'static str| {
        app.client
            .post(app.url("/settings/webhooks/endpoints"))
            .header("origin", &app.base)
            .form(&[("url", url), ("events", "bill.finalised")])
            .send()
    };
    app.sign_in("rita", Some(contoso), &["Partner.Reader"]).await;
    assert_eq!(add("https://hooks.example.com/x").await.unwrap().status(), StatusCode::FORBIDDEN);
    app.sign_in("adele", Some(contoso), &["Partner.Admin"]).await;
    add("http://hooks.example.com/x").await.unwrap();
    assert!(app.page("/settings/webhooks").await.contains("is not an https:// address"));
    add("https://127.0.0.1/x").await.unwrap();
    assert!(app.page("/settings/webhooks").await.contains("127.0.0.1 is a loopback address"));
    add("https://169.254.169.254/latest").await.unwrap();
    assert!(app.page("/settings/webhooks").await.contains("link-local"));
    let none: i64 = sqlx::query_scalar("select count(*) from webhook_endpoints").fetch_one(&pool).await.unwrap();
    assert_eq!(none, 0);

    add("https://hooks.example.com/contoso").await.unwrap();
    let id: Uuid = sqlx::query_scalar("select endpoint_id from webhook_endpoints").fetch_one(&pool).await.unwrap();
    let remove = |confirmed: &'static str| {
        app.client
            .post(app.url("/settings/webhooks/endpoints/remove"))
            .header("origin", &app.base)
            .form(&[("endpoint_id", id.to_string()), ("confirmed", confirmed.to_string())])
            .send()
    };
    // Without JavaScript the first post asks, naming the address, and removes nothing.
    let asked = remove("").await.unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    let question = asked.text().await.unwrap();
    assert!(question.contains("Remove the webhook endpoint https://hooks.example.com/contoso?"), "{question}");
    assert!(question.contains("name=\"confirmed\" value=\"yes\""), "{question}");
    // (Read from the database: loading Adele's page here would take the message Fabrikam must not see below.)
    let kept: bool = sqlx::query_scalar("select removed_at is null from webhook_endpoints where endpoint_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(kept, "still there after being asked");
    // Fabrikam signs in on the same browser before Adele's next page: nothing of hers is shown to it, not even the
    // message (with the address) she had not seen yet.
    app.sign_in("farah", Some(fabrikam), &["Partner.Admin"]).await;
    assert!(!app.page("/settings/webhooks").await.contains("hooks.example.com"));
    // Neither asking nor removing reaches another partner's endpoint: the same 404 as one that does not exist.
    assert_eq!(remove("").await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(remove("yes").await.unwrap().status(), StatusCode::NOT_FOUND);
    app.sign_in("adele", Some(contoso), &["Partner.Admin"]).await;
    remove("yes").await.unwrap();
    assert!(app.page("/settings/webhooks").await.contains("Endpoint removed"));
    assert!(!app.page("/settings/webhooks").await.contains("hooks.example.com/contoso"));
    app.sign_in("olivia", None, &["Operator"]).await;
    assert_eq!(app.get("/settings/webhooks").await.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn silent_stacks_and_customers_over_their_threshold_are_noticed_once(pool: PgPool) {
    let m = crate::bills::month(pool.clone()).await;
    let mut tx = pool.begin().await.unwrap();
    let actor = app::audit::Actor::command_line();
    let events = [EventKind::StackSilent, EventKind::CustomerThreshold, EventKind::UnpricedUsage];
    app::webhooks::db::add_endpoint(&mut tx, &actor, m.partner, "https://hooks.example.com/x", &events, "sealed")
        .await
        .unwrap();
    let settings = app::webhooks::Settings {
        customer_threshold: Some(crate::bills::d("0.09")),
        ..app::webhooks::Settings::default()
    };
    app::webhooks::db::save_settings(&mut tx, &actor, m.partner, &settings).await.unwrap();
    // Over 0.09 this month: A2 (10 × 0.010 = 0.10), B (0.0266664 + 0.30), the default (12 × 0.008 = 0.096); not A1
    // (0.08). The last usage hour ended on 20 Oct at 11:00: at 16:59 the stack is not yet silent (6 hours). Nothing
    // is unpriced.
    assert_eq!(app::webhooks::detect::states(&mut tx, datetime!(2026-10-20 16:59 UTC)).await.unwrap(), 3);
    assert_eq!(app::webhooks::detect::states(&mut tx, datetime!(2026-10-20 17:00 UTC)).await.unwrap(), 1, "silent");
    assert_eq!(app::webhooks::detect::states(&mut tx, datetime!(2026-10-31 12:00 UTC)).await.unwrap(), 0, "once");
    tx.commit().await.unwrap();
    let subs: Vec<String> = sqlx::query_scalar(
        "select body::jsonb #>> '{data,subscription_id}' from webhook_deliveries where event = 'customer.threshold'
         order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected = vec![m.a2.to_string(), m.b.to_string(), m.default.to_string()];
    expected.sort();
    assert_eq!(subs, expected);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_failing_collector_and_a_reconciliation_over_the_threshold_are_sent_once(pool: PgPool) {
    let m = crate::bills::month(pool.clone()).await;
    let mut tx = pool.begin().await.unwrap();
    let actor = app::audit::Actor::command_line();
    let events = [EventKind::CollectorFailing, EventKind::ReconDifferences];
    app::webhooks::db::add_endpoint(&mut tx, &actor, m.partner, "https://hooks.example.com/x", &events, "sealed")
        .await
        .unwrap();
    sqlx::query(
        "insert into collectors (stack_id, partner_id, provider_subscription_id, auth_kind, bearer_token, watermark)
         values ($1, $2, $3, 'bearer', 'sealed', now())",
    )
    .bind(m.stack.stack_id)
    .bind(m.partner)
    .bind(Uuid::new_v4())
    .execute(&mut *tx)
    .await
    .unwrap();
    let fail = Duration::from_secs(60);
    let stack = (m.stack.stack_id, m.partner, m.stack.cloud_id);
    // Three failed runs in a row (the default) make one event; the fourth is the same streak.
    for _ in 0..4 {
        app::collector::runs::record_failure(&mut tx, m.stack.stack_id, "the endpoint answered 503", fail)
            .await
            .unwrap();
    }
    let count = |event: &'static str| {
        sqlx::query_scalar::<_, i64>("select count(*) from webhook_deliveries where event = $1").bind(event)
    };
    assert_eq!(count("collector.failing").fetch_one(&mut *tx).await.unwrap(), 1);
    tx.commit().await.unwrap();
    // A success ends the streak; three more failures (in a later transaction) are a new one.
    let mut tx = pool.begin().await.unwrap();
    app::collector::runs::record_success(&mut tx, stack, app::domain::clock::now(), serde_json::json!({}), fail)
        .await
        .unwrap();
    for _ in 0..3 {
        app::collector::runs::record_failure(&mut tx, m.stack.stack_id, "the endpoint answered 503", fail)
            .await
            .unwrap();
    }
    assert_eq!(count("collector.failing").fetch_one(&mut *tx).await.unwrap(), 2);

    // The hand-built October differs by 0.4826664 − 0.6026664 = −0.12: below the default threshold of 1.00, nothing;
    // at 0.10, the re-import is sent.
    let parsed = app::recon::parse::parse_recon(&crate::recon::hand_built_file(&m).await).unwrap();
    app::recon::db::import(&mut tx, &actor, m.partner, "recon.csv", &parsed).await.unwrap();
    assert_eq!(count("reconciliation.differences").fetch_one(&mut *tx).await.unwrap(), 0);
    let lower = app::webhooks::Settings { recon_threshold: crate::bills::d("0.10"), ..Default::default() };
    app::webhooks::db::save_settings(&mut tx, &actor, m.partner, &lower).await.unwrap();
    app::recon::db::import(&mut tx, &actor, m.partner, "recon.csv", &parsed).await.unwrap();
    let body: String =
        sqlx::query_scalar("select body from webhook_deliveries where event = 'reconciliation.differences'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((json["data"]["gap"].as_str(), json["data"]["differences"].as_u64()), (Some("-0.12"), Some(5)));
}
