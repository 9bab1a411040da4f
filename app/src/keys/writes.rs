//! Creating and revoking ingestion keys from the stack page. A new key is shown once: it goes to the session sealed
//! and is opened only for the page view after the redirect.
use axum::extract::{FromRef, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use uuid::Uuid;

use super::db::{create_key, revoke_key};
use super::forms::{NewKeyForm, RevokeKeyForm, CREATE_KEY, REVOKE_KEY};
use crate::domain::secrets::SecretKey;
use crate::stacks::forms::STACK_PAGE;
use crate::stacks::writes::StackChange;
use crate::web::caller::Writer;
use crate::web::confirm::{self, Question};
use crate::web::FormId;
use crate::AppError;

/// The key routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    SecretKey: FromRef<S>,
    LeptosOptions: FromRef<S>,
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
    State(options): State<LeptosOptions>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RevokeKeyForm>,
) -> Result<Response, AppError> {
    let key_id = Uuid::parse_str(f.key_id.trim()).map_err(|_| AppError::NotFound)?;
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    if !confirm::answered(&f.confirmed) {
        let name = match super::db::key_name(&mut c.tx, c.stack.stack_id, key_id).await {
            Ok(name) => name,
            Err(e) => return Ok(c.finish(Err(e), FormId::Keys, "").await?.into_response()),
        };
        let question = Question {
            question: format!("Revoke the ingestion key {name} of {}?", c.stack.name),
            consequence: "Requests with it are refused from now on; a revoked key cannot be used again.".into(),
            action: REVOKE_KEY.at(&[&c.stack.cloud_id]),
            fields: vec![(RevokeKeyForm::FIELDS.key_id, key_id.to_string())],
            button: "Revoke",
            back: STACK_PAGE.at(&[&c.stack.cloud_id]),
        };
        return Ok(confirm::page(&options, question));
    }
    let result = revoke_key(&mut c.tx, &c.actor, &c.stack, key_id).await;
    Ok(c.finish(result, FormId::Keys, "Key revoked: requests with it are refused from now on.").await?.into_response())
}
