//! Plain form posts of the stack pages (PRODUCT §3). Each one checks the caller, runs the same domain code as the
//! command line in one transaction, keeps the outcome in the session as a flash and redirects back (303), so the
//! forms work without JavaScript. Refusals change nothing: the transaction is dropped.
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::session::AuthSession;
use app::auth::{CurrentUser, Scope};
use app::domain::BillingModel;
use app::registrations::db::{map_tenant, set_registration, stack_by_cloud_id, unmap_tenant, Expect, StackRef};
use app::stacks::detail::Flash;
use app::AppError;

use crate::state::AppState;

/// A small error page with the error's status.
pub fn error_page(e: &AppError) -> Response {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = format!("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stackbill</title></head><body><main><h1>{}</h1><p><a href=\"/\">Back to the home page</a></p></main></body></html>", app::domain::text::html_escape(&e.to_string()));
    (status, Html(body)).into_response()
}

/// The signed-in user, or the error response (401).
pub async fn signed_in(state: &AppState, session: &AuthSession) -> Result<CurrentUser, Response> {
    let user_id =
        session.user_id().await.map_err(|e| error_page(&e))?.ok_or_else(|| error_page(&AppError::Unauthorized))?;
    app::auth::db::load_user(&state.pool, user_id)
        .await
        .map_err(|e| error_page(&e))?
        .ok_or_else(|| error_page(&AppError::Unauthorized))
}

/// The signed-in user if they may change data; the error response otherwise.
pub(crate) async fn writer(state: &AppState, session: &AuthSession) -> Result<(CurrentUser, Scope), Response> {
    let user = signed_in(state, session).await?;
    let scope = user.scope().map_err(|e| error_page(&e))?;
    if !user.can_write() {
        return Err(error_page(&AppError::Forbidden));
    }
    Ok((user, scope))
}

fn actor(user: &CurrentUser) -> Actor {
    Actor::user(user.user_id, user.display_name.clone())
}

/// A change under way: the caller, the stack (in scope) and an open transaction.
pub(crate) struct Change {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Postgres>,
    pub(crate) actor: Actor,
    pub(crate) stack: StackRef,
    pub(crate) session: AuthSession,
}

/// Checks the caller and finds the stack; the error response otherwise (403, 404).
pub(crate) async fn start(state: &AppState, session: Session, cloud_id: &str) -> Result<Change, Response> {
    let session = AuthSession(session);
    let (user, scope) = writer(state, &session).await?;
    let cloud = Uuid::parse_str(cloud_id).map_err(|_| error_page(&AppError::NotFound))?;
    let mut tx = state.pool.begin().await.map_err(|e| error_page(&e.into()))?;
    let stack = stack_by_cloud_id(&mut tx, scope, cloud).await.map_err(|e| error_page(&e))?;
    Ok(Change { tx, actor: actor(&user), stack, session })
}

/// Commits on success (rolls back otherwise), keeps the outcome as a flash and redirects back to the stack.
pub(crate) async fn finish(c: Change, result: Result<(), AppError>, form: &str, ok: &str) -> Response {
    let result = match result {
        Ok(()) => c.tx.commit().await.map_err(AppError::from),
        Err(e) => Err(e),
    };
    report(&c.session, &c.stack, result, form, ok).await
}

/// Keeps the outcome as a flash and redirects back to the stack (for changes that commit on their own).
pub(crate) async fn report(
    session: &AuthSession,
    stack: &StackRef,
    result: Result<(), AppError>,
    form: &str,
    ok: &str,
) -> Response {
    let flash = match result {
        Ok(()) => Flash { ok: true, form: form.into(), message: ok.into(), field: None },
        Err(e @ (AppError::NotFound | AppError::Forbidden | AppError::Unauthorized | AppError::Internal)) => {
            return error_page(&e)
        }
        Err(AppError::Rule { field, message }) => Flash { ok: false, form: form.into(), message, field: Some(field) },
        Err(e) => Flash { ok: false, form: form.into(), message: e.to_string(), field: None },
    };
    if let Err(e) = session.put("flash", flash).await {
        return error_page(&e);
    }
    Redirect::to(&format!("/stacks/{}", stack.cloud_id)).into_response()
}

fn guid(field: &str, s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::Validation(format!("{field}: “{s}” is not a GUID")))
}

/// Fields of the registration form.
#[derive(Deserialize)]
pub struct RegistrationForm {
    #[serde(default)]
    default_subscription: String,
    #[serde(default)]
    default_subscription_id: String,
    billing_model: String,
    #[serde(default)]
    effective_from: String,
}

/// `POST /stacks/{cloud_id}/registration`
pub async fn registration(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<RegistrationForm>,
) -> Response {
    let typed = f.default_subscription_id.trim().to_string();
    let sub_text = if typed.is_empty() { f.default_subscription.clone() } else { typed };
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = async {
        let sub = guid("default subscription", &sub_text)?;
        let model = BillingModel::parse(&f.billing_model)?;
        set_registration(&mut c.tx, &c.actor, &c.stack, model, sub, effective(&f.effective_from)?).await
    }
    .await;
    finish(c, result, "registration", "Registration saved.").await
}

