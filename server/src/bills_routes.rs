//! Bills over HTTP besides the pages: status changes and markups (plain posts, flash, 303) and the CSV exports,
//! streamed one bill at a time so a month of many customers is never held whole.
use axum::body::Body;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::session::AuthSession;
use app::auth::Scope;
use app::bills::db::{bill, bill_partner, finalise, mark_draft, set_markup, Period};
use app::stacks::detail::Flash;
use app::AppError;

use crate::forms::{error_page, signed_in};
use crate::state::AppState;

async fn writer(state: &AppState, session: &AuthSession) -> Result<(Actor, Uuid), Response> {
    let user = signed_in(state, session).await?;
    match user.scope().map_err(|e| error_page(&e))? {
        Scope::Partner(p) if user.can_write() => Ok((Actor::user(user.user_id, user.display_name), p)),
        _ => Err(error_page(&AppError::Forbidden)),
    }
}

async fn back(session: &AuthSession, to: &str, result: Result<String, AppError>) -> Response {
    let flash = match result {
        Ok(m) => Flash { ok: true, form: "bills".into(), message: m, field: None },
        Err(e @ (AppError::NotFound | AppError::Forbidden | AppError::Unauthorized | AppError::Internal)) => {
            return error_page(&e)
        }
        Err(e) => Flash { ok: false, form: "bills".into(), message: e.to_string(), field: None },
    };
    if let Err(e) = session.put("flash", flash).await {
        return error_page(&e);
    }
    Redirect::to(to).into_response()
}

/// The period and subscription of a bill's URL; `None` (answered 404) when they do not parse.
fn ids(period: &str, sub: &str) -> Option<(Period, Uuid)> {
    Some((Period::parse(period).ok()?, Uuid::parse_str(sub.trim()).ok()?))
}

/// `POST /bills/{period}/{subscription}/{action}` with action `draft` or `finalise`.
pub async fn change_status(
    State(state): State<AppState>,
    session: Session,
    Path((period, sub, action)): Path<(String, String, String)>,
) -> Response {
    let session = AuthSession(session);
    let (actor, mine) = match writer(&state, &session).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some((period, sub)) = ids(&period, &sub) else {
        return error_page(&AppError::NotFound);
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        let partner = bill_partner(&mut tx, Scope::Partner(mine), sub).await?;
        let message = match action.as_str() {
            "draft" => {
                mark_draft(&mut tx, &actor, partner, sub, period).await?;
                "The bill is now a draft.".to_string()
            }
            "finalise" => {
                let b = finalise(&mut tx, &actor, partner, sub, period).await?;
                let mut m = format!("The bill is final: {} lines, {:.2} {}.", b.lines.len(), b.total_amount, b.currency);
                if !b.fell_through.is_empty() {
                    m += &format!(
                        " Note: it includes usage of {} tenant(s) or unknown subscription(s) that fell through to this default subscription.",
                        b.fell_through.len()
                    );
                }
                m
            }
            _ => return Err(AppError::NotFound),
        };
        tx.commit().await?;
        Ok(message)
    }
    .await;
    back(&session, &format!("/bills/{period}/{sub}"), result).await
}

/// The markup form.
#[derive(Deserialize)]
pub struct MarkupForm {
    #[serde(default)]
    markup: String,
}

fn percent(s: &str) -> Result<Option<Decimal>, AppError> {
    match s.trim().trim_end_matches('%').trim() {
        "" => Ok(None),
        t => t.parse::<Decimal>().map(Some).map_err(|_| AppError::Validation(format!("markup: “{t}” is not a number"))),
    }
}

/// `POST /bills/markup`: the partner's default.
pub async fn default_markup(State(state): State<AppState>, session: Session, Form(f): Form<MarkupForm>) -> Response {
    let session = AuthSession(session);
    let (actor, mine) = match writer(&state, &session).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let result = async {
        let p = percent(&f.markup)?;
        let mut tx = state.pool.begin().await?;
        set_markup(&mut tx, &actor, mine, None, p).await?;
        tx.commit().await?;
        Ok("Default markup saved; open bills use it now.".to_string())
    }
    .await;
    back(&session, "/bills", result).await
}

/// `POST /bills/{period}/{subscription}/markup`: one customer's own markup (empty: back to the default).
pub async fn customer_markup(
    State(state): State<AppState>,
    session: Session,
    Path((period, sub)): Path<(String, String)>,
    Form(f): Form<MarkupForm>,
) -> Response {
    let session = AuthSession(session);
    let (actor, mine) = match writer(&state, &session).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some((period, sub)) = ids(&period, &sub) else {
        return error_page(&AppError::NotFound);
    };
    let result = async {
        let p = percent(&f.markup)?;
        let mut tx = state.pool.begin().await?;
        let partner = bill_partner(&mut tx, Scope::Partner(mine), sub).await?;
        set_markup(&mut tx, &actor, partner, Some(sub), p).await?;
        tx.commit().await?;
        Ok(if p.is_some() { "Markup saved for this customer." } else { "This customer now uses the default markup." }
            .to_string())
    }
    .await;
    back(&session, &format!("/bills/{period}/{sub}"), result).await
}

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

async fn reader(state: &AppState, session: Session) -> Result<Scope, Response> {
    let user = signed_in(state, &AuthSession(session)).await?;
    user.scope().map_err(|e| error_page(&e))
}

/// `GET /exports/bills/{period}/{subscription}`: one bill's lines.
pub async fn export_bill(
    State(state): State<AppState>,
    session: Session,
    Path((period, sub)): Path<(String, String)>,
) -> Response {
    let scope = match reader(&state, session).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((period, sub)) = ids(&period, &sub) else {
        return error_page(&AppError::NotFound);
    };
    let result = async {
        let mut conn = state.pool.acquire().await?;
        let partner = bill_partner(&mut conn, scope, sub).await?;
        let b = bill(&mut conn, partner, sub, period).await?;
        let mut out = app::bills::csv::header();
        out.extend(app::bills::csv::rows(&b)?);
        Ok::<_, AppError>(out)
    }
    .await;
    match result {
        Ok(bytes) => csv_response(format!("bill-{period}-{sub}.csv"), Body::from(bytes)),
        Err(e) => error_page(&e),
    }
}

/// The partner of an all-bills export.
#[derive(Deserialize)]
pub struct ExportQuery {
    partner: Option<String>,
}

/// `GET /exports/bills/{period}?partner=…`: every bill of the month, streamed bill by bill.
pub async fn export_period(
    State(state): State<AppState>,
    session: Session,
    Path(period): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    let scope = match reader(&state, session).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(period) = Period::parse(&period) else {
        return error_page(&AppError::NotFound);
    };
    let partner = match (scope.partner_filter(), q.partner.and_then(|p| Uuid::parse_str(p.trim()).ok())) {
        (Some(mine), Some(asked)) if mine != asked => return error_page(&AppError::NotFound),
        (Some(mine), _) => mine,
        (None, Some(asked)) => asked,
        (None, None) => return error_page(&AppError::Validation("partner: choose a partner".into())),
    };
    let body = Body::from_stream(crate::bills_export::stream(state.pool.clone(), partner, period));
    csv_response(format!("bills-{period}.csv"), body)
}
