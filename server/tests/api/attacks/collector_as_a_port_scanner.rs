//! A partner types the collector's address, so an attacker with a partner account would point it inside our network
//! (databases on loopback, the cloud metadata service) and read the answers on the stack page. The collector keeps to
//! the outbound rules when the address is saved and again when connecting (after DNS), follows no redirects, quotes
//! nothing a remote server sent, stops each run at a deadline, and keeps secrets sealed.
use std::io::ErrorKind;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::collector::db::save_collector;
use app::collector::forms::CollectorForm;
use app::domain::outbound::Outbound;
use app::registrations::db::stack_by_cloud_id;
use server::collector::run::{collect_once, Reach, Schedule};

use crate::helpers::{seed_partner, spawn_app_with, test_key, TestApp};

struct Partner {
    app: TestApp,
    cloud: Uuid,
    stack: Uuid,
}

/// Contoso's admin signed in to a portal with `rules`.
async fn signed_in(pool: PgPool, rules: Outbound) -> Partner {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (stack, cloud) = sqlx::query_as("select stack_id, cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app_with(pool, |s| s.outbound = rules).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    Partner { app, cloud, stack }
}

impl Partner {
    async fn save(&self, form: &[(&str, &str)]) -> String {
        let path = format!("/stacks/{}/collector", self.cloud);
        let res = self.app.client.post(self.app.url(&path)).header("origin", &self.app.base).form(form).send().await;
        let status = res.unwrap().status();
        assert_eq!(status, StatusCode::SEE_OTHER, "a saved or refused form goes back to the stack page, never a 5xx");
        self.app.page(&format!("/stacks/{}", self.cloud)).await
    }
    async fn stored(&self) -> Option<(String, Option<String>, Option<String>)> {
        sqlx::query_as(
            "select s.admin_endpoint, c.bearer_token, c.client_secret from collectors c join stacks s using (stack_id)",
        )
        .fetch_optional(&self.app.pool)
        .await
        .unwrap()
    }
}

fn bearer<'a>(endpoint: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("endpoint", endpoint),
        ("provider_subscription", "5b5c0000-0000-4000-8000-000000000001"),
        ("auth_kind", "bearer"),
        ("bearer_token", token),
        ("enabled", "on"),
    ]
}

fn schedule() -> Schedule {
    Schedule { deadline: Duration::from_secs(20), ..Schedule::default() }
}

/// A listener nobody accepts on: afterwards, whether anything connected to it.
struct Trap(TcpListener);

impl Trap {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self(listener)
    }
    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
    fn was_reached(&self) -> bool {
        match self.0.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        }
    }
}