/// Fields of the add/replace mapping form.
#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    subscription: String,
    #[serde(default)]
    subscription_id: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    effective_from: String,
    /// The mapping version the form was rendered with; absent from scripts, which then replace directly.
    version: Option<i64>,
}

/// `datetime-local` values (`YYYY-MM-DDTHH:MM[:SS]`), read as UTC; empty means now.
pub(crate) fn effective(s: &str) -> Result<Option<OffsetDateTime>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let with_seconds = if s.len() == 16 { format!("{s}:00Z") } else { format!("{s}Z") };
    OffsetDateTime::parse(&with_seconds, &time::format_description::well_known::Rfc3339).map(Some).map_err(|_| {
        AppError::Validation(format!("effective from: “{s}” is not a date and time such as 2026-11-01T00:00"))
    })
}

/// `POST /stacks/{cloud_id}/mappings`
pub async fn add_mapping(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<MappingForm>,
) -> Response {
    let typed = f.subscription_id.trim().to_string();
    let sub_text = if typed.is_empty() { f.subscription.clone() } else { typed };
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = async {
        let seen = app::registrations::db::mappings_version(&mut c.tx, &c.stack).await?;
        if f.version.is_some_and(|v| v != seen) {
            return Err(AppError::Conflict(
                "someone changed this stack's tenant subscriptions a moment ago; review the list and try again".into(),
            ));
        }
        let sub = guid("subscription", &sub_text)?;
        let at = effective(&f.effective_from)?;
        let tenant = if f.tenant.trim().is_empty() {
            // The tenant the directory names; R9 refuses unknown subscriptions in map_tenant anyway.
            sqlx::query_scalar("select customer_tenant_id from commerce_subscriptions where subscription_id = $1")
                .bind(sub)
                .fetch_optional(&mut *c.tx)
                .await?
                .unwrap_or(Uuid::nil())
        } else {
            guid("directory tenant", &f.tenant)?
        };
        map_tenant(&mut c.tx, &c.actor, &c.stack, tenant, sub, at, Expect::Anything).await
    }
    .await;
    finish(c, result, "mapping", "Tenant subscription saved.").await
}

/// Fields of a mapping's remove button.
#[derive(Deserialize)]
pub struct RemoveForm {
    tenant: String,
    #[serde(default)]
    expected_current: String,
    #[serde(default)]
    effective_from: String,
}

/// `POST /stacks/{cloud_id}/mappings/remove`
pub async fn remove_mapping(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Response {
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = async {
        let tenant = guid("directory tenant", &f.tenant)?;
        let expect = if f.expected_current.trim().is_empty() {
            Expect::Anything
        } else {
            Expect::Current(Some(guid("subscription", &f.expected_current)?))
        };
        unmap_tenant(&mut c.tx, &c.actor, &c.stack, tenant, effective(&f.effective_from)?, expect).await
    }
    .await;
    finish(c, result, "mapping", "Tenant subscription removed; its later usage goes to the default subscription.").await
}

/// Fields of the "add a stack" form.
#[derive(Deserialize)]
pub struct AddStackForm {
    #[serde(default)]
    partner: String,
    name: String,
    cloud_id: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    endpoint: String,
}

/// `POST /stacks`: adds a stack for the caller's partner (operators name one) and opens its page.
pub async fn add_stack(State(state): State<AppState>, session: Session, Form(f): Form<AddStackForm>) -> Response {
    let session = AuthSession(session);
    let (user, scope) = match writer(&state, &session).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let result = async {
        let partner = match scope {
            Scope::Partner(p) => p,
            Scope::All => guid("Partner ID", &f.partner)?,
        };
        let stack = app::stacks::NewStack::parse(&f.name, &f.cloud_id, &f.region, &f.endpoint)?;
        let mut tx = state.pool.begin().await?;
        let known: bool = sqlx::query_scalar("select exists(select 1 from partners where partner_id = $1)")
            .bind(partner)
            .fetch_one(&mut *tx)
            .await?;
        if !known {
            return Err(AppError::Validation(format!("Partner ID: no partner has Partner ID {partner}")));
        }
        let added = app::stacks::db::add_stack(&mut tx, &actor(&user), partner, &stack).await?;
        tx.commit().await?;
        added.into_result()?;
        Ok(Uuid::parse_str(f.cloud_id.trim()).unwrap_or_default())
    }
    .await;
    let (flash, target) = match result {
        Ok(cloud) => (
            Flash {
                ok: true,
                form: "registration".into(),
                message: "Stack added. Set its default subscription next (R2).".into(),
                field: None,
            },
            format!("/stacks/{cloud}"),
        ),
        Err(e @ (AppError::Internal | AppError::Forbidden)) => return error_page(&e),
        Err(e) => (Flash { ok: false, form: "stack".into(), message: e.to_string(), field: None }, "/".to_string()),
    };
    if let Err(e) = session.put("flash", flash).await {
        return error_page(&e);
    }
    Redirect::to(&target).into_response()
}

/// Fields of the rename form.
#[derive(Deserialize)]
pub struct RenameForm {
    name: String,
}

/// `POST /stacks/{cloud_id}/rename`
pub async fn rename(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<RenameForm>,
) -> Response {
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = app::stacks::db::rename_stack(&mut c.tx, &c.actor, &c.stack, &f.name).await;
    finish(c, result, "registration", "Stack renamed.").await
}
