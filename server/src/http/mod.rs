//! Everything the server answers over HTTP that is not a Leptos page or a feature's form: sign-in, the ingest API,
//! streamed uploads and exports, and the layers in front of all of it. The router is built here.
pub mod auth;
mod bill_exports;
pub mod ingest;
pub mod page_cache;
pub mod security;
pub mod upload;
mod usage_export;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::decompression::RequestDecompressionLayer;
use tower_sessions::cookie::{time::Duration, SameSite};
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use app::bills::forms::{EXPORT_BILL, EXPORT_PERIOD};
use app::shell::{shell, App};
use app::usage::forms::UPLOAD_USAGE;

use crate::state::AppState;

/// The whole portal: pages, server functions, the features' forms, sign-in, the API, sessions, forgery checks and
/// security headers.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let (pool, key, options) = (state.pool.clone(), state.settings.secret_key.clone(), state.leptos_options.clone());
    // What every page's server functions need; the not-found page too (it shows who is signed in).
    let context = move || {
        provide_context(pool.clone());
        provide_context(key.clone());
        provide_context(app::auth::api::ssr::UserOfRequest::default());
    };
    Router::new()
        .merge(outside_pages())
        .merge(app::form_routes::routes())
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(middleware::from_fn(security::server_fn_status))
        .layer(middleware::from_fn_with_state(state.clone(), page_cache::serve))
        .layer(middleware::from_fn_with_state(state.origin.clone(), security::check_origin))
        .layer(middleware::from_fn(security::limit))
        .layer(middleware::from_fn(security::api_errors_as_json))
        .layer(sessions(&state))
        .layer(middleware::from_fn(security::headers))
        // Pages, the bundle and exports compressed (brotli or gzip, as the browser accepts) at a level that keeps
        // the CPU cost per page small; the bundle's files are the same on every request and cached for a year.
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
        .with_state(state)
}

/// The routes that are not a feature's form or page: sign-in, health, the ingest API, uploads and exports.
fn outside_pages() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/logout", post(auth::logout))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/stacks/{cloud_id}/usage", api(post(ingest::usage)))
        .route("/api/v1/stacks/{cloud_id}/subscriptions", api(post(ingest::subscriptions)))
        .route("/api/v1/openapi.json", get(ingest::openapi))
        .route(UPLOAD_USAGE.pattern(), post(upload::upload).layer(DefaultBodyLimit::max(security::MAX_UPLOAD)))
        .route(EXPORT_BILL.pattern(), get(bill_exports::export_bill))
        .route(EXPORT_PERIOD.pattern(), get(bill_exports::export_period))
        .route(app::recon::forms::EXPORT_RECON.pattern(), get(bill_exports::export_recon))
        .route("/exports/usage", get(usage_export::export))
}

/// An ingest API route: gzip bodies are inflated (within the limit), larger ones refused.
fn api(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route
        .layer::<_, std::convert::Infallible>(RequestDecompressionLayer::new())
        .layer(DefaultBodyLimit::max(security::MAX_BODY))
}

/// Sessions in PostgreSQL (expired ones deleted every 5 minutes), the cookie `Lax` so the provider's redirect back
/// carries it, ending after the configured idle time.
fn sessions(state: &AppState) -> SessionManagerLayer<PostgresStore> {
    let store = PostgresStore::new(state.pool.clone());
    tokio::spawn(store.clone().continuously_delete_expired(tokio::time::Duration::from_secs(300)));
    SessionManagerLayer::new(store)
        .with_name("stackbill_session")
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.session.cookie_secure)
        .with_http_only(true)
        .with_expiry(Expiry::OnInactivity(Duration::minutes(state.settings.session.idle_minutes)))
}
