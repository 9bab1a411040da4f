//! Why a collector run fails, in our words, and the limits that make it fail. Messages are shown on the stack page as
//! they are, so nothing the remote server sent is quoted (a collector pointed at an internal service must not show a
//! reader its answers).
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

/// Generous: a stack's usage service can take minutes over a 1,000-record page, but a hung connection must end.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest answer read; a usage page of 1,000 records is about 1 MiB.
pub const MAX_RESPONSE: usize = 32 * 1024 * 1024;
/// Pages one pager fetches at most, so a server that pages in circles cannot keep a run going forever.
pub const MAX_PAGES: usize = 10_000;

/// Why collecting stopped. Messages are shown on the stack's page as they are, so they are in our words: nothing
/// the remote server sent is quoted (a collector pointed at an internal service must not show a reader its answers).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// An error status; `code` is the ARM (`{"error":{"code"}}`) or OAuth error code, for the program only.
    #[error("{api} answered {status}: {}", meaning(*.status))]
    Status { api: &'static str, status: u16, code: Option<String> },
    /// No answer: the connection failed or timed out; `detail` is in our words.
    #[error("could not reach the {api}: {detail}")]
    Unreachable { api: &'static str, detail: String },
    /// The answer was larger than [`MAX_RESPONSE`].
    #[error("{api} sent an answer larger than {} MiB; stopped reading", MAX_RESPONSE >> 20)]
    TooLarge { api: &'static str },
    /// Every try allowed by the retry policy failed; `last` says how the last one did.
    #[error("{last} (gave up after {attempts} attempts)")]
    GaveUp { attempts: u32, last: Box<CollectError> },
    /// A success whose body is not what that API returns.
    #[error("{api} answered 200 with an unexpected body: {detail}")]
    BadBody { api: &'static str, detail: String },
    /// A `nextLink` elsewhere than the configured endpoint: following it would hand our bearer token to that host.
    #[error("{api} sent a nextLink to another host than the configured endpoint {endpoint}; not following it")]
    ForeignLink { api: &'static str, endpoint: String },
    /// More than [`MAX_PAGES`] pages.
    #[error("{api} was still paging after {MAX_PAGES} pages; stopped")]
    TooManyPages { api: &'static str },
    /// The endpoint or the reported window cannot make a request.
    #[error("cannot ask the {api}: {detail}")]
    BadRequest { api: &'static str, detail: String },
}

/// What a status means for the partner, in our words.
fn meaning(status: u16) -> &'static str {
    match status {
        400 => "the request was refused (is the stack's clock right?)",
        401 => "the credentials were refused; check the token or the client secret",
        403 => "access denied; the account needs access to the provider subscription",
        404 => "not found; check the endpoint and the provider subscription ID",
        429 | 503 => "busy",
        300..=399 => "a redirect, which the collector does not follow; give the final address",
        500..=599 => "a server error",
        _ => "an unexpected answer",
    }
}

/// The cause of a failed request in our words: refused by the outbound rules, name not found, connection refused,
/// timed out. reqwest's own messages can quote what the remote side sent (a TLS alert, a broken header), so they are
/// not shown.
pub(super) fn no_answer(api: &'static str, error: &reqwest::Error) -> CollectError {
    let io_kind = |e: &reqwest::Error| {
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                return Some(io.kind());
            }
            source = cause.source();
        }
        None
    };
    let detail = if let Some(blocked) = super::outbound::blocked(error) {
        blocked.to_string()
    } else if error.is_timeout() {
        format!("no answer within {} seconds", REQUEST_TIMEOUT.as_secs())
    } else if io_kind(error) == Some(std::io::ErrorKind::ConnectionRefused) {
        "connection refused".into()
    } else if error.is_connect() {
        "could not connect (the name does not resolve, the host is unreachable, or TLS failed)".into()
    } else if error.is_body() || error.is_decode() {
        "the answer broke off".into()
    } else {
        "the request failed".into()
    };
    CollectError::Unreachable { api, detail }
}

pub(super) fn status_error(api: &'static str, status: StatusCode, body: &str) -> CollectError {
    #[derive(Deserialize)]
    struct Envelope {
        error: Option<serde_json::Value>,
    }
    let code = match serde_json::from_str::<Envelope>(body) {
        Ok(Envelope { error: Some(error @ serde_json::Value::Object(_)) }) => {
            error.get("code").and_then(serde_json::Value::as_str).map(str::to_owned)
        }
        Ok(Envelope { error: Some(serde_json::Value::String(code)) }) => Some(code),
        _ => None,
    };
    CollectError::Status { api, status: status.as_u16(), code }
}
