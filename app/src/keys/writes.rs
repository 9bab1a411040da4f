//! Creating and revoking ingestion keys from the stack page. A new key is shown once: it goes to the session sealed
//! and is opened only for the page view after the redirect.
use axum::extract::{FromRef, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;
use uuid::Uuid;

use super::db::{create_key, revoke_key};
use super::forms::{NewKeyForm, RevokeKeyForm, CREATE_KEY, REVOKE_KEY};
use crate::domain::secrets::SecretKey;
use crate::stacks::writes::StackChange;
use crate::web::caller::Writer;
use crate::web::FormId;
use crate::AppError;

/// The key routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    SecretKey: FromRef<S>,
{
    Router::new().route(CREATE_KEY.pattern(), post(create)).route(REVOKE_KEY.pattern(), post(revoke))
}

/// `POST /stacks/{cloud_id}/keys`
async fn create(
    State(pool): State<PgPool>,
    State(key): State<SecretKey>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<NewKeyForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = match create_key(&mut c.tx, &c.actor, &c.stack, &f.name).await {
        Ok(secret) => c.session.put_new_key(key.seal(&secret)).await,
        Err(e) => Err(e),
    };
    c.finish(result, FormId::Keys, &format!("Key “{}” created.", f.name.trim())).await
}

/// `POST /stacks/{cloud_id}/keys/revoke`
async fn revoke(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RevokeKeyForm>,
) -> Result<Redirect, AppError> {
    let key_id = Uuid::parse_str(f.key_id.trim()).map_err(|_| AppError::NotFound)?;
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = revoke_key(&mut c.tx, &c.actor, &c.stack, key_id).await;
    c.finish(result, FormId::Keys, "Key revoked: requests with it are refused from now on.").await
}
