//! Partner A's admin, holding partner B's IDs (stacks, keys, bills, subscriptions, partner ID), tries every route
//! and server function; a reader of B tries every write; a foreign page tries every write through a signed-in
//! browser. Each attempt gets a 403 or 404 (or a refusal that names nothing of B), and B's data and audit log are
//! exactly as before.
use leptos::server_fn::ServerFn;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::domain::outbound::Outbound;

use crate::bills::{month, Month};
use crate::helpers::{partner_tenant, seed_partner, spawn_app, test_key, TestApp};

/// Everything of partner B's, as rows of text, to compare before and after.
async fn snapshot(pool: &PgPool, partner: Uuid) -> Vec<String> {
    let mut all = Vec::new();
    for table in [
        "partners",
        "stacks",
        "registrations",
        "registration_defaults",
        "tenant_mappings",
        "local_subscriptions",
        "ingestion_keys",
        "collectors",
        "bills",
        "bill_lines",
        "customer_markups",
        "commerce_subscriptions",
        "audit_events",
    ] {
        let sql = format!(
            "select coalesce(string_agg(t::text, '|' order by t::text), '') from {table} t
             where to_jsonb(t)->>'partner_id' = $1::text or to_jsonb(t)->>'billing_partner_id' = $1::text
                or to_jsonb(t)->>'stack_id' in (select stack_id::text from stacks where partner_id = $1)
                or to_jsonb(t)->>'bill_id' in (select to_jsonb(b)->>'bill_id' from bills b where partner_id = $1)"
        );
        all.push(sqlx::query_scalar::<_, String>(&sql).bind(partner).fetch_one(pool).await.unwrap());
    }
    let usage: i64 = sqlx::query_scalar(
        "select count(*) from usage_records u join stacks s using (stack_id) where s.partner_id = $1",
    )
    .bind(partner)
    .fetch_one(pool)
    .await
    .unwrap();
    all.push(usage.to_string());
    all
}

struct World {
    app: TestApp,
    b: Month,
    b_cloud: Uuid,
    b_key: Uuid,
    a_cloud: Uuid,
    a_tenant: Uuid,
    b_tenant: Uuid,
}

