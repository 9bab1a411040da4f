//! The typed session (STYLE L7): the only code that knows the session's keys.
use tower_sessions::Session;
use uuid::Uuid;

use crate::AppError;

const USER_ID: &str = "user_id";

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

    /// The signed-in user's ID, if any.
    pub async fn user_id(&self) -> Result<Option<Uuid>, AppError> {
        self.0.get::<Uuid>(USER_ID).await.map_err(internal)
    }

    /// Signs a user in: a new session ID first, so a session fixed before sign-in is worthless after it.
    pub async fn log_in(&self, user_id: Uuid) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(internal)?;
        self.0.insert(USER_ID, user_id).await.map_err(internal)
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
}
