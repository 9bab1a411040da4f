//! Connecting to PostgreSQL: `DATABASE_URL`, or the private cluster.
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::DatabaseSettings;
use crate::pg::PrivateCluster;

/// An open pool, plus the private cluster when the portal runs its own.
pub struct Database {
    /// The pool every request uses.
    pub pool: PgPool,
    /// Present when `DATABASE_URL` is unset; stop it on exit.
    pub cluster: Option<PrivateCluster>,
}

/// No statement runs longer than [`STATEMENT_TIMEOUT`], and a transaction left idle (a request that stopped midway)
/// is ended after [`IDLE_IN_TRANSACTION_TIMEOUT`], so neither can hold locks or a connection for ever.
pub fn with_deadlines(options: PgConnectOptions) -> PgConnectOptions {
    options.options([
        ("statement_timeout", format!("{}s", STATEMENT_TIMEOUT.as_secs())),
        ("idle_in_transaction_session_timeout", format!("{}s", IDLE_IN_TRANSACTION_TIMEOUT.as_secs())),
    ])
}

/// The longest one SQL statement may run (a re-rate of a large stack included).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest a transaction may sit idle between statements.
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

impl Database {
    /// Connects (starting the private cluster if needed) and applies the migrations; with `deadlines`, the pool's
    /// connections get [`with_deadlines`] (the portal; commands run without).
    pub async fn open(settings: &DatabaseSettings, deadlines: bool) -> anyhow::Result<Self> {
        let (options, cluster) = match &settings.url {
            Some(url) => {
                let options: PgConnectOptions =
                    url.expose_secret().parse().context("DATABASE_URL is not a valid postgres:// URL")?;
                (options, None)
            }
            None => {
                let cluster = PrivateCluster::ensure(&settings.data_dir)
                    .await
                    .context("cannot start the private PostgreSQL cluster (or set DATABASE_URL)")?;
                (cluster.connect_options(), Some(cluster))
            }
        };
        // Migrations may run long (a rewrite of a big table): on a connection of their own, without deadlines.
        let mut migrating: sqlx::PgConnection =
            sqlx::Connection::connect_with(&options).await.with_context(|| match settings.url {
                Some(_) => "cannot connect to the database named by DATABASE_URL".to_string(),
                None => "cannot connect to the private PostgreSQL cluster".to_string(),
            })?;
        app::db::MIGRATOR.run(&mut migrating).await.context("database migrations failed")?;
        sqlx::Connection::close(migrating).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(if deadlines { with_deadlines(options) } else { options })
            .await
            .with_context(|| match settings.url {
                Some(_) => "cannot connect to the database named by DATABASE_URL".to_string(),
                None => "cannot connect to the private PostgreSQL cluster".to_string(),
            })?;
        Ok(Self { pool, cluster })
    }

    /// Closes the pool and stops the private cluster if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            cluster.stop_if_started_here().await?;
        }
        Ok(())
    }
}
