//! The ingest API (PRODUCT §5): `POST /api/v1/stacks/{cloud_id}/usage` and `…/subscriptions` with a per-stack
//! bearer key and the stack's own JSON as the body (gzip allowed). A page is stored whole in one transaction, with
//! its audit event (the key's use), or refused whole. The API is described in `openapi.json`, served beside it.
use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;
use uuid::Uuid;

use app::audit::db::{record, Event};
use app::keys::db::{authenticate, KeyUse};
use app::usage::parse::RecordError;
use app::AppError;

pub use super::security::MAX_BODY;
use crate::state::AppState;
pub use crate::state::{InFlight, PER_STACK_IN_FLIGHT};

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

fn problem(status: StatusCode, message: &str, records: Option<&[RecordError]>) -> Response {
    let mut body = json!({ "error": message });
    if let Some(r) = records {
        body["records"] = json!(r);
    }
    (status, Json(body)).into_response()
}

fn refused(e: AppError) -> Response {
    match e {
        AppError::Unauthorized => problem(StatusCode::UNAUTHORIZED, "unknown stack or wrong key", None),
        other => problem(
            StatusCode::from_u16(other.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &other.to_string(),
            None,
        ),
    }
}

/// Checks the key before reading (or decompressing) a byte of the body, so strangers cost no more than a key lookup;
/// then the content type, a request slot, and the body within [`MAX_BODY`] after decompression. Every refusal after
/// the key check is audited as a use of the key.
async fn admit(
    state: &AppState,
    cloud_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(KeyUse, [OwnedSemaphorePermit; 2], String), Response> {
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Authenticate before looking at the body: strangers learn nothing, not even whether it parses.
    let key = async {
        // No transaction: one lookup, and a write of the key's last use at most once a minute.
        let mut conn = state.pool.acquire().await?;
        authenticate(&mut conn, cloud_id, bearer).await
    }
    .await
    .map_err(refused)?;
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json_body {
        let message = "send Content-Type: application/json";
        return Err(audited(state, &key, StatusCode::UNSUPPORTED_MEDIA_TYPE, message).await);
    }
    let permit = state.in_flight.try_acquire(key.stack_id).ok_or_else(|| {
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("more than {PER_STACK_IN_FLIGHT} requests of this stack at once; retry shortly"),
            None,
        );
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        r
    })?;
    let body = read_body(state, &key, headers, body).await?;
    // A slot of the heavy work only once the body is in: a slow sender holds its stack's slot, never a shared one.
    let Ok(heavy) = state.heavy.clone().try_acquire_owned() else {
        let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "the portal is busy storing usage; retry shortly", None);
        r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        return Err(r);
    };
    Ok((key, [permit, heavy], body))
}

/// The body as text, within [`MAX_BODY`] after decompression. Too large (413), a broken gzip stream or not UTF-8
/// (400): the same JSON error shape as every other refusal, audited.
async fn read_body(state: &AppState, key: &KeyUse, headers: &HeaderMap, body: Body) -> Result<String, Response> {
    let too_large = format!("the body is larger than {} MiB; send smaller pages", MAX_BODY >> 20);
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if declared.is_some_and(|n: u64| n > MAX_BODY as u64) {
        return Err(audited(state, key, StatusCode::PAYLOAD_TOO_LARGE, &too_large).await);
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let over = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            let (status, message) = if over {
                (StatusCode::PAYLOAD_TOO_LARGE, too_large)
            } else {
                (StatusCode::BAD_REQUEST, "the body could not be read (a broken gzip stream?)".to_string())
            };
            return Err(audited(state, key, status, &message).await);
        }
    };
    match String::from_utf8(Vec::from(bytes)) {
        Ok(text) => Ok(text),
        Err(_) => Err(audited(state, key, StatusCode::BAD_REQUEST, "the body is not UTF-8 text").await),
    }
}

