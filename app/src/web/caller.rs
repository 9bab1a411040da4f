//! Who is calling: the one place a write (axum handler) or a page (server function) learns the signed-in user, the
//! partners they may see and whether they may change anything.
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::session::AuthSession;
use crate::auth::{CurrentUser, Scope};
use crate::AppError;

/// The signed-in caller of a request: 401 when nobody is, 403 when their account has no access.
#[derive(Clone)]
pub struct Caller {
    /// The user, loaded on this request (a role change takes effect at once).
    pub user: CurrentUser,
    /// The partners the caller's queries may touch.
    pub scope: Scope,
    /// The session, for the flash after a post.
    pub session: AuthSession,
}

impl Caller {
    /// Loads the session's user.
    pub async fn load(session: AuthSession, pool: &PgPool) -> Result<Self, AppError> {
        let user_id = session.user_id().await?.ok_or(AppError::Unauthorized)?;
        let user = crate::auth::db::load_user(pool, user_id).await?.ok_or(AppError::Unauthorized)?;
        let scope = user.scope()?;
        Ok(Self { user, scope, session })
    }

    /// The caller of the current server function (a page's data), looked up once per request.
    pub async fn of_page() -> Result<Self, AppError> {
        let user = crate::auth::api::ssr::require_user().await?;
        let scope = user.scope()?;
        Ok(Self { user, scope, session: AuthSession::from_request().await? })
    }

    /// How the caller appears in the audit log.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.user_id, self.user.display_name.clone())
    }

    /// This caller if their role may change data; `Forbidden` otherwise.
    pub fn must_write(self) -> Result<Self, AppError> {
        if self.user.can_write() {
            Ok(self)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// This caller if they are an operator (every partner in scope); `Forbidden` otherwise.
    pub fn must_operate(self) -> Result<Self, AppError> {
        match self.scope {
            Scope::All => Ok(self),
            Scope::Partner(_) => Err(AppError::Forbidden),
        }
    }

    /// The caller's own partner, for changes only a partner's admin makes (bills, markups); `Forbidden` for
    /// operators and readers.
    pub fn partner_writer(&self) -> Result<Uuid, AppError> {
        match self.scope {
            Scope::Partner(p) if self.user.can_write() => Ok(p),
            _ => Err(AppError::Forbidden),
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state).await.map_err(|(_, m)| {
            tracing::error!(error = m, "no session layer in front of the handler");
            AppError::Internal
        })?;
        Self::load(AuthSession(session), &PgPool::from_ref(state)).await
    }
}

/// Declares an extractor for a caller who passes `check` (403 otherwise), taken before the body, so a reader or a
/// stranger is refused before anything they send is read.
macro_rules! caller_who {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl<S> FromRequestParts<S> for $name
        where
            S: Send + Sync,
            PgPool: FromRef<S>,
        {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
                Caller::from_request_parts(parts, state).await?.$check().map(Self)
            }
        }
    };
}

caller_who!(
    /// A caller who may change data (operators and partner admins).
    Writer,
    must_write
);
caller_who!(
    /// An operator (every partner in scope).
    Operator,
    must_operate
);
