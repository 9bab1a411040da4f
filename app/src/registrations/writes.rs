//! The stack page's registration and tenant-subscription writes: one transaction each, the rules of PRODUCT §3
//! checked in `db`, the outcome as a flash beside the form.
use axum::extract::{FromRef, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use uuid::Uuid;

use super::db::{mappings_version, set_registration};
use super::forms::{MappingFields, MappingForm, RegistrationFields, RegistrationForm, RemoveMappingForm};
use super::forms::{MAP_TENANT, SET_REGISTRATION, UNMAP_TENANT};
use super::mappings::{map_tenant, tenant_of_subscription, unmap_tenant, Expect};
use crate::domain::BillingModel;
use crate::stacks::writes::{guid, StackChange};
use crate::web::caller::Writer;
use crate::web::confirm::{self, Question};
use crate::web::form::datetime_local;
use crate::web::FormId;
use crate::AppError;

/// The registration routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    LeptosOptions: FromRef<S>,
{
    Router::new()
        .route(SET_REGISTRATION.pattern(), post(registration))
        .route(MAP_TENANT.pattern(), post(add_mapping))
        .route(UNMAP_TENANT.pattern(), post(remove_mapping))
}

const EFFECTIVE_FROM: &str = "effective from";

/// Which of a subscription's two inputs the user filled: the typed ID when one was typed, else the picker.
fn given_input<'a>((picker, typed_input): (&'a str, &'a str), typed: &str) -> &'a str {
    if typed.trim().is_empty() {
        picker
    } else {
        typed_input
    }
}

/// A value refused as unreadable belongs beside its `input`.
fn beside(input: &str) -> impl Fn(AppError) -> AppError + '_ {
    move |e| match e {
        AppError::Validation(message) => AppError::Rule { field: input.into(), message },
        e => e,
    }
}

/// A rule's refusal of the subscription (the rules name the picker) is moved beside the input the user filled.
fn moved<'a>(picker: &'a str, given: &'a str) -> impl Fn(AppError) -> AppError + 'a {
    move |e| match e {
        AppError::Rule { field, message } if field == picker => AppError::Rule { field: given.into(), message },
        e => e,
    }
}

/// `POST /stacks/{cloud_id}/registration`
async fn registration(
    State(pool): State<PgPool>,
    State(options): State<LeptosOptions>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RegistrationForm>,
) -> Result<Response, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?.keeping(f.typed());
    const F: RegistrationFields = RegistrationForm::FIELDS;
    let given = given_input((F.default_subscription, F.default_subscription_id), &f.default_subscription_id);
    // A customer's CSP subscription as the default bills every unmapped tenant's usage to that customer: asked first.
    if let (false, Ok(sub)) = (confirm::answered(&f.confirmed), Uuid::parse_str(f.subscription())) {
        if let Some(customer) = super::db::customer_default(&mut c.tx, &c.stack, sub).await? {
            return Ok(confirm::page(&options, default_question(&c, &f, &customer)));
        }
    }
    let result = async {
        let sub = guid("default subscription", f.subscription()).map_err(beside(given))?;
        let model = BillingModel::parse(&f.billing_model).map_err(beside(F.billing_model))?;
        let from = datetime_local(EFFECTIVE_FROM, &f.effective_from).map_err(beside(F.effective_from))?;
        set_registration(&mut c.tx, &c.actor, &c.stack, model, sub, from).await
    }
    .await
    .map_err(moved(F.default_subscription, given));
    Ok(c.finish(result, FormId::Registration, "Registration saved.").await?.into_response())
}

/// "Make Fourth Coffee's subscription the default of ams-01?", with the form's fields to post answered.
fn default_question(c: &StackChange, f: &RegistrationForm, customer: &str) -> Question {
    const F: RegistrationFields = RegistrationForm::FIELDS;
    let cloud = c.stack.cloud_id;
    Question {
        question: format!("Make {customer}'s subscription the default of {}?", c.stack.name),
        consequence: format!(
            "All usage of tenants without their own subscription on this stack will be billed to {customer}."
        ),
        action: SET_REGISTRATION.at(&[&cloud]),
        fields: vec![
            (F.default_subscription, f.default_subscription.clone()),
            (F.default_subscription_id, f.default_subscription_id.clone()),
            (F.billing_model, f.billing_model.clone()),
            (F.effective_from, f.effective_from.clone()),
        ],
        button: "Make it the default",
        back: crate::stacks::forms::STACK_PAGE.at(&[&cloud]),
    }
}

/// `POST /stacks/{cloud_id}/mappings`: adds or replaces, refused when the page was rendered before another change.
async fn add_mapping(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<MappingForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?.keeping(f.typed());
    const F: MappingFields = MappingForm::FIELDS;
    let given = given_input((F.subscription, F.subscription_id), &f.subscription_id);
    let result = async {
        let seen = mappings_version(&mut c.tx, &c.stack).await?;
        if f.version.is_some_and(|v| v != seen) {
            return Err(AppError::Conflict(
                "someone changed this stack's tenant subscriptions a moment ago; review the list and try again".into(),
            ));
        }
        let sub = guid("subscription", f.subscription()).map_err(beside(given))?;
        let at = datetime_local(EFFECTIVE_FROM, &f.effective_from).map_err(beside(F.effective_from))?;
        let tenant = if f.tenant.trim().is_empty() {
            // The tenant the directory names; R9 refuses unknown subscriptions in map_tenant anyway.
            tenant_of_subscription(&mut c.tx, sub).await?.unwrap_or(Uuid::nil())
        } else {
            guid("directory tenant", &f.tenant).map_err(beside(F.tenant))?
        };
        map_tenant(&mut c.tx, &c.actor, &c.stack, tenant, sub, at, Expect::Anything).await
    }
    .await
    .map_err(moved(F.subscription, given));
    c.finish(result, FormId::Mapping, "Tenant subscription saved.").await
}

/// `POST /stacks/{cloud_id}/mappings/remove`
async fn remove_mapping(
    State(pool): State<PgPool>,
    State(options): State<LeptosOptions>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RemoveMappingForm>,
) -> Result<Response, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    if !confirm::answered(&f.confirmed) {
        let tenant = guid("directory tenant", &f.tenant)?;
        let customer = super::mappings::customer_of_tenant(&mut c.tx, &c.stack, tenant).await?;
        const F: crate::registrations::forms::RemoveMappingFields = RemoveMappingForm::FIELDS;
        let question = Question {
            question: format!("Remove the subscription of {customer} on {}?", c.stack.name),
            consequence: "Its usage from then on goes to the stack's default subscription.".into(),
            action: UNMAP_TENANT.at(&[&c.stack.cloud_id]),
            fields: vec![
                (F.tenant, f.tenant.clone()),
                (F.expected_current, f.expected_current.clone()),
                (F.effective_from, f.effective_from.clone()),
            ],
            button: "Remove",
            back: crate::stacks::forms::STACK_PAGE.at(&[&c.stack.cloud_id]),
        };
        return Ok(confirm::page(&options, question));
    }
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
    Ok(c.finish(result, FormId::Mapping, ok).await?.into_response())
}
