//! The web layer every feature's writes share: typed routes and forms (both targets), the flash shown after a post,
//! and — on the server — the one caller extractor and the one error policy (see the README's "Architecture").
pub mod flash;
pub mod form;
pub mod route;

#[cfg(feature = "ssr")]
pub mod caller;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod respond;

pub use flash::{Flash, FormId};
pub use route::Route;

/// Every feature's form routes, for the server's router. The state must offer the pool, the secret key (ingestion
/// keys and collector secrets are sealed) and the outbound rules (the collector's addresses are checked).
#[cfg(feature = "ssr")]
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    sqlx::PgPool: axum::extract::FromRef<S>,
    crate::domain::outbound::Outbound: axum::extract::FromRef<S>,
    crate::domain::secrets::SecretKey: axum::extract::FromRef<S>,
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
}
