//! The ingest API (PRODUCT §5): `POST /api/v1/stacks/{cloud_id}/usage` with a per-stack bearer key, the usage
//! API's own JSON page as the body (gzip allowed). A page is stored whole in one transaction, or refused whole.
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use app::AppError;

use crate::state::AppState;

/// The largest page body accepted (after decompression); larger ones get 413.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

fn problem(status: StatusCode, message: &str, records: Option<serde_json::Value>) -> Response {
    let mut body = json!({ "error": message });
    if let Some(r) = records {
        body["records"] = r;
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

/// `POST /api/v1/stacks/{cloud_id}/usage`
pub async fn usage(
    State(state): State<AppState>,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let result = async {
        let mut tx = state.pool.begin().await?;
        // Authenticate before reading the body's content: strangers learn nothing, not even whether it parses.
        let (partner, stack) = app::keys::authenticate(&mut tx, &cloud_id, bearer).await?;
        tx.commit().await?;
        Ok::<_, AppError>((partner, stack))
    }
    .await;
    let (partner, stack) = match result {
        Ok(ids) => ids,
        Err(e) => return refused(e),
    };
    if !json_body {
        return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json", None);
    }
    let records = match app::usage::parse::parse_page(&body) {
        Ok(r) => r,
        Err(errors) => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the page was refused; nothing was stored",
                Some(json!(errors)),
            )
        }
    };
    let stored = async {
        let mut tx = state.pool.begin().await?;
        let summary = app::usage::db::store_page(&mut tx, partner, stack, records).await?;
        tx.commit().await?;
        Ok::<_, AppError>(summary)
    }
    .await;
    match stored {
        Ok(s) => (StatusCode::OK, Json(s)).into_response(),
        Err(e) => refused(e),
    }
}