/// A refusal after the key check: in the audit log (the partner sees failing stacks there), then answered.
async fn audited(state: &AppState, key: &KeyUse, status: StatusCode, message: &str) -> Response {
    let after = json!({ "status": status.as_u16(), "error": message });
    log_refusal(state, key, after).await;
    problem(status, message, None)
}

async fn log_refusal(state: &AppState, key: &KeyUse, after: serde_json::Value) {
    let event = Event {
        partner_id: Some(key.partner_id),
        action: "ingest.refused",
        entity_type: "stack",
        entity_id: key.cloud_id.to_string(),
        before: None,
        after: Some(after),
    };
    let logged = async {
        let mut tx = state.pool.begin().await?;
        record(&mut tx, &key.actor, event).await?;
        tx.commit().await.map_err(AppError::from)
    }
    .await;
    if let Err(e) = logged {
        tracing::warn!(error = %e, "could not audit a refused ingest");
    }
}

/// A refused body: audited as a use of the key (the partner sees failing stacks in the log), then 422.
async fn unprocessable(state: &AppState, key: &KeyUse, what: &str, errors: Vec<RecordError>) -> Response {
    log_refusal(state, key, json!({ "what": what, "errors": errors.len(), "first": errors.first() })).await;
    let listed = &errors[..errors.len().min(MAX_LISTED_ERRORS)];
    let message = match errors.len() {
        n if n > MAX_LISTED_ERRORS => {
            format!("the {what} was refused; nothing was stored (more than {MAX_LISTED_ERRORS} problems, the first {MAX_LISTED_ERRORS} listed)")
        }
        _ => format!("the {what} was refused; nothing was stored"),
    };
    problem(StatusCode::UNPROCESSABLE_ENTITY, &message, Some(listed))
}

/// Problems listed in a refusal at most (`RefusedError.records` in `openapi.json`).
const MAX_LISTED_ERRORS: usize = 100;

/// What a request brings, parsed.
#[derive(Clone)]
enum Page {
    /// Usage records of one reported hour, or totals (`None`).
    Usage(Vec<app::usage::parse::UsageRecord>, Option<time::OffsetDateTime>),
    /// The stack's local subscriptions.
    Subscriptions(Vec<app::local_subscriptions::parse::LocalSubscription>),
}

impl Page {
    /// Stores it in `conn`'s transaction; the summary as JSON.
    async fn store(
        &self,
        conn: &mut sqlx::PgConnection,
        partner: Uuid,
        stack: Uuid,
    ) -> Result<serde_json::Value, AppError> {
        let summary = match self {
            Page::Usage(records, reported) => {
                let s = app::usage::db::store_reported_page(conn, partner, stack, records, *reported).await?;
                serde_json::to_value(s)
            }
            Page::Subscriptions(list) => serde_json::to_value(
                app::local_subscriptions::db::store_list(conn, partner, stack, list.clone()).await?,
            ),
        };
        summary.map_err(|_| AppError::Internal)
    }
}

/// The shared path of both endpoints: admit, parse (422 naming every problem), then store and audit the key's use in
/// one transaction (tried again when it loses a race), answering the store's summary as JSON.
async fn accept(
    state: &AppState,
    request: (String, HeaderMap, Body),
    what: &str,
    action: &str,
    parse: impl FnOnce(&str) -> Result<Page, Vec<RecordError>>,
) -> Response {
    let (cloud_id, headers, body) = request;
    let (key, _permit, body) = match admit(state, &cloud_id, &headers, body).await {
        Ok(k) => k,
        Err(r) => return r,
    };
    let parsed = match parse(&body) {
        Ok(p) => p,
        Err(errors) => return unprocessable(state, &key, what, errors).await,
    };
    let mut attempt = 1;
    let stored = loop {
        match store_once(state, &key, action, &parsed).await {
            Err(AppError::Busy) if attempt < BUSY_ATTEMPTS => attempt += 1,
            other => break other,
        }
    };
    match stored {
        Ok(s) => (StatusCode::OK, Json(s)).into_response(),
        Err(AppError::Busy) => {
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "overlapping pages kept colliding; retry shortly", None);
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            r
        }
        Err(e) => refused(e),
    }
}

