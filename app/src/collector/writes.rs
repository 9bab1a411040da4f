//! Saving the collector's settings from the stack page: the addresses are checked against the operator's outbound
//! rules and the secrets sealed before they are stored.
use axum::extract::{FromRef, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;

use super::db::save_collector;
use super::forms::{CollectorForm, SAVE_COLLECTOR};
use crate::domain::outbound::Outbound;
use crate::domain::secrets::SecretKey;
use crate::stacks::writes::StackChange;
use crate::web::caller::Writer;
use crate::web::FormId;
use crate::AppError;

/// The collector route, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    Outbound: FromRef<S>,
    SecretKey: FromRef<S>,
{
    Router::new().route(SAVE_COLLECTOR.pattern(), post(save))
}

/// `POST /stacks/{cloud_id}/collector`
async fn save(
    State(pool): State<PgPool>,
    State(outbound): State<Outbound>,
    State(key): State<SecretKey>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<CollectorForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = save_collector(&mut c.tx, &c.actor, &c.stack, &f, &outbound, &key).await;
    let ok = if f.enabled.is_some() {
        "Collector saved; it runs within a minute, then hourly."
    } else {
        "Collector saved (off)."
    };
    c.finish(result, FormId::Collector, ok).await
}
