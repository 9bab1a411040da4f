//! The stack page's registration and tenant-subscription writes: one transaction each, the rules of PRODUCT §3
//! checked in `db`, the outcome as a flash beside the form.
use axum::extract::{FromRef, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;
use uuid::Uuid;

use super::db::{mappings_version, set_registration};
use super::forms::{MappingForm, RegistrationForm, RemoveMappingForm, MAP_TENANT, SET_REGISTRATION, UNMAP_TENANT};
use super::mappings::{map_tenant, tenant_of_subscription, unmap_tenant, Expect};
use crate::domain::BillingModel;
use crate::stacks::writes::{guid, StackChange};
use crate::web::caller::Writer;
use crate::web::form::datetime_local;
use crate::web::FormId;
use crate::AppError;

/// The registration routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new()
        .route(SET_REGISTRATION.pattern(), post(registration))
        .route(MAP_TENANT.pattern(), post(add_mapping))
        .route(UNMAP_TENANT.pattern(), post(remove_mapping))
}

const EFFECTIVE_FROM: &str = "effective from";

/// `POST /stacks/{cloud_id}/registration`
async fn registration(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RegistrationForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = async {
        let sub = guid("default subscription", f.subscription())?;
        let model = BillingModel::parse(&f.billing_model)?;
        let from = datetime_local(EFFECTIVE_FROM, &f.effective_from)?;
        set_registration(&mut c.tx, &c.actor, &c.stack, model, sub, from).await
    }
    .await;
    c.finish(result, FormId::Registration, "Registration saved.").await
}

/// `POST /stacks/{cloud_id}/mappings`: adds or replaces, refused when the page was rendered before another change.
async fn add_mapping(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<MappingForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = async {
        let seen = mappings_version(&mut c.tx, &c.stack).await?;
        if f.version.is_some_and(|v| v != seen) {
            return Err(AppError::Conflict(
                "someone changed this stack's tenant subscriptions a moment ago; review the list and try again".into(),
            ));
        }
        let sub = guid("subscription", f.subscription())?;
        let at = datetime_local(EFFECTIVE_FROM, &f.effective_from)?;
        let tenant = if f.tenant.trim().is_empty() {
            // The tenant the directory names; R9 refuses unknown subscriptions in map_tenant anyway.
            tenant_of_subscription(&mut c.tx, sub).await?.unwrap_or(Uuid::nil())
        } else {
            guid("directory tenant", &f.tenant)?
        };
        map_tenant(&mut c.tx, &c.actor, &c.stack, tenant, sub, at, Expect::Anything).await
    }
    .await;
    c.finish(result, FormId::Mapping, "Tenant subscription saved.").await
}

/// `POST /stacks/{cloud_id}/mappings/remove`
async fn remove_mapping(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RemoveMappingForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = async {
        let tenant = guid("directory tenant", &f.tenant)?;
        let expect = match f.expected_current.trim() {
            "" => Expect::Anything,
            current => Expect::Current(Some(guid("subscription", current)?)),
        };
        let at = datetime_local(EFFECTIVE_FROM, &f.effective_from)?;
        unmap_tenant(&mut c.tx, &c.actor, &c.stack, tenant, at, expect).await
    }
    .await;
    let ok = "Tenant subscription removed; its later usage goes to the default subscription.";
    c.finish(result, FormId::Mapping, ok).await
}
