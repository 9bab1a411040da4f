//! The operator's price-list and meter-map imports: all rows or none; the stacks are then re-rated in the
//! background (a queued job per stack), and bills say so until it is done.
use axum::extract::{FromRef, Multipart, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use sqlx::PgPool;

use super::forms::{IMPORT_METER_MAP, IMPORT_PRICES};
use super::{db, import};
use crate::web::caller::Operator;
use crate::web::import::{import_file, OPERATOR};
use crate::AppError;

/// The pricing routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route(IMPORT_PRICES.pattern(), post(prices)).route(IMPORT_METER_MAP.pattern(), post(meter_map))
}

fn imported(what: &str, summary: impl std::fmt::Display) -> String {
    format!("{what} imported: {summary}. Stacks are re-rated in the background; bills say so until done.")
}

/// `POST /operator/prices/import`
async fn prices(State(pool): State<PgPool>, Operator(caller): Operator, form: Multipart) -> Result<Redirect, AppError> {
    import_file(&pool, &caller, form, ("Price list", OPERATOR), import::parse_prices, async |tx, actor, _, file| {
        Ok(imported("Price list", db::import_prices(tx, actor, file).await?))
    })
    .await
}

/// `POST /operator/meters/import`
async fn meter_map(
    State(pool): State<PgPool>,
    Operator(caller): Operator,
    form: Multipart,
) -> Result<Redirect, AppError> {
    import_file(&pool, &caller, form, ("Meter map", OPERATOR), import::parse_meter_map, async |tx, actor, _, rows| {
        Ok(imported("Meter map", db::import_meter_map(tx, actor, rows).await?))
    })
    .await
}
