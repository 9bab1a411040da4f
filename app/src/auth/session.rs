//! The typed session (STYLE L7): the only code that knows the session's keys.
use time::Duration;
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use crate::AppError;

const USER_ID: &str = "user_id";
/// The last form post's outcome, shown once (see [`crate::web::Flash`]).
const FLASH: &str = "flash";
/// A new ingestion key, sealed, shown once on the stack page.
const NEW_KEY: &str = "new_key";
/// A new webhook signing secret, sealed, for the one page view after it was added.
const NEW_SECRET: &str = "new_secret";
/// When the signed-in session ends however active it is (unix seconds).
const ENDS_AT: &str = "ends_at";

/// How long a pending sign-in (state, nonce, PKCE verifier) is kept: an anonymous visitor who never comes back from
/// the provider leaves a row that is deleted within minutes, not hours.
pub const PENDING_SIGN_IN: Duration = Duration::minutes(10);

/// A tower-sessions session with typed accessors.
#[derive(Clone)]
pub struct AuthSession(pub Session);

fn internal(e: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = ?e, "session store error");
    AppError::Internal
}

impl AuthSession {
    /// The session of the current server-function request.
    pub async fn from_request() -> Result<Self, AppError> {
        leptos_axum::extract::<Session>().await.map(Self).map_err(|e| {
            tracing::error!(error = %e, "no session layer in front of the server function");
            AppError::Internal
        })
    }

    /// The signed-in user's ID, if any; a session past its absolute lifetime is ended here (signed out).
    pub async fn user_id(&self) -> Result<Option<Uuid>, AppError> {
        let Some(user) = self.0.get::<Uuid>(USER_ID).await.map_err(internal)? else {
            return Ok(None);
        };
        let ends_at = self.0.get::<i64>(ENDS_AT).await.map_err(internal)?;
        if ends_at.is_none_or(|t| crate::domain::clock::now().unix_timestamp() >= t) {
            self.log_out().await?;
            return Ok(None);
        }
        Ok(Some(user))
    }

    /// The signed-in user of a page view that shows nothing once: `None` when nobody is signed in (or the session has
    /// ended), and when a message, a new key or a new secret waits for this view. Only such a view may be served from
    /// the server's cache of rendered pages.
    pub async fn user_of_repeatable_view(&self) -> Result<Option<Uuid>, AppError> {
        for once in [FLASH, NEW_KEY, NEW_SECRET] {
            if self.0.get_value(once).await.map_err(internal)?.is_some() {
                return Ok(None);
            }
        }
        self.user_id().await
    }

    /// Signs a user in: a new session ID first, so a session fixed before sign-in is worthless after it, and without
    /// what the browser's previous user left for their next page (a message, a new key or secret shown once). The
    /// session then ends after `idle` without a request, and `lifetime` after now in any case.
    pub async fn log_in(&self, user_id: Uuid, idle: Duration, lifetime: Duration) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(internal)?;
        for left in [FLASH, NEW_KEY, NEW_SECRET] {
            self.0.remove_value(left).await.map_err(internal)?;
        }
        self.0.set_expiry(Some(Expiry::OnInactivity(idle)));
        let ends_at = (crate::domain::clock::now() + lifetime).unix_timestamp();
        self.0.insert(ENDS_AT, ends_at).await.map_err(internal)?;
        self.0.insert(USER_ID, user_id).await.map_err(internal)
    }

    /// Keeps a pending sign-in for [`PENDING_SIGN_IN`] only.
    pub async fn begin_sign_in<T: serde::Serialize + Send + Sync>(&self, key: &str, flow: T) -> Result<(), AppError> {
        self.0.set_expiry(Some(Expiry::OnInactivity(PENDING_SIGN_IN)));
        self.put(key, flow).await
    }

    /// Ends the session: its data is deleted from the store and the cookie is cleared.
    pub async fn log_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(internal)
    }

    /// Stores a value under one of the sign-in flow's keys.
    pub async fn put<T: serde::Serialize + Send + Sync>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0.insert(key, value).await.map_err(internal)
    }

    /// Removes and returns a value of the sign-in flow (single use, as `state` must be).
    pub async fn take<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, AppError> {
        // Removing marks the session changed, which costs a write to the store at the end of the request; most page
        // views have no message to take, so look first.
        if self.0.get_value(key).await.map_err(internal)?.is_none() {
            return Ok(None);
        }
        self.0.remove::<T>(key).await.map_err(internal)
    }

    /// Keeps a form post's outcome for the next page view.
    pub async fn put_flash(&self, flash: crate::web::Flash) -> Result<(), AppError> {
        self.put(FLASH, flash).await
    }

    /// The last form post's outcome, once.
    pub async fn take_flash(&self) -> Result<Option<crate::web::Flash>, AppError> {
        self.take(FLASH).await
    }

    /// Keeps a new ingestion key (sealed: the session table never holds it in clear text) for the next page view.
    pub async fn put_new_key(&self, sealed: String) -> Result<(), AppError> {
        self.put(NEW_KEY, sealed).await
    }

    /// The new ingestion key, sealed, once.
    pub async fn take_new_key(&self) -> Result<Option<String>, AppError> {
        self.take(NEW_KEY).await
    }

    /// Keeps a new webhook endpoint's signing secret (sealed) for the next view of the webhooks page; apart from
    /// ingestion keys, so a stack page never shows it as one.
    pub async fn put_new_secret(&self, sealed: String) -> Result<(), AppError> {
        self.put(NEW_SECRET, sealed).await
    }

    /// The new signing secret, sealed, once.
    pub async fn take_new_secret(&self) -> Result<Option<String>, AppError> {
        self.take(NEW_SECRET).await
    }
}