/// B is the hand-computed Contoso month (bills of October 2026, mappings, a default), plus a key and a collector;
/// A is Fabrikam with a stack of its own.
async fn world(pool: PgPool) -> World {
    let b = month(pool.clone()).await;
    let (_, a_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let a_cloud =
        sqlx::query_scalar("select cloud_id from stacks where name = 'sea-01'").fetch_one(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    app::keys::db::create_key(&mut tx, &Actor::command_line(), &b.stack, "b-key").await.unwrap();
    let form = app::collector::forms::CollectorForm {
        endpoint: "https://adminmanagement.contoso.example".into(),
        provider_subscription: Uuid::new_v4().to_string(),
        auth_kind: "bearer".into(),
        bearer_token: "contoso-token".into(),
        enabled: Some("on".into()),
        ..Default::default()
    };
    let actor = Actor::command_line();
    app::collector::db::save_collector(&mut tx, &actor, &b.stack, &form, &Outbound::lab(), &test_key()).await.unwrap();
    tx.commit().await.unwrap();
    let b_key = sqlx::query_scalar("select key_id from ingestion_keys").fetch_one(&pool).await.unwrap();
    let b_tenant = partner_tenant(&pool, "Contoso").await;
    World { app: spawn_app(pool).await, b_cloud: b.stack.cloud_id, b, b_key, a_cloud, a_tenant, b_tenant }
}

/// Every write of a partner user, aimed at B's things: (path, form fields).
fn writes_on_b(w: &World) -> Vec<(String, Vec<(&'static str, String)>)> {
    let (cloud, b) = (w.b_cloud, &w.b);
    let bill = format!("/bills/2026-10/{}", b.a1);
    vec![
        (
            format!("/stacks/{cloud}/registration"),
            vec![("default_subscription_id", b.default.to_string()), ("billing_model", "PayAsYouUse".into())],
        ),
        (format!("/stacks/{cloud}/rename"), vec![("name", "pwned".into())]),
        (
            format!("/stacks/{cloud}/mappings"),
            vec![("tenant", b.tenant_b.to_string()), ("subscription_id", b.a1.to_string())],
        ),
        (
            format!("/stacks/{cloud}/mappings/remove"),
            vec![("tenant", b.tenant_b.to_string()), ("expected_current", b.b.to_string())],
        ),
        (format!("/stacks/{cloud}/keys"), vec![("name", "pwned".into())]),
        (format!("/stacks/{cloud}/keys/revoke"), vec![("key_id", w.b_key.to_string())]),
        (
            format!("/stacks/{cloud}/collector"),
            vec![
                ("endpoint", "https://attacker.example".into()),
                ("provider_subscription", Uuid::new_v4().to_string()),
                ("auth_kind", "bearer".into()),
                ("bearer_token", "x".into()),
            ],
        ),
        (format!("{bill}/markup"), vec![("markup", "90".into())]),
        (format!("{bill}/finalise"), vec![]),
        (format!("{bill}/draft"), vec![]),
    ]
}

async fn post(app: &TestApp, path: &str, form: &[(&str, String)], origin: Option<&str>) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).form(form);
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    req.send().await.unwrap()
}

async fn upload(app: &TestApp, cloud: Uuid, origin: &str) -> reqwest::Response {
    let form = Form::new().part("files", Part::text("SubscriptionId\n").file_name("usage.csv"));
    let path = app.url(&format!("/stacks/{cloud}/usage/upload"));
    app.client.post(path).header("origin", origin).multipart(form).send().await.unwrap()
}

/// A server function called as the page would (url-encoded arguments).
async fn server_fn(app: &TestApp, path: &str, args: &[(&str, String)]) -> (StatusCode, String) {
    let res = app.client.post(app.url(path)).header("origin", &app.base).form(args).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

fn refused(status: StatusCode) -> bool {
    matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
}

/// B's names and IDs, none of which may appear in what A sees.
fn b_marks(w: &World) -> Vec<String> {
    vec!["Contoso".into(), "ams-01".into(), w.b.a1.to_string(), w.b.default.to_string(), w.b_cloud.to_string()]
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn another_partners_admin_with_bs_ids_reaches_nothing_of_b(pool: PgPool) {
    let w = world(pool).await;
    let before = snapshot(&w.app.pool, w.b.partner).await;
    w.app.sign_in("mallory", Some(w.a_tenant), &["Partner.Admin"]).await;
    let base = w.app.base.clone();
    let mut answers = Vec::new();

    for (path, form) in writes_on_b(&w) {
        answers.push((path.clone(), post(&w.app, &path, &form, Some(&base)).await.status()));
    }
    answers.push(("upload".into(), upload(&w.app, w.b_cloud, &base).await.status()));
    for path in [
        format!("/stacks/{}", w.b_cloud),
        format!("/bills/2026-10/{}", w.b.a1),
        format!("/exports/bills/2026-10/{}", w.b.a1),
        format!("/exports/bills/2026-10?partner={}", w.b.partner),
        "/operator".to_string(),
    ] {
        answers.push((path.clone(), w.app.get(&path).await.status()));
    }
    let stack_page = app::stacks::detail::LoadStackPage::PATH;
    let args = [
        ("cloud_id", w.b_cloud.to_string()),
        ("history", "true".into()),
        ("mappings_page", "0".into()),
        ("subs_page", "0".into()),
    ];
    answers.push((stack_page.into(), server_fn(&w.app, stack_page, &args).await.0));
    let bill_fn = app::bills::page::LoadBill::PATH;
    let args = [("period", "2026-10".to_string()), ("subscription", w.b.a1.to_string())];
    answers.push((bill_fn.into(), server_fn(&w.app, bill_fn, &args).await.0));
    let operator_fn = app::operator::LoadOperator::PATH;
    // Every list's page and order (`OperatorPages`), so the answer is about who asks, not about a malformed ask.
    let mut names = vec!["search".to_string()];
    for list in ["partners", "directory", "prices", "meters"] {
        names.extend(["[page]", "[order][sort]", "[order][desc]"].map(|field| format!("pages[{list}]{field}")));
    }
    let args: Vec<(&str, String)> =
        names.iter().map(|n| (n.as_str(), if n.ends_with("[page]") { "0".into() } else { String::new() })).collect();
    answers.push((operator_fn.into(), server_fn(&w.app, operator_fn, &args).await.0));
    let wrong: Vec<_> = answers.iter().filter(|(_, status)| !refused(*status)).collect();
    assert!(wrong.is_empty(), "answered other than 403/404: {wrong:?}");

    // Pages and exports that take B's IDs as filters show A's own data only.
    let mut seen = Vec::new();
    for path in [
        format!("/bills?period=2026-10&partner={}", w.b.partner),
        format!("/dashboard?partner={}&month=2026-10", w.b.partner),
        format!("/usage?stack={}&customer={}&from=2026-10-01&to=2026-10-31", w.b_cloud, w.b_tenant),
        format!("/exports/usage?stack={}&from=2026-10-01&to=2026-10-31&group=resource", w.b_cloud),
        format!("/audit?stack={}&customer={}", w.b_cloud, w.b_tenant),
        "/customers".into(),
        "/".into(),
    ] {
        let res = w.app.get(&path).await;
        assert!(res.status().is_success() || refused(res.status()), "{path}: {}", res.status());
        seen.push((path, res.text().await.unwrap()));
    }
    let bills_fn = app::bills::page::LoadBills::PATH;
    let args = [("period", "2026-10".to_string()), ("partner", w.b.partner.to_string()), ("page", "0".to_string())];
    seen.push((bills_fn.into(), server_fn(&w.app, bills_fn, &args).await.1));
    for (path, text) in &seen {
        // A filter may show back the ID typed into it; nothing else of B's.
        for mark in b_marks(&w).into_iter().filter(|m| !path.contains(m.as_str())) {
            assert!(!text.contains(&mark), "{path} shows {mark}");
        }
    }

    // A's own stack with B's subscriptions and key: refused in words that name nothing of B.
    let own = w.a_cloud;
    let tries = [
        (
            format!("/stacks/{own}/registration"),
            vec![("default_subscription_id", w.b.default.to_string()), ("billing_model", "PayAsYouUse".into())],
        ),
        (
            format!("/stacks/{own}/mappings"),
            vec![("tenant", w.b.tenant_b.to_string()), ("subscription_id", w.b.b.to_string())],
        ),
        (format!("/stacks/{own}/keys/revoke"), vec![("key_id", w.b_key.to_string())]),
        ("/stacks".into(), vec![("name", "copy".into()), ("cloud_id", w.b_cloud.to_string())]),
    ];
    for (path, form) in tries {
        let status = post(&w.app, &path, &form, Some(&base)).await.status();
        assert!(status.is_redirection() || refused(status), "{path}: {status}");
        let page = w.app.page(&format!("/stacks/{own}")).await;
        let typed = |m: &String| form.iter().any(|(_, v)| v == m);
        for mark in b_marks(&w).into_iter().filter(|m| !typed(m)) {
            assert!(!page.contains(&mark), "{path}: the answer shows {mark}");
        }
    }

    assert_eq!(snapshot(&w.app.pool, w.b.partner).await, before, "B's data or audit log changed");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_reader_can_change_nothing(pool: PgPool) {
    let w = world(pool).await;
    let before = snapshot(&w.app.pool, w.b.partner).await;
    w.app.sign_in("rita", Some(w.b_tenant), &["Partner.Reader"]).await;
    let base = w.app.base.clone();

    let mut answers = Vec::new();
    for (path, form) in writes_on_b(&w) {
        answers.push((path.clone(), post(&w.app, &path, &form, Some(&base)).await.status()));
    }
    answers.push((
        "/bills/markup".into(),
        post(&w.app, "/bills/markup", &[("markup", "5".into())], Some(&base)).await.status(),
    ));
    let add = [("name", "new".to_string()), ("cloud_id", Uuid::new_v4().to_string())];
    answers.push(("/stacks".into(), post(&w.app, "/stacks", &add, Some(&base)).await.status()));
    answers.push(("upload".into(), upload(&w.app, w.b_cloud, &base).await.status()));
    for path in ["/operator/partners", "/operator/directory/status", "/operator/prices/import"] {
        answers.push((path.into(), post(&w.app, path, &[], Some(&base)).await.status()));
    }

    let wrong: Vec<_> = answers.iter().filter(|(_, status)| *status != StatusCode::FORBIDDEN).collect();
    assert!(wrong.is_empty(), "a reader's write answered other than 403: {wrong:?}");
    assert_eq!(snapshot(&w.app.pool, w.b.partner).await, before);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn no_write_goes_through_from_another_site(pool: PgPool) {
    let w = world(pool).await;
    let before = snapshot(&w.app.pool, w.b.partner).await;
    w.app.sign_in("adele", Some(w.b_tenant), &["Partner.Admin"]).await;

    let mut answers = Vec::new();
    let mut writes = writes_on_b(&w);
    writes.push(("/bills/markup".into(), vec![("markup", "5".into())]));
    writes.push(("/auth/logout".into(), vec![]));
    for (path, form) in &writes {
        for origin in [Some("https://evil.example"), Some("null"), None] {
            let status = post(&w.app, path, form, origin).await.status();
            answers.push((format!("{path} from {origin:?}"), status));
        }
    }
    answers.push(("multipart upload".into(), upload(&w.app, w.b_cloud, "https://evil.example").await.status()));
    let stack_page = app::stacks::detail::LoadStackPage::PATH;
    let evil = w.app.client.post(w.app.url(stack_page)).header("origin", "https://evil.example");
    let args = [
        ("cloud_id", w.b_cloud.to_string()),
        ("history", "true".to_string()),
        ("mappings_page", "0".into()),
        ("subs_page", "0".into()),
    ];
    answers.push(("server function".into(), evil.form(&args).send().await.unwrap().status()));

    let wrong: Vec<_> = answers.iter().filter(|(_, status)| *status != StatusCode::FORBIDDEN).collect();
    assert!(wrong.is_empty(), "a cross-site write answered other than 403: {wrong:?}");
    assert_eq!(snapshot(&w.app.pool, w.b.partner).await, before);
    assert!(w.app.page("/").await.contains("User adele"), "still signed in: the logout was refused too");
}
