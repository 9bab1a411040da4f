//! The operator's directory writes: the import (all rows or none) and one subscription's status.
use axum::extract::{FromRef, Multipart, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;

use super::forms::{StatusForm, IMPORT_DIRECTORY, SET_STATUS};
use crate::domain::SubscriptionStatus;
use crate::operator::forms::OPERATOR_PAGE;
use crate::web::caller::Operator;
use crate::web::import::{import_file, refused, OPERATOR};
use crate::web::respond::back;
use crate::web::FormId;
use crate::AppError;

/// The directory routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route(IMPORT_DIRECTORY.pattern(), post(import)).route(SET_STATUS.pattern(), post(set_status))
}

/// `POST /operator/directory/import`
async fn import(State(pool): State<PgPool>, Operator(caller): Operator, form: Multipart) -> Result<Redirect, AppError> {
    import_file(&pool, &caller, form, ("Import", OPERATOR), super::import::parse, async |tx, actor, _, rows| {
        let s = super::db::import(tx, actor, rows).await.map_err(|e| refused("Import", &e))?;
        Ok(format!("Directory imported: {} added, {} updated, {} unchanged.", s.added, s.updated, s.unchanged))
    })
    .await
}

/// `POST /operator/directory/status`
async fn set_status(
    State(pool): State<PgPool>,
    Operator(caller): Operator,
    Form(f): Form<StatusForm>,
) -> Result<Redirect, AppError> {
    let result = async {
        let id = uuid::Uuid::parse_str(f.subscription_id.trim()).map_err(|_| AppError::NotFound)?;
        let status = SubscriptionStatus::parse(&f.status)?;
        let mut tx = pool.begin().await?;
        super::db::set_status(&mut tx, &caller.actor(), id, status).await?;
        tx.commit().await?;
        Ok(format!("Subscription {id} is now {}.", status.as_str()))
    }
    .await;
    back(&caller.session, OPERATOR_PAGE.pattern(), FormId::Operator, result).await
}
