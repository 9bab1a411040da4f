//! Server functions about the signed-in user.
use leptos::prelude::*;

use super::CurrentUser;
use crate::AppError;

/// The signed-in user, or `None` when nobody is signed in.
#[server]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    ssr::current_user().await
}

/// Server-side helpers that other features' server functions use to find the caller.
#[cfg(feature = "ssr")]
pub mod ssr {
    use super::super::session::AuthSession;
    use super::super::{db, CurrentUser};
    use crate::AppError;

    /// The signed-in user of this request, if any.
    pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
        let session = AuthSession::from_request().await?;
        let Some(user_id) = session.user_id().await? else {
            return Ok(None);
        };
        db::load_user(&crate::db::pool()?, user_id).await
    }

    /// The signed-in user, or `Unauthorized`.
    pub async fn require_user() -> Result<CurrentUser, AppError> {
        current_user().await?.ok_or(AppError::Unauthorized)
    }
}
