//! `GET /exports/usage?…`: the usage explorer's current view as CSV, every row (the page caps them), streamed from
//! the database row by row.
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use tokio::sync::mpsc;

use app::explorer::Filters;
use app::web::caller::Caller;
use app::AppError;

use crate::state::AppState;

/// How long the export waits for a client to take the next rows; one that stops reading loses the export, and the
/// database connection behind it is released.
const STALLED_CLIENT: std::time::Duration = std::time::Duration::from_secs(30);

/// The export.
pub async fn export(State(state): State<AppState>, caller: Caller, Query(f): Query<Filters>) -> Response {
    let setup = async {
        let scope = caller.scope;
        let partner = app::partners::db::choose(&state.pool, scope, None).await?.chosen.0;
        let currency = app::partners::db::currency(&state.pool, partner).await?;
        let parsed = app::explorer::db::parse(&f, app::domain::clock::now().date())?;
        Ok::<_, AppError>((partner, currency, parsed))
    }
    .await;
    let (partner, currency, parsed) = match setup {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let busy = || {
        let text = "The portal is busy storing usage; try the export again in a minute.";
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "60")], text).into_response()
    };
    let slot = match tokio::time::timeout(STALLED_CLIENT, state.heavy.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        _ => return busy(),
    };
    let (send, receive) = mpsc::channel::<Result<Vec<u8>, AppError>>(8);
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let _slot = slot;
        let first = ["Day", "Meter", "ResourceUri"][parsed.group as usize];
        let header = format!("{first},MeterId,MeterName,Unit,Quantity,Cost,Currency\r\n");
        if send.send_timeout(Ok(header.into_bytes()), STALLED_CLIENT).await.is_err() {
            return;
        }
        let sql = app::explorer::db::sql(&parsed);
        let mut rows = app::explorer::db::query(&sql, partner, &parsed, i64::MAX).fetch(&pool);
        loop {
            let row = match rows.try_next().await {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    let _ = send.send(Err(e.into())).await;
                    return;
                }
            };
            let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
            let cost = row.cost.map(|c| c.normalize().to_string()).unwrap_or_default();
            let text = app::domain::text::csv_text;
            let written = w.write_record([
                &*text(&row.key),
                &row.meter_id.to_string(),
                &*text(&row.meter_name),
                &*text(&row.unit),
                &row.quantity.normalize().to_string(),
                &cost,
                &currency,
            ]);
            let bytes =
                written.map_err(|_| AppError::Internal).and_then(|()| w.into_inner().map_err(|_| AppError::Internal));
            if send.send_timeout(bytes, STALLED_CLIENT).await.is_err() {
                tracing::info!("usage export stopped: the client is gone or stopped reading");
                return;
            }
        }
    });
    let body =
        Body::from_stream(futures_util::stream::unfold(receive, |mut r| async move { r.recv().await.map(|x| (x, r)) }));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"usage.csv\""),
        ],
        body,
    )
        .into_response()
}
