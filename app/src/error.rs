//! The one error type at the client/server boundary (STYLE L6).
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function can answer instead of its value. Every message is safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The thing does not exist, or belongs to someone the caller may not see (never say which).
    #[error("Not found.")]
    NotFound,
    /// Nobody is signed in.
    #[error("Please sign in.")]
    Unauthorized,
    /// Signed in, but the role does not allow this.
    #[error("Your role does not allow this.")]
    Forbidden,
    /// Input that breaks a rule; the text names the rule and the value.
    #[error("{0}")]
    Validation(String),
    /// A registration rule refused the change; shown beside `field` in the form.
    #[error("{message}")]
    Rule {
        /// The form field the refusal belongs to.
        field: String,
        /// The rule, Azure's code and the value, in plain words.
        message: String,
    },
    /// The change collides with another one (e.g. a concurrent edit).
    #[error("{0}")]
    Conflict(String),
    /// The database gave up on the transaction because of concurrent ones (a deadlock or a serialization
    /// failure); trying it again is safe and usually succeeds.
    #[error("The portal is busy with overlapping changes; please try again.")]
    Busy,
    /// Anything else; the details are in the server log, never in the page.
    #[error("Something went wrong on our side. It has been logged; please try again.")]
    Internal,
    /// The request did not reach the server function or its answer could not be read.
    #[error("The request failed: {0}")]
    Transport(String),
}

impl AppError {
    /// Gives the page being rendered this error's status, so a page that cannot be shown to the caller answers
    /// 403 or 404 rather than 200 (no effect in the browser).
    pub fn set_page_status(&self) {
        #[cfg(feature = "ssr")]
        if let Some(resp) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(
                http::StatusCode::from_u16(self.status_code()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
            );
        }
    }

    /// The HTTP status that goes with the error.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::Validation(_) | Self::Rule { .. } => 422,
            Self::Conflict(_) => 409,
            Self::Busy => 503,
            Self::Internal | Self::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        let code = e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            // deadlock_detected, serialization_failure: the transaction lost a race, not a fault.
            _ if matches!(code.as_deref(), Some("40P01" | "40001")) => {
                tracing::info!(code = code.as_deref(), "a transaction lost a race with a concurrent one");
                Self::Busy
            }
            other => {
                // The full chain goes to the log; the user gets a generic message (STYLE L6).
                tracing::error!(error = ?other, "database error");
                Self::Internal
            }
        }
    }
}

/// A page's refusal: the page answers with the error's status (so a bad page number is a 422, not a 200), and the
/// message is announced.
#[leptos::component]
pub fn ErrorNotice(error: AppError) -> impl leptos::IntoView {
    use leptos::prelude::*;
    error.set_page_status();
    view! { <p class="notice error" role="alert">{error.to_string()}</p> }
}
