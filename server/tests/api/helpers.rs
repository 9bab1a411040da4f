//! `spawn_app()`: the real router on port 0 over a test database, with a fake identity provider.
use std::sync::LazyLock;

use leptos::config::LeptosOptions;
use reqwest::header::{HeaderMap, LOCATION};
use secrecy::SecretString;
use sqlx::PgPool;
use url::Url;
use uuid::Uuid;

use app::audit::Actor;
use app::partners::NewPartner;
use server::config::{DatabaseSettings, OidcSettings, SessionSettings, Settings};
use server::startup::Application;

use crate::fake_idp::{FakeIdp, TokenSpec, CLIENT_ID, CLIENT_SECRET};

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init("debug,sqlx=warn");
    }
});

pub struct TestApp {
    pub base: String,
    pub pool: PgPool,
    pub idp: FakeIdp,
    /// A browser-like client: keeps cookies, follows no redirects, sends this portal's Origin on POSTs.
    pub client: reqwest::Client,
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, |_| {}).await
}

/// [`spawn_app`] with settings changed by `configure` (the tests' defaults: a lab's outbound rules, 60-minute idle
/// sessions).
pub async fn spawn_app_with(pool: PgPool, configure: impl FnOnce(&mut Settings)) -> TestApp {
    LazyLock::force(&TRACING);
    let idp = FakeIdp::start().await;
    let listener = Application::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let mut settings = Settings {
        database: DatabaseSettings { url: None, data_dir: "unused".into() },
        oidc: Some(OidcSettings {
            issuer: Url::parse(&idp.issuer).unwrap(),
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(CLIENT_SECRET),
            partner_claim: "tid".into(),
            roles_claim: "roles".into(),
            scopes: vec!["openid".into(), "profile".into()],
        }),
        session: SessionSettings { cookie_secure: false, idle_minutes: 60, max_hours: 12 },
        public_url: Url::parse(&base).unwrap(),
        secret_key: test_key(),
        // The stand-in usage API listens on loopback over http.
        outbound: app::domain::outbound::Outbound::lab(),
    };
    configure(&mut settings);
    let options = LeptosOptions::builder().output_name("stackbill").build();
    // The server gets a pool of its own on the test's database: its background tasks (session clean-up, requests in
    // flight) are cut off when the test's runtime ends, and must not hold connections of sqlx's shared test pool.
    let server_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect_with(server::database::with_deadlines((*pool.connect_options()).clone()))
        .await
        .unwrap();
    let watched = pool.clone();
    let app = Application::build(listener, settings, options, server_pool).unwrap().map_router(|router| {
        router.layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            watchdog(watched.clone(), req, next)
        }))
    });
    tokio::spawn(app.run_until(std::future::pending()));
    // A request that hangs fails the test naming its address (reqwest's error carries it), instead of holding the
    // suite until CI's own limit.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap();
    TestApp { base, pool, idp, client }
}

/// A request unanswered after this long is reported (its address, and what the test database's sessions are doing):
/// pages answer in milliseconds, and the server gives up at 60 seconds.
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(15);

/// Passes every request on; one still unanswered after [`STUCK_AFTER`] is reported on the test's output, with
/// PostgreSQL's view of the test database, so a failure says where it waited.
async fn watchdog(pool: PgPool, req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let what = format!("{} {}", req.method(), req.uri());
    let answer = next.run(req);
    tokio::pin!(answer);
    tokio::select! {
        res = &mut answer => return res,
        () = tokio::time::sleep(STUCK_AFTER) => {}
    }
    // (state, wait event, time in transaction, query)
    type Session = (Option<String>, Option<String>, Option<String>, Option<String>);
    let activity: Vec<Session> = sqlx::query_as(
        "select state, wait_event_type || ':' || wait_event, (now() - xact_start)::text, left(query, 200)
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
    )
    .fetch_all(&pool)
    .await
    .unwrap_or_default();
    eprintln!("watchdog: {what} unanswered after {STUCK_AFTER:?}; the database's sessions (state, wait, in transaction for, query):");
    for row in activity {
        eprintln!("watchdog:   {row:?}");
    }
    let res = answer.await;
    eprintln!("watchdog: {what} answered {}", res.status());
    res
}

