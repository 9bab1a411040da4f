//! `GET /exports/usage?…`: the usage explorer's current view as CSV, every row (the page caps them), streamed from
//! the database row by row.
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use uuid::Uuid;

use app::explorer::db::Parsed;
use app::explorer::UsageRow;
use app::explorer::{Filters, Grouping};
use app::web::caller::Caller;
use app::AppError;

use crate::state::AppState;

/// How long the export waits for a client to take the next rows; one that stops reading loses the export, and the
/// database connection behind it is released.
const STALLED_CLIENT: std::time::Duration = std::time::Duration::from_secs(30);

/// What is exported: the partner (the explorer's: the caller's, or the one an operator picked), its currency and the
/// filters.
struct Export {
    partner: Uuid,
    currency: String,
    parsed: Parsed,
    name: String,
}

/// The export.
pub async fn export(State(state): State<AppState>, caller: Caller, Query(f): Query<Filters>) -> Response {
    let export = async {
        let partner = app::partners::db::choose(&state.pool, caller.scope, Some(&f.partner)).await?.chosen.0;
        let currency = app::partners::db::currency(&state.pool, partner).await?;
        let parsed = app::explorer::db::parse(&f, app::domain::clock::now().date())?;
        let name = app::explorer::db::csv_name(&state.pool, partner, &parsed).await?;
        Ok::<_, AppError>(Export { partner, currency, parsed, name })
    }
    .await;
    let export = match export {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    // A slot of the heavy work (shared with ingest and uploads), so page views keep their connections.
    let Ok(Ok(slot)) = tokio::time::timeout(STALLED_CLIENT, state.heavy.clone().acquire_owned()).await else {
        let text = "The portal is busy storing usage; try the export again in a minute.";
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "60")], text).into_response();
    };
    let (send, receive) = mpsc::channel::<Result<Vec<u8>, AppError>>(8);
    let name = export.name.clone();
    tokio::spawn(write_rows(state.pool.clone(), export, slot, send));
    let body =
        Body::from_stream(futures_util::stream::unfold(receive, |mut r| async move { r.recv().await.map(|x| (x, r)) }));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// Sends the header, then one CSV line per row as the database yields it; stops when the client stops reading.
async fn write_rows(
    pool: sqlx::PgPool,
    export: Export,
    _slot: OwnedSemaphorePermit,
    send: mpsc::Sender<Result<Vec<u8>, AppError>>,
) {
    let first = match export.parsed.group {
        Grouping::Day => "Day",
        Grouping::Meter => "Meter",
        Grouping::Resource => "ResourceUri",
    };
    let header = format!("{first},MeterId,MeterName,Unit,Quantity,Cost,Currency\r\n");
    if send.send_timeout(Ok(header.into_bytes()), STALLED_CLIENT).await.is_err() {
        return;
    }
    let sql = app::explorer::db::sql(&export.parsed);
    let mut rows = app::explorer::db::query(&sql, export.partner, &export.parsed, i64::MAX).fetch(&pool);
    loop {
        let line = match rows.try_next().await {
            Ok(Some(row)) => csv_line(&row, &export.currency),
            Ok(None) => return,
            Err(e) => Err(e.into()),
        };
        let failed = line.is_err();
        if send.send_timeout(line, STALLED_CLIENT).await.is_err() {
            tracing::info!("usage export stopped: the client is gone or stopped reading");
            return;
        }
        if failed {
            return;
        }
    }
}

/// One row as a CSV line; text cells are guarded against formulas (`app::domain::text::csv_text`).
fn csv_line(row: &UsageRow, currency: &str) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let cost = row.cost.map(|c| c.normalize().to_string()).unwrap_or_default();
    let text = app::domain::text::csv_text;
    w.write_record([
        &*text(&row.key),
        &row.meter_id.to_string(),
        &*text(&row.meter_name),
        &*text(&row.unit),
        &row.quantity.normalize().to_string(),
        &cost,
        currency,
    ])
    .map_err(|_| AppError::Internal)?;
    w.into_inner().map_err(|_| AppError::Internal)
}