/// A server answering every request with `answer`.
async fn answering(answer: impl Fn() -> axum::response::Response + Clone + Send + Sync + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().fallback(move || {
        let answer = answer.clone();
        async move { answer() }
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn addresses_inside_our_network_and_plain_http_are_refused_beside_the_field(pool: PgPool) {
    let p = signed_in(pool, Outbound::default()).await;

    for (endpoint, says) in [
        ("http://adminmanagement.example.com", "is not an https:// address"),
        ("https://127.0.0.1:6379", "127.0.0.1 is a loopback address"),
        ("https://169.254.169.254/metadata/instance", "169.254.169.254 is a link-local (cloud metadata) address"),
        ("https://10.0.0.5", "10.0.0.5 is a private address"),
        ("https://[::1]:5432", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]", "127.0.0.1 is a loopback address"),
    ] {
        let page = p.save(&bearer(endpoint, "token")).await;
        assert!(page.contains(says), "{endpoint}: expected “{says}” on the page");
    }
    let mut token_url = bearer("https://adminmanagement.example.com", "");
    token_url.extend([
        ("auth_kind", "client_credentials"),
        ("token_url", "https://169.254.169.254/token"),
        ("client_id", "app"),
        ("client_secret", "s"),
        ("scope", "x/.default"),
    ]);
    token_url.retain(|(k, v)| *k != "auth_kind" || *v == "client_credentials");
    let page = p.save(&token_url).await;
    assert!(page.contains("169.254.169.254 is a link-local"), "the token URL is checked too");
    assert_eq!(p.stored().await, None, "nothing was saved");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_name_that_resolves_to_loopback_is_refused_when_connecting(pool: PgPool) {
    let trap = Trap::new();
    let p = signed_in(pool, Outbound::default()).await;
    let endpoint = format!("https://localhost:{}", trap.port());
    p.save(&bearer(&endpoint, "token")).await;
    assert!(p.stored().await.is_some(), "a name is accepted when saved: it is checked when connecting");

    let reach = Reach::new(Outbound::default(), Arc::new(test_key())).unwrap();
    let error = collect_once(&p.app.pool, &reach, p.stack, app::domain::clock::now(), schedule()).await.unwrap_err();

    assert!(error.contains("localhost resolves to a loopback address"), "{error}");
    assert!(!error.contains("127.0.0.1") && !error.contains("::1"), "the address behind a name is not told: {error}");
    assert!(!trap.was_reached(), "no connection was made");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn redirects_are_not_followed_and_remote_answers_are_never_shown(pool: PgPool) {
    let trap = Trap::new();
    let elsewhere = format!("http://127.0.0.1:{}/steal", trap.port());
    let redirecting = answering(move || {
        (StatusCode::FOUND, [("location", elsewhere.clone())], "BANNER redis_version:7.2.4").into_response()
    })
    .await;
    let erring = answering(|| (StatusCode::INTERNAL_SERVER_ERROR, "BANNER internal stack trace").into_response()).await;
    let chatty = answering(|| "SSH-2.0-OpenSSH_9.6 BANNER".into_response()).await;
    let p = signed_in(pool, Outbound::lab()).await;
    let reach = Reach::new(Outbound::lab(), Arc::new(test_key())).unwrap();

    let mut errors = Vec::new();
    for endpoint in [&redirecting, &erring, &chatty] {
        p.save(&bearer(endpoint, "token")).await;
        let run = collect_once(&p.app.pool, &reach, p.stack, app::domain::clock::now(), schedule()).await;
        errors.push(run.unwrap_err());
        let page = p.app.page(&format!("/stacks/{}", p.cloud)).await;
        assert!(!page.contains("BANNER") && !page.contains("redis"), "the page quotes the remote answer");
    }

    assert!(errors[0].contains("answered 302: a redirect, which the collector does not follow"), "{}", errors[0]);
    assert!(errors[1].contains("answered 500: a server error"), "{}", errors[1]);
    assert!(errors[2].contains("subscription list Stackbill refuses"), "{}", errors[2]);
    assert!(errors.iter().all(|e| !e.contains("BANNER")), "{errors:?}");
    assert!(!trap.was_reached(), "the redirect was not followed");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_events where after::text like '%BANNER%'")
        .fetch_one(&p.app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_huge_answer_or_an_endpoint_that_never_ends_stops_only_that_run(pool: PgPool) {
    let huge = answering(|| vec![b' '; 33 * 1024 * 1024].into_response()).await;
    seed_partner(&pool, "Contoso", "ams-01").await;
    let stack: Uuid = sqlx::query_scalar("select stack_id from stacks").fetch_one(&pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&mut *tx).await.unwrap();
    let stack_ref = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
    let form = CollectorForm {
        endpoint: huge,
        provider_subscription: Uuid::new_v4().to_string(),
        auth_kind: "bearer".into(),
        bearer_token: "t".into(),
        enabled: Some("on".into()),
        ..CollectorForm::default()
    };
    save_collector(&mut tx, &Actor::command_line(), &stack_ref, &form, &Outbound::lab(), &test_key()).await.unwrap();
    tx.commit().await.unwrap();
    let reach = Reach::new(Outbound::lab(), Arc::new(test_key())).unwrap();

    let error = collect_once(&pool, &reach, stack, app::domain::clock::now(), schedule()).await.unwrap_err();
    assert!(error.contains("larger than 32 MiB"), "{error}");

    // An endpoint that accepts and never answers: the run ends at its deadline, not the endpoint's pleasure.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    sqlx::query("update stacks set admin_endpoint = $1").bind(&silent_url).execute(&pool).await.unwrap();
    let quick = Schedule { deadline: Duration::from_millis(300), ..Schedule::default() };
    let error = collect_once(&pool, &reach, stack, app::domain::clock::now(), quick).await.unwrap_err();
    assert!(error.contains("took longer than"), "{error}");
    drop(silent);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn secrets_are_sealed_kept_when_left_blank_and_asked_again_for_a_new_address(pool: PgPool) {
    let p = signed_in(pool, Outbound::lab()).await;
    let key = test_key();
    let endpoint = "https://adminmanagement.example.com";

    p.save(&bearer(endpoint, "bearer-T0KEN")).await;
    let page = p.save(&bearer(endpoint, "")).await;
    assert!(page.contains("Collector saved"), "a blank token keeps the stored one");
    let (_, token, _) = p.stored().await.unwrap();
    let token = token.unwrap();
    assert!(!token.contains("bearer-T0KEN"), "sealed at rest");
    assert_eq!(key.open(&token).unwrap(), "bearer-T0KEN");

    let page = p.save(&bearer("https://elsewhere.example.com", "")).await;
    assert!(page.contains("The address changed: give the bearer token again."));
    assert_eq!(p.stored().await.unwrap().0, endpoint, "nothing changed");

    let credentials = |endpoint: &'static str, token_url: &'static str, secret: &'static str| {
        vec![
            ("endpoint", endpoint),
            ("provider_subscription", "5b5c0000-0000-4000-8000-000000000001"),
            ("auth_kind", "client_credentials"),
            ("token_url", token_url),
            ("client_id", "app-id"),
            ("client_secret", secret),
            ("scope", "https://adminmanagement.example.com/.default"),
        ]
    };
    let token_url = "https://login.example.com/token";
    p.save(&credentials(endpoint, token_url, "cl13nt-S3CRET")).await;
    let page = p.save(&credentials(endpoint, token_url, "")).await;
    assert!(page.contains("Collector saved"), "a blank client secret keeps the stored one (was a 500)");
    let page = p.save(&credentials(endpoint, "https://attacker.example.com/token", "")).await;
    assert!(page.contains("The address changed: give the client secret again."));
    let (_, _, secret) = p.stored().await.unwrap();
    assert_eq!(key.open(&secret.unwrap()).unwrap(), "cl13nt-S3CRET");

    for secret in ["bearer-T0KEN", "cl13nt-S3CRET"] {
        let leaks: i64 = sqlx::query_scalar(
            "select (select count(*) from audit_events where after::text like '%' || $1 || '%')
                  + (select count(*) from tower_sessions.session where position(convert_to($1, 'UTF8') in data) > 0)",
        )
        .bind(secret)
        .fetch_one(&p.app.pool)
        .await
        .unwrap();
        assert_eq!(leaks, 0, "{secret} is in the audit log or the session table");
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_new_ingestion_key_never_rests_in_clear_text_in_the_session_table(pool: PgPool) {
    let p = signed_in(pool, Outbound::lab()).await;
    let created = p
        .app
        .client
        .post(p.app.url(&format!("/stacks/{}/keys", p.cloud)))
        .header("origin", &p.app.base)
        .form(&[("name", "forwarder")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let sessions: Vec<Vec<u8>> =
        sqlx::query_scalar("select data from tower_sessions.session").fetch_all(&p.app.pool).await.unwrap();

    let page = p.app.page(&format!("/stacks/{}", p.cloud)).await;

    let at = page.find("sbk_").expect("the new key is shown once");
    let key: String = page[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert!(key.len() > 40);
    assert!(
        sessions.iter().all(|data| !data.windows(key.len()).any(|w| w == key.as_bytes())),
        "the key waited in the session table in clear text"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_endpoint_that_never_answers_holds_up_only_its_own_stack(pool: PgPool) {
    use crate::standin_usage_api::{Config, StandIn};
    let standin = StandIn::start(Config::new()).await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    seed_partner(&pool, "Contoso", "hostile").await;
    seed_partner(&pool, "Fabrikam", "honest").await;
    let mut stacks = Vec::new();
    for (name, endpoint, token) in [
        ("hostile", format!("http://{}", silent.local_addr().unwrap()), "t".to_string()),
        ("honest", standin.base.to_string(), Config::new().token),
    ] {
        let mut tx = pool.begin().await.unwrap();
        let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks where name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let stack = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
        let form = CollectorForm {
            endpoint,
            provider_subscription: standin.provider_subscription.to_string(),
            auth_kind: "bearer".into(),
            bearer_token: token,
            enabled: Some("on".into()),
            ..CollectorForm::default()
        };
        save_collector(&mut tx, &Actor::command_line(), &stack, &form, &Outbound::lab(), &test_key()).await.unwrap();
        tx.commit().await.unwrap();
        stacks.push(stack.stack_id);
    }
    // The hostile stack is due first, so a scheduler running collectors one after another would wait on it.
    sqlx::query("update collectors set next_run_at = now() - interval '1 hour' where stack_id = $1")
        .bind(stacks[0])
        .execute(&pool)
        .await
        .unwrap();
    let reach = Reach::new(Outbound::lab(), Arc::new(test_key())).unwrap();
    let schedule = Schedule { tick: Duration::from_millis(50), ..Schedule::default() };
    let scheduler = tokio::spawn(server::collector::run::run_forever(pool.clone(), reach, schedule));

    let honest_done = async {
        loop {
            let done: Option<time::OffsetDateTime> =
                sqlx::query_scalar("select last_success_at from collectors where stack_id = $1")
                    .bind(stacks[1])
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            if done.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let waited = tokio::time::timeout(Duration::from_secs(20), honest_done).await;

    scheduler.abort();
    assert!(waited.is_ok(), "the honest stack's collector waited behind the hostile one");
    let hostile: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select last_success_at from collectors where stack_id = $1")
            .bind(stacks[0])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(hostile.is_none(), "the hostile endpoint is still not answering");
    drop(silent);
}
