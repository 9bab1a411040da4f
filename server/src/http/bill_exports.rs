//! Bills as CSV downloads: one bill, or every bill of a month streamed bill by bill (`crate::bills_export`) so a
//! month of many customers is never held whole; and a month's differences with Microsoft's bill.
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use app::bills::db::{bill, bill_partner};
use app::bills::writes::bill_ids;
use app::domain::Period;
use app::web::caller::Caller;
use app::AppError;

use crate::state::AppState;

fn csv_response(name: String, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// `GET /exports/bills/{period}/{subscription}`: one bill's lines.
pub async fn export_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path((period, sub)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (period, sub) = bill_ids(&period, &sub)?;
    let mut conn = state.pool.acquire().await?;
    let partner = bill_partner(&mut conn, caller.scope, sub).await?;
    let b = bill(&mut conn, partner, sub, period).await?;
    let mut out = app::bills::csv::header();
    out.extend(app::bills::csv::rows(&b)?);
    let customer = app::domain::text::slug(&b.customer_name);
    Ok(csv_response(format!("bill-{period}-{customer}-{sub}.csv"), Body::from(out)))
}

/// The partner of an all-bills export.
#[derive(Deserialize)]
pub struct ExportQuery {
    partner: Option<String>,
}

/// The month and partner of a month's export: a partner's own (another's is not found), an operator's choice.
fn month_of(caller: &Caller, period: &str, q: ExportQuery) -> Result<(Period, Uuid), AppError> {
    let period = Period::parse(period).map_err(|_| AppError::NotFound)?;
    let partner = match (caller.scope.partner_filter(), q.partner.and_then(|p| Uuid::parse_str(p.trim()).ok())) {
        (Some(mine), Some(asked)) if mine != asked => return Err(AppError::NotFound),
        (Some(mine), _) => mine,
        (None, Some(asked)) => asked,
        (None, None) => return Err(AppError::Validation("partner: choose a partner".into())),
    };
    Ok((period, partner))
}

/// `GET /exports/bills/{period}?partner=…`: every bill of the month, streamed bill by bill.
pub async fn export_period(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let (period, partner) = month_of(&caller, &period, q)?;
    let body = Body::from_stream(crate::bills_export::stream(state.pool.clone(), partner, period));
    Ok(csv_response(format!("bills-{period}.csv"), body))
}

/// `GET /exports/reconciliation/{period}?partner=…`: the month's differences with Microsoft's bill; not found when no
/// file of the month was imported.
pub async fn export_recon(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let (period, partner) = month_of(&caller, &period, q)?;
    let mut conn = state.pool.acquire().await?;
    let (currency, _) = app::partners::db::terms(&mut *conn, partner).await?;
    let rows = app::recon::compare::compare(&mut conn, partner, period).await?.ok_or(AppError::NotFound)?;
    let body = app::recon::compare::differences_csv(&rows, &currency)?;
    Ok(csv_response(format!("reconciliation-differences-{period}.csv"), Body::from(body)))
}
