//! What the benchmarks share: a fresh database of their own, and the portal served in-process over it.
use leptos::config::LeptosOptions;
use secrecy::SecretString;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use url::Url;
use uuid::Uuid;

use server::config::{DatabaseSettings, OidcSettings, SessionSettings, Settings};
use server::startup::Application;

/// A new database on the server of `DATABASE_URL`, migrated; dropped by [`Bench::finish`].
pub struct Bench {
    admin: PgConnection,
    name: String,
    /// The database's pool.
    pub pool: PgPool,
}

impl Bench {
    /// Creates the database.
    pub async fn start() -> anyhow::Result<Self> {
        let base = std::env::var("DATABASE_URL")
            .map_err(|_| anyhow::anyhow!("set DATABASE_URL (the .ci/bench-* scripts do)"))?;
        let name = format!("stackbill_bench_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&base).await?;
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await?;
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap_or(base.len())]);
        let pool = PgPoolOptions::new().max_connections(16).connect(&url).await?;
        app::db::MIGRATOR.run(&pool).await?;
        Ok(Self { admin, name, pool })
    }

    /// Serves the portal on a free port; returns its base URL. Sign-in is not needed by the benchmarks.
    pub async fn serve(&self) -> anyhow::Result<String> {
        let listener = Application::bind("127.0.0.1:0".parse()?).await?;
        let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let settings = Settings {
            database: DatabaseSettings { url: None, data_dir: "unused".into() },
            oidc: Some(OidcSettings {
                issuer: Url::parse("http://127.0.0.1:9/unused")?,
                client_id: "unused".into(),
                client_secret: SecretString::from("unused"),
                partner_claim: "tid".into(),
                roles_claim: "roles".into(),
                scopes: vec!["openid".into()],
            }),
            session: SessionSettings { cookie_secure: false, idle_minutes: 600, max_hours: 12 },
            public_url: Url::parse(&base)?,
            secret_key: app::domain::secrets::SecretKey::generate(),
            outbound: app::domain::outbound::Outbound::default(),
        };
        let options = LeptosOptions::builder().output_name("stackbill").build();
        let app = Application::build(listener, settings, options, self.pool.clone())?;
        tokio::spawn(app.run_until(std::future::pending()));
        Ok(base)
    }

    /// Drops the database.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        self.pool.close().await;
        // Forced: the connections of the portal served in-process may not have ended yet (bill_bench saw "being
        // accessed by other users").
        sqlx::query(&format!("drop database {} with (force)", self.name)).execute(&mut self.admin).await?;
        Ok(())
    }
}

/// A signed-in session of `user`, as the sign-in flow leaves it (user and end of the session's lifetime), stored once
/// the portal has made its session table; the cookie that carries it.
#[allow(dead_code)] // not every benchmark signs in
pub async fn signed_in(pool: &PgPool, user: Uuid) -> anyhow::Result<String> {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::SessionStore;
    let ends = time::OffsetDateTime::now_utc() + time::Duration::hours(10);
    let mut record = Record {
        id: Id::default(),
        data: std::collections::HashMap::from([
            ("user_id".to_string(), serde_json::json!(user)),
            ("ends_at".to_string(), serde_json::json!(ends.unix_timestamp())),
        ]),
        expiry_date: ends,
    };
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone()).create(&mut record).await?;
    Ok(format!("stackbill_session={}", record.id))
}

/// Registers `stack` Pay-as-you-use with `default` as its default subscription from 2026-01-01.
#[allow(dead_code)] // not every benchmark registers stacks
pub async fn register(conn: &mut PgConnection, stack: Uuid, partner: Uuid, default: Uuid) -> anyhow::Result<()> {
    sqlx::query("insert into registrations (stack_id, partner_id, billing_model) values ($1, $2, 'PayAsYouUse')")
        .bind(stack)
        .bind(partner)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into registration_defaults (stack_id, partner_id, subscription_id, valid_from)
         values ($1, $2, $3, '2026-01-01')",
    )
    .bind(stack)
    .bind(partner)
    .bind(default)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sends usage pages to `url` with `key`, `concurrency` at a time, as a stack does; each page's latency in ms.
#[allow(dead_code)] // not every benchmark sends pages
pub async fn send_pages(url: &str, key: &str, pages: Vec<String>, concurrency: usize) -> anyhow::Result<Vec<f64>> {
    let client = reqwest::Client::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(pages.into_iter()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, client, url, key) = (queue.clone(), client.clone(), url.to_string(), key.to_string());
            tokio::spawn(async move {
                let mut took = Vec::new();
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(body) = next else { return Ok::<_, anyhow::Error>(took) };
                    let t = std::time::Instant::now();
                    let res = client
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await?;
                    anyhow::ensure!(res.status().is_success(), "ingest answered {}", res.status());
                    took.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}
