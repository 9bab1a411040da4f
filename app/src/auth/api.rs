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

    /// The signed-in user, looked up once per request: a page's resources (the layout's `whoami` and the page's own
    /// data) all ask, and each asking would otherwise cost a database round trip.
    #[derive(Clone, Default)]
    pub struct UserOfRequest(std::sync::Arc<tokio::sync::OnceCell<Option<CurrentUser>>>);

    /// The signed-in user of this request, if any.
    pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
        let lookup = async {
            let session = AuthSession::from_request().await?;
            let Some(user_id) = session.user_id().await? else {
                return Ok(None);
            };
            db::load_user(&crate::db::pool()?, user_id).await
        };
        match leptos::prelude::use_context::<UserOfRequest>() {
            Some(cache) => cache.0.get_or_try_init(|| lookup).await.cloned(),
            None => lookup.await,
        }
    }

    /// The signed-in user, or `Unauthorized`.
    pub async fn require_user() -> Result<CurrentUser, AppError> {
        current_user().await?.ok_or(AppError::Unauthorized)
    }
}
