//! Every feature's form routes in one router, for the server (the one place that knows every feature's writes).
/// Every feature's form routes, for the server's router. The state must offer the pool, the secret key (ingestion
/// keys and collector secrets are sealed), the outbound rules (the collector's addresses are checked) and Leptos'
/// options (the pages that ask before an irreversible post link the stylesheet).
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    sqlx::PgPool: axum::extract::FromRef<S>,
    crate::domain::outbound::Outbound: axum::extract::FromRef<S>,
    crate::domain::secrets::SecretKey: axum::extract::FromRef<S>,
    leptos::config::LeptosOptions: axum::extract::FromRef<S>,
{
    axum::Router::new()
        .merge(crate::stacks::writes::routes())
        .merge(crate::registrations::writes::routes())
        .merge(crate::keys::writes::routes())
        .merge(crate::collector::writes::routes())
        .merge(crate::bills::writes::routes())
        .merge(crate::directory::writes::routes())
        .merge(crate::partners::writes::routes())
        .merge(crate::pricing::writes::routes())
        .merge(crate::recon::writes::routes())
        .merge(crate::webhooks::writes::routes())
}
