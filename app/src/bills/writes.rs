//! The bill writes of a partner's admin: finalise, back to draft, markups. Each is one transaction and goes back to
//! the bill (or the list) with the outcome.
use axum::extract::{FromRef, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::config::LeptosOptions;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::db::bill_partner;
use super::forms::{MarkupForm, BILLS_PAGE, BILL_PAGE, CUSTOMER_MARKUP, DEFAULT_MARKUP, FINALISE, MARK_DRAFT};
use super::lifecycle::{finalise, mark_draft, set_markup};
use super::Bill;
use crate::audit::Actor;
use crate::auth::Scope;
use crate::domain::Period;
use crate::web::caller::{Caller, Writer};
use crate::web::confirm::{self, Question};
use crate::web::form::ConfirmForm;
use crate::web::respond::back;
use crate::web::FormId;
use crate::AppError;

/// The bill routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    LeptosOptions: FromRef<S>,
{
    Router::new()
        .route(DEFAULT_MARKUP.pattern(), post(default_markup))
        .route(CUSTOMER_MARKUP.pattern(), post(customer_markup))
        .route(MARK_DRAFT.pattern(), post(draft))
        .route(FINALISE.pattern(), post(final_bill))
}

/// The period and subscription of a bill's URL; 404 when they do not parse.
pub fn bill_ids(period: &str, sub: &str) -> Result<(Period, Uuid), AppError> {
    let period = Period::parse(period).map_err(|_| AppError::NotFound)?;
    Ok((period, Uuid::parse_str(sub.trim()).map_err(|_| AppError::NotFound)?))
}

/// The finalise message: the totals, and a note when usage fell through to this default subscription.
fn finalised(b: &Bill) -> String {
    let lines = crate::domain::number::count(b.lines.len() as u64, "line", "lines");
    let mut m = format!("The bill is final: {lines}, {}.", crate::domain::money::show(b.total_amount, &b.currency));
    if !b.fell_through.is_empty() {
        let n = b.fell_through.len() as u64;
        m += &format!(
            " Note: it includes usage of {} that fell through to this default subscription.",
            crate::domain::number::count(n, "tenant or unknown subscription", "tenants or unknown subscriptions")
        );
    }
    m
}

/// A change of one bill by the caller's partner: in one transaction, back to the bill with `change`'s message.
async fn change_bill(
    pool: &PgPool,
    caller: &Caller,
    (period, sub): (String, String),
    change: impl AsyncFnOnce(&mut PgConnection, &Actor, Uuid, Uuid, Period) -> Result<String, AppError>,
) -> Result<Redirect, AppError> {
    let mine = caller.partner_writer()?;
    let (period, sub) = bill_ids(&period, &sub)?;
    let result = async {
        let mut tx = pool.begin().await?;
        let partner = bill_partner(&mut tx, Scope::Partner(mine), sub).await?;
        let message = change(&mut tx, &caller.actor(), partner, sub, period).await?;
        tx.commit().await?;
        Ok(message)
    }
    .await;
    back(&caller.session, BILL_PAGE.at(&[&period, &sub]), FormId::Bills, result).await
}

/// `POST /bills/{period}/{subscription}/finalise`: asks first unless the post says it was asked (`web::confirm`).
async fn final_bill(
    State(pool): State<PgPool>,
    State(options): State<LeptosOptions>,
    Writer(caller): Writer,
    Path((period, sub)): Path<(String, String)>,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    if !confirm::answered(&f.confirmed) {
        let mine = caller.partner_writer()?;
        let (period, sub) = bill_ids(&period, &sub)?;
        let mut conn = pool.acquire().await?;
        bill_partner(&mut conn, Scope::Partner(mine), sub).await?;
        let customer = super::db::customer_name(&mut conn, mine, sub).await?;
        let question = Question {
            question: format!("Finalise the bill of {customer} for {}?", crate::domain::when::month(period)),
            consequence: "Its lines are frozen and it gets its invoice number; usage of the month that arrives later is billed as adjustments on the next bill.".into(),
            action: super::forms::FINALISE.at(&[&period, &sub]),
            fields: Vec::new(),
            button: "Finalise",
            back: BILL_PAGE.at(&[&period, &sub]),
        };
        return Ok(confirm::page(&options, question));
    }
    let finalise_it = async |tx: &mut PgConnection, actor: &Actor, partner, sub, period| {
        Ok(finalised(&finalise(tx, actor, partner, sub, period).await?))
    };
    Ok(change_bill(&pool, &caller, (period, sub), finalise_it).await?.into_response())
}

/// `POST /bills/{period}/{subscription}/draft`
async fn draft(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path(ids): Path<(String, String)>,
) -> Result<Redirect, AppError> {
    change_bill(&pool, &caller, ids, async |tx, actor, partner, sub, period| {
        mark_draft(tx, actor, partner, sub, period).await?;
        Ok("The bill is now a draft.".to_string())
    })
    .await
}

/// A markup as typed (`12.5`, `12.5 %`); empty is `None`.
fn percent(s: &str) -> Result<Option<Decimal>, AppError> {
    match s.trim().trim_end_matches('%').trim() {
        "" => Ok(None),
        t => t.parse::<Decimal>().map(Some).map_err(|_| AppError::Validation(format!("markup: “{t}” is not a number"))),
    }
}

/// `POST /bills/markup`: the partner's default.
async fn default_markup(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Form(f): Form<MarkupForm>,
) -> Result<Redirect, AppError> {
    let mine = caller.partner_writer()?;
    let result = async {
        let p = percent(&f.markup)?;
        let mut tx = pool.begin().await?;
        set_markup(&mut tx, &caller.actor(), mine, None, p).await?;
        tx.commit().await?;
        Ok("Default markup saved; open bills use it now.".to_string())
    }
    .await;
    back(&caller.session, BILLS_PAGE.pattern(), FormId::Bills, result).await
}

/// `POST /bills/{period}/{subscription}/markup`: one customer's own markup (empty: back to the default).
async fn customer_markup(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Path((period, sub)): Path<(String, String)>,
    Form(f): Form<MarkupForm>,
) -> Result<Redirect, AppError> {
    let mine = caller.partner_writer()?;
    let (period, sub) = bill_ids(&period, &sub)?;
    let result = async {
        let p = percent(&f.markup)?;
        let mut tx = pool.begin().await?;
        let partner = bill_partner(&mut tx, Scope::Partner(mine), sub).await?;
        set_markup(&mut tx, &caller.actor(), partner, Some(sub), p).await?;
        tx.commit().await?;
        Ok(if p.is_some() { "Markup saved for this customer." } else { "This customer now uses the default markup." }
            .to_string())
    }
    .await;
    back(&caller.session, BILL_PAGE.at(&[&period, &sub]), FormId::Bills, result).await
}
