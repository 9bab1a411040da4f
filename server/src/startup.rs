//! Building the router and serving it; the tests use exactly this path (STYLE L10).
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::http::router;
use crate::oidc::Oidc;
use crate::state::{AllowedOrigin, AppState};

/// A bound, not yet running, portal.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Listens on `addr` (port 0 picks a free port); bind first, so the public URL can name the real port.
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
        TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))
    }

    /// Builds the router over `pool`, to be served on `listener`.
    pub fn build(
        listener: TcpListener,
        settings: Settings,
        leptos_options: LeptosOptions,
        pool: PgPool,
    ) -> anyhow::Result<Self> {
        let oidc = Oidc::new(settings.require_oidc()?.clone(), &settings.public_url)?;
        let state = AppState {
            leptos_options,
            origin: AllowedOrigin::from_public_url(&settings.public_url),
            pool: pool.clone(),
            oidc: Arc::new(oidc),
            settings: Arc::new(settings),
            in_flight: Arc::default(),
            spooling: Default::default(),
            pages: Arc::default(),
            heavy: Arc::new(tokio::sync::Semaphore::new(crate::state::heavy_share(
                pool.options().get_max_connections(),
            ))),
        };
        Ok(Self { listener, router: router(state) })
    }

    /// Wraps the router (the tests add a watchdog that reports requests stuck for long).
    pub fn map_router(self, wrap: impl FnOnce(Router) -> Router) -> Self {
        Self { router: wrap(self.router), ..self }
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        Ok(())
    }
}
