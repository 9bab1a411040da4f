//! Building the router and serving it; the tests use exactly this path (STYLE L10).
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use app::shell::{shell, App};

use crate::auth_routes;
use crate::bills_routes;
use crate::config::Settings;
use crate::forms;
use crate::ingest;
use crate::oidc::Oidc;
use crate::operator_forms;
use crate::security::{self, AllowedOrigin};
use crate::stack_forms;
use crate::state::AppState;

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
            heavy: Arc::new(tokio::sync::Semaphore::new(crate::state::heavy_share(
                pool.options().get_max_connections(),
            ))),
        };
        Ok(Self { listener, router: router(state) })
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

/// The whole portal: pages, server functions, sign-in routes, sessions, forgery checks and security headers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let store = PostgresStore::new(state.pool.clone());
    tokio::spawn(store.clone().continuously_delete_expired(tokio::time::Duration::from_secs(300)));
    let sessions = SessionManagerLayer::new(store)
        .with_name("stackbill_session")
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.session.cookie_secure)
        .with_http_only(true)
        .with_expiry(Expiry::OnInactivity(Duration::minutes(state.settings.session.idle_minutes)));
    let pool = state.pool.clone();
    let key = state.settings.secret_key.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/auth/login", get(auth_routes::login))
        .route("/auth/callback", get(auth_routes::callback))
        .route("/auth/logout", post(auth_routes::logout))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/v1/stacks/{cloud_id}/usage",
            post(ingest::usage)
                .layer::<_, std::convert::Infallible>(tower_http::decompression::RequestDecompressionLayer::new())
                .layer(axum::extract::DefaultBodyLimit::max(ingest::MAX_BODY)),
        )
        .route(
            "/api/v1/stacks/{cloud_id}/subscriptions",
            post(ingest::subscriptions)
                .layer::<_, std::convert::Infallible>(tower_http::decompression::RequestDecompressionLayer::new())
                .layer(axum::extract::DefaultBodyLimit::max(ingest::MAX_BODY)),
        )
        .route("/api/v1/openapi.json", get(ingest::openapi))
        .route("/stacks", post(forms::add_stack))
        .route("/operator/directory/import", post(operator_forms::import_directory))
        .route("/operator/directory/status", post(operator_forms::set_status))
        .route("/operator/partners", post(operator_forms::add_partner))
        .route("/operator/prices/import", post(crate::pricing_forms::import_prices))
        .route("/operator/meters/import", post(crate::pricing_forms::import_meter_map))
        .route("/bills/markup", post(bills_routes::default_markup))
        .route("/bills/{period}/{subscription}/markup", post(bills_routes::customer_markup))
        .route("/bills/{period}/{subscription}/{action}", post(bills_routes::change_status))
        .route("/exports/bills/{period}", get(bills_routes::export_period))
        .route("/exports/usage", get(crate::usage_export::export))
        .route("/exports/bills/{period}/{subscription}", get(bills_routes::export_bill))
        .route("/stacks/{cloud_id}/registration", post(forms::registration))
        .route("/stacks/{cloud_id}/rename", post(forms::rename))
        .route("/stacks/{cloud_id}/mappings", post(forms::add_mapping))
        .route("/stacks/{cloud_id}/mappings/remove", post(forms::remove_mapping))
        .route("/stacks/{cloud_id}/keys", post(stack_forms::create))
        .route("/stacks/{cloud_id}/keys/revoke", post(stack_forms::revoke))
        .route("/stacks/{cloud_id}/collector", post(stack_forms::collector))
        .route(
            "/stacks/{cloud_id}/usage/upload",
            post(stack_forms::upload).layer(axum::extract::DefaultBodyLimit::max(stack_forms::MAX_UPLOAD)),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(pool.clone());
                provide_context(key.clone());
                provide_context(app::auth::api::ssr::UserOfRequest::default());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), security::writers_only))
        .layer(middleware::from_fn(security::server_fn_status))
        .layer(middleware::from_fn_with_state(state.origin.clone(), security::check_origin))
        .layer(middleware::from_fn(security::limit))
        .layer(middleware::from_fn(security::api_errors_as_json))
        .layer(sessions)
        .layer(middleware::from_fn(security::headers))
        .with_state(state)
}
