//! The stack's writes (add, rename) and [`StackChange`], the frame every write on a stack page uses: the caller may
//! write, the stack is theirs, one transaction, the outcome as a flash back on the stack page.
use axum::extract::{FromRef, Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::{Form, Router};
use sqlx::PgPool;
use uuid::Uuid;

use super::forms::{AddStackForm, RenameForm, ADD_STACK, ARCHIVE, RENAME, RESTORE, STACK_PAGE};
use crate::audit::Actor;
use crate::auth::session::AuthSession;
use crate::auth::Scope;
use crate::registrations::db::{stack_by_cloud_id, StackRef};
use crate::web::caller::{Caller, Writer};
use crate::web::respond::{back, back_typed};
use crate::web::FormId;
use crate::AppError;

/// The stack routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new()
        .route(ADD_STACK.pattern(), post(add_stack))
        .route(RENAME.pattern(), post(rename))
        .route(ARCHIVE.pattern(), post(archive))
        .route(RESTORE.pattern(), post(restore))
}

/// A change to one stack under way: who makes it, the stack (in the caller's scope) and the open transaction.
pub struct StackChange {
    /// The open transaction; committed by [`StackChange::finish`] when the change succeeded.
    pub tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// The caller, for the audit log.
    pub actor: Actor,
    /// The stack, found in the caller's scope.
    pub stack: StackRef,
    /// The caller's session, for the flash.
    pub session: AuthSession,
    /// What the user typed, to fill the form with again when the change is refused ([`StackChange::keeping`]).
    pub typed: Vec<(String, String)>,
}

impl StackChange {
    /// Begins a change of the stack `cloud_id` (from the URL): 404 when it is not a GUID or not the caller's.
    pub async fn begin(caller: Caller, pool: &PgPool, cloud_id: &str) -> Result<Self, AppError> {
        let cloud = Uuid::parse_str(cloud_id).map_err(|_| AppError::NotFound)?;
        let mut tx = pool.begin().await?;
        let stack = stack_by_cloud_id(&mut tx, caller.scope, cloud).await?;
        Ok(Self { tx, actor: caller.actor(), stack, session: caller.session, typed: Vec::new() })
    }

    /// Keeps what the user typed into the form (never a secret), shown again if the change is refused.
    pub fn keeping(self, typed: Vec<(String, String)>) -> Self {
        Self { typed, ..self }
    }

    /// Commits when `result` is a success (a refusal drops the transaction: nothing changes) and goes back to the
    /// stack page with the outcome beside `form`.
    pub async fn finish(self, result: Result<(), AppError>, form: FormId, ok: &str) -> Result<Redirect, AppError> {
        let result = match result {
            Ok(()) => self.tx.commit().await.map_err(AppError::from),
            Err(e) => Err(e),
        };
        let to = STACK_PAGE.at(&[&self.stack.cloud_id]);
        back_typed(&self.session, to, form, result.map(|()| ok.to_string()), self.typed).await
    }
}

/// Back to the stack page with `result` as the flash of `form` (for changes that commit on their own).
pub async fn back_to_stack(
    session: &AuthSession,
    stack: &StackRef,
    form: FormId,
    result: Result<String, AppError>,
) -> Result<Redirect, AppError> {
    back(session, STACK_PAGE.at(&[&stack.cloud_id]), form, result).await
}

/// Reads a GUID typed into `field`.
pub fn guid(field: &str, s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s.trim()).map_err(|_| AppError::Validation(format!("{field}: “{s}” is not a GUID")))
}

/// `POST /stacks`: adds a stack for the caller's partner (operators name one) and opens its page.
async fn add_stack(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Form(f): Form<AddStackForm>,
) -> Result<Redirect, AppError> {
    let added = async {
        let partner = match caller.scope {
            Scope::Partner(p) => p,
            Scope::All => guid("Partner ID", &f.partner)?,
        };
        let stack = super::NewStack::parse(&f.name, &f.cloud_id, &f.region, &f.endpoint)?;
        let mut tx = pool.begin().await?;
        crate::partners::db::must_exist(&mut *tx, partner).await?;
        let added = super::db::add_stack(&mut tx, &caller.actor(), partner, &stack).await?;
        tx.commit().await?;
        added.into_result()?;
        Ok(stack.cloud_id())
    }
    .await;
    match added {
        Ok(cloud) => {
            let message = "Stack added. Set its default subscription next (R2).".to_string();
            back(&caller.session, STACK_PAGE.at(&[&cloud]), FormId::Registration, Ok(message)).await
        }
        Err(e) => back_typed(&caller.session, "/", FormId::AddStack, Err(e), f.typed()).await,
    }
}

/// `POST /stacks/{cloud_id}/rename`
async fn rename(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    Form(f): Form<RenameForm>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = super::db::rename_stack(&mut c.tx, &c.actor, &c.stack, &f.name).await;
    c.finish(result, FormId::Registration, "Stack renamed.").await
}

/// `POST /stacks/{cloud_id}/archive`
async fn archive(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = super::db::set_archived(&mut c.tx, &c.actor, &c.stack, true).await;
    let ok = "Stack archived: its history and bills are kept; usage sent for it is refused until it is restored.";
    c.finish(result, FormId::Registration, ok).await
}

/// `POST /stacks/{cloud_id}/restore`
async fn restore(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
) -> Result<Redirect, AppError> {
    let mut c = StackChange::begin(caller, &pool, &cloud_id).await?;
    let result = super::db::set_archived(&mut c.tx, &c.actor, &c.stack, false).await;
    c.finish(result, FormId::Registration, "Stack restored: it takes usage again.").await
}