/// Tries of a page's transaction that lost a race before the client is told to retry (429).
const BUSY_ATTEMPTS: u32 = 5;

/// One try: store and audit the key's use in one transaction.
async fn store_once(state: &AppState, key: &KeyUse, action: &str, page: &Page) -> Result<serde_json::Value, AppError> {
    let mut tx = state.pool.begin().await?;
    let summary = page.store(&mut tx, key.partner_id, key.stack_id).await?;
    let event = Event {
        partner_id: Some(key.partner_id),
        action,
        entity_type: "stack",
        entity_id: key.cloud_id.to_string(),
        before: None,
        after: Some(summary.clone()),
    };
    record(&mut tx, &key.actor, event).await?;
    tx.commit().await?;
    Ok(summary)
}

/// `POST /api/v1/stacks/{cloud_id}/usage[?reportedStartTime=…&reportedEndTime=…]`: one usage API page, of one
/// reported hour when the window is given (its parts add up, PRODUCT §4 R10), else totals that replace.
pub async fn usage(
    State(state): State<AppState>,
    Path(cloud_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // A bad window is refused after the key check, like every other refusal.
    let parse = |body: &str| match reported_hour(&query) {
        Ok(reported) => app::usage::parse::parse_page(body).map(|records| Page::Usage(records, reported)),
        Err(e) => Err(vec![RecordError {
            index: None,
            line: None,
            field: "reportedStartTime".into(),
            message: e.to_string(),
        }]),
    };
    accept(&state, (cloud_id, headers, body), "page", "usage.ingest", parse).await
}

/// `reportedStartTime` and `reportedEndTime`: both absent, or one whole reported hour (the collector's query).
fn reported_hour(query: &HashMap<String, String>) -> Result<Option<time::OffsetDateTime>, AppError> {
    let get = |name: &str| query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let time = |name: &str, v: &str| {
        time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
            .map_err(|_| AppError::Validation(format!("{name}: not an RFC 3339 time such as 2026-10-01T10:00:00Z")))
    };
    match (get("reportedStartTime"), get("reportedEndTime")) {
        (None, None) => Ok(None),
        (Some(s), Some(e)) => {
            let (start, end) = (time("reportedStartTime", s)?, time("reportedEndTime", e)?);
            let whole = app::usage::parse::whole_hour("reportedStartTime", start).is_ok();
            if !whole || end - start != time::Duration::HOUR {
                return Err(AppError::Validation(
                    "reportedStartTime, reportedEndTime: give one whole reported hour, such as 10:00 to 11:00".into(),
                ));
            }
            Ok(Some(start))
        }
        _ => Err(AppError::Validation("reportedStartTime, reportedEndTime: give both or neither".into())),
    }
}

/// `POST /api/v1/stacks/{cloud_id}/subscriptions`: the stack's local subscriptions.
pub async fn subscriptions(
    State(state): State<AppState>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let parse = |body: &str| app::local_subscriptions::parse::parse_list(body).map(Page::Subscriptions);
    accept(&state, (cloud_id, headers, body), "subscription list", "subscriptions.sync", parse).await
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_gets_a_limited_number_of_slots_and_others_are_not_starved() {
        let (slots, stack) = (InFlight::default(), Uuid::new_v4());
        let held: Vec<_> = (0..PER_STACK_IN_FLIGHT).map(|_| slots.try_acquire(stack).expect("a free slot")).collect();
        assert!(slots.try_acquire(stack).is_none());
        assert!(slots.try_acquire(Uuid::new_v4()).is_some());
        drop(held);
        assert!(slots.try_acquire(stack).is_some());
    }
}
