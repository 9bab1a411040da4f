//! A partner admin's webhook settings: add an endpoint (its signing secret shown once), remove one, save the
//! thresholds. Each is one transaction and goes back to the settings page with the outcome.
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use leptos::config::LeptosOptions;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use super::forms::{
    EndpointForm, RemoveEndpointForm, ThresholdsForm, ADD_ENDPOINT, REMOVE_ENDPOINT, SAVE_THRESHOLDS, WEBHOOKS_PAGE,
};
use super::{EventKind, Settings};
use crate::domain::outbound::Outbound;
use crate::domain::secrets::SecretKey;
use crate::web::caller::{Caller, Writer};
use crate::web::confirm::{self, Question};
use crate::web::respond::back;
use crate::web::FormId;
use crate::AppError;

/// The webhook routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    Outbound: FromRef<S>,
    SecretKey: FromRef<S>,
    LeptosOptions: FromRef<S>,
{
    Router::new()
        .route(ADD_ENDPOINT.pattern(), post(add))
        .route(REMOVE_ENDPOINT.pattern(), post(remove))
        .route(SAVE_THRESHOLDS.pattern(), post(thresholds))
}

/// A refusal beside `field`.
fn rule(field: &str, message: String) -> AppError {
    AppError::Rule { field: field.into(), message }
}

/// The URL as typed, under the same outbound rules as the collector (https; no loopback or private address unless
/// the operator allows it).
fn endpoint_url(typed: &str, outbound: &Outbound) -> Result<String, AppError> {
    let field = EndpointForm::FIELDS.url;
    let typed = typed.trim();
    let url = url::Url::parse(typed).map_err(|_| {
        rule(
            field,
            format!("“{}” is not a web address such as https://example.com/hooks", crate::domain::text::echo(typed)),
        )
    })?;
    outbound.check_url(&url).map_err(|e| rule(field, format!("The endpoint {e}.")))?;
    // The address as stored (percent-encoded) is what must fit.
    if url.as_str().len() > 2000 {
        return Err(rule(field, "The address is longer than 2,000 characters.".into()));
    }
    Ok(url.to_string())
}

/// The events ticked; at least one.
fn events(pairs: &[(String, String)]) -> Result<Vec<EventKind>, AppError> {
    let field = EndpointForm::FIELDS.events;
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == field) {
        let e = EventKind::parse(v)
            .ok_or_else(|| rule(field, format!("“{}” is not an event", crate::domain::text::echo(v))))?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err(rule(field, "Tick at least one event to send to the endpoint.".into()));
    }
    Ok(out)
}

/// `POST /settings/webhooks/endpoints`
async fn add(
    State(pool): State<PgPool>,
    State(outbound): State<Outbound>,
    State(key): State<SecretKey>,
    Writer(caller): Writer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Redirect, AppError> {
    let partner = caller.partner_writer()?;
    let result = async {
        let typed = pairs.iter().find(|(k, _)| k == EndpointForm::FIELDS.url).map_or("", |(_, v)| v.as_str());
        let url = endpoint_url(typed, &outbound)?;
        let events = events(&pairs)?;
        // 244 random bits from the operating system (UUID v4), as ingestion keys.
        let secret = format!("whsec_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let mut tx = pool.begin().await?;
        super::db::add_endpoint(&mut tx, &caller.actor(), partner, &url, &events, &key.seal(&secret)).await?;
        tx.commit().await?;
        caller.session.put_new_secret(key.seal(&secret)).await?;
        Ok(format!("Endpoint {url} added. Copy its signing secret now: it is shown only once."))
    }
    .await;
    back_to_page(&caller, result).await
}

/// `POST /settings/webhooks/endpoints/remove`: asks first (`web::confirm`), then removes.
async fn remove(
    State(pool): State<PgPool>,
    State(options): State<LeptosOptions>,
    Writer(caller): Writer,
    Form(f): Form<RemoveEndpointForm>,
) -> Result<Response, AppError> {
    let partner = caller.partner_writer()?;
    let endpoint = Uuid::parse_str(f.endpoint_id.trim()).map_err(|_| AppError::NotFound)?;
    if !confirm::answered(&f.confirmed) {
        let url = super::db::endpoint_url(&mut *pool.acquire().await?, partner, endpoint).await?;
        let question = Question {
            question: format!("Remove the webhook endpoint {url}?"),
            consequence: "No further events are sent to it, and its pending deliveries are dropped.".into(),
            action: REMOVE_ENDPOINT.pattern().into(),
            fields: vec![(RemoveEndpointForm::FIELDS.endpoint_id, endpoint.to_string())],
            button: "Remove",
            back: WEBHOOKS_PAGE.pattern().into(),
        };
        return Ok(confirm::page(&options, question));
    }
    let result = async {
        let mut tx = pool.begin().await?;
        super::db::remove_endpoint(&mut tx, &caller.actor(), partner, endpoint).await?;
        tx.commit().await?;
        Ok("Endpoint removed; its pending deliveries are dropped.".to_string())
    }
    .await;
    Ok(back_to_page(&caller, result).await?.into_response())
}

/// A whole number of `what` between `min` and `max`.
fn whole(field: &str, typed: &str, (min, max): (i32, i32), what: &str) -> Result<i32, AppError> {
    typed
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| rule(field, format!("Give a whole number of {what} from {min} to {max}.")))
}

/// An amount of at least 0 with at most two decimals; empty is `None` when `optional`.
fn amount(field: &str, typed: &str, optional: bool) -> Result<Option<Decimal>, AppError> {
    let t = typed.trim();
    if t.is_empty() && optional {
        return Ok(None);
    }
    t.parse::<Decimal>()
        .ok()
        .filter(|d| !d.is_sign_negative() && d.scale() <= 2 && *d < Decimal::from(1_000_000_000_000_i64))
        .map(Some)
        .ok_or_else(|| rule(field, format!("“{}” is not an amount such as 250 or 99.50", crate::domain::text::echo(t))))
}

/// `POST /settings/webhooks/thresholds`
async fn thresholds(
    State(pool): State<PgPool>,
    Writer(caller): Writer,
    Form(f): Form<ThresholdsForm>,
) -> Result<Redirect, AppError> {
    let partner = caller.partner_writer()?;
    let names = ThresholdsForm::FIELDS;
    let result = async {
        let s = Settings {
            silent_hours: whole(names.silent_hours, &f.silent_hours, (1, 720), "hours")?,
            collector_failures: whole(names.collector_failures, &f.collector_failures, (1, 100), "runs")?,
            recon_threshold: amount(names.recon_threshold, &f.recon_threshold, false)?.unwrap_or_default(),
            customer_threshold: amount(names.customer_threshold, &f.customer_threshold, true)?.filter(|d| !d.is_zero()),
        };
        let mut tx = pool.begin().await?;
        super::db::save_settings(&mut tx, &caller.actor(), partner, &s).await?;
        tx.commit().await?;
        Ok("Thresholds saved.".to_string())
    }
    .await;
    back_to_page(&caller, result).await
}

async fn back_to_page(caller: &Caller, result: Result<String, AppError>) -> Result<Redirect, AppError> {
    back(&caller.session, WEBHOOKS_PAGE.pattern(), FormId::Webhooks, result).await
}