/// The authorize request the portal sent the browser to.
pub struct Authorize {
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub params: std::collections::HashMap<String, String>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, origin: Option<&str>) -> reqwest::Response {
        let mut req = self.client.post(self.url(path));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Follows the portal's sign-in link and reads the provider URL it redirects to.
    pub async fn start_sign_in(&self) -> Authorize {
        let res = self.get("/auth/login").await;
        assert!(res.status().is_redirection(), "sign-in should redirect, got {}", res.status());
        let location = Url::parse(res.headers()[LOCATION].to_str().unwrap()).unwrap();
        self.start_sign_in_from(location)
    }

    /// Reads the provider URL a sign-in redirected to.
    pub fn start_sign_in_from(&self, location: Url) -> Authorize {
        assert!(location.as_str().starts_with(&self.idp.issuer), "redirects to the provider: {location}");
        let params: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
        Authorize {
            state: params["state"].clone(),
            nonce: params["nonce"].clone(),
            code_challenge: params["code_challenge"].clone(),
            params,
        }
    }

    /// Plays the provider's redirect back to the portal.
    pub async fn callback(&self, state: &str) -> reqwest::Response {
        self.get(&format!("/auth/callback?code=test-code&state={state}")).await
    }

    /// A complete sign-in of a user with these claims; returns the callback's response.
    pub async fn sign_in(&self, subject: &str, tid: Option<Uuid>, roles: &[&str]) -> reqwest::Response {
        let auth = self.start_sign_in().await;
        self.idp.will_issue(spec(&auth, subject, tid, roles));
        self.callback(&auth.state).await
    }

    pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
        headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("stackbill_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
    }
}

/// A token spec that answers `auth` correctly; tests then spoil one field.
pub fn spec(auth: &Authorize, subject: &str, tid: Option<Uuid>, roles: &[&str]) -> TokenSpec {
    TokenSpec {
        subject: subject.into(),
        name: format!("User {subject}"),
        tid: tid.map(|t| t.to_string()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        nonce: auth.nonce.clone(),
        audience: CLIENT_ID.into(),
        code_challenge: auth.code_challenge.clone(),
    }
}

/// The directory tenant of the partner named `name` (signs its users in).
pub async fn partner_tenant(pool: &PgPool, name: &str) -> Uuid {
    sqlx::query_scalar("select directory_tenant_id from partners where name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A partner with one stack, added through the domain code; returns (partner ID, directory tenant).
pub async fn seed_partner(pool: &PgPool, name: &str, stack: &str) -> (Uuid, Uuid) {
    let (partner_id, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let new = NewPartner::parse(name, &partner_id.to_string(), "1234567", &tenant.to_string(), "USD").unwrap();
    let mut tx = pool.begin().await.unwrap();
    app::partners::db::add_partner(&mut tx, &Actor::command_line(), &new).await.unwrap();
    sqlx::query("insert into stacks (partner_id, name, cloud_id, region) values ($1, $2, $3, 'Test region')")
        .bind(partner_id)
        .bind(stack)
        .bind(Uuid::new_v4())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (partner_id, tenant)
}

/// An active directory subscription of `partner`'s customer `tenant`, named "Northwind".
pub async fn directory_subscription(pool: &PgPool, partner: Uuid, tenant: Uuid, offer: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("insert into commerce_subscriptions values ($1, $2, $3, $4, 'Northwind', 'active')")
        .bind(id)
        .bind(offer)
        .bind(partner)
        .bind(tenant)
        .execute(pool)
        .await
        .unwrap();
    id
}

/// The URL of the test's own database, for processes started by the test.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool.connect_options().get_database().unwrap_or_default().to_string();
    match base.rfind('/') {
        Some(i) => format!("{}/{db}", &base[..i]),
        None => base,
    }
}

/// The secret key every test server seals with (one per test binary), so tests can open what the server sealed.
pub fn test_key() -> app::domain::secrets::SecretKey {
    static KEY: LazyLock<app::domain::secrets::SecretKey> = LazyLock::new(app::domain::secrets::SecretKey::generate);
    KEY.clone()
}
