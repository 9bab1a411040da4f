//! `/settings/webhooks`: a partner's endpoints (with the signing secret of a new one, once), the thresholds, and the
//! latest deliveries with their answers.
use leptos::prelude::*;

use super::forms::{EndpointForm, RemoveEndpointForm, ThresholdsForm, ADD_ENDPOINT, REMOVE_ENDPOINT, SAVE_THRESHOLDS};
use super::{Delivery, Endpoint, EventKind, WebhooksView};
use crate::domain::when::minute;
use crate::layout::{field_error, notice};
use crate::web::{Flash, FormId};
use crate::AppError;

/// Deliveries listed on the page.
#[cfg(feature = "ssr")]
const LOG_SIZE: i64 = 50;

/// The caller's partner's webhook settings; operators have none (403).
#[server]
pub async fn load_webhooks() -> Result<WebhooksView, AppError> {
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let partner = scope.partner_filter().ok_or(AppError::Forbidden)?;
    let pool = crate::db::pool()?;
    let (currency, _) = crate::partners::db::terms(&pool, partner).await?;
    let partner_name: String = crate::partners::db::choose(&pool, scope, None).await?.chosen.1;
    let mut conn = pool.acquire().await?;
    let new_secret = match session.take_new_secret().await? {
        Some(sealed) => Some(crate::db::secret_key()?.open(&sealed).map_err(|_| AppError::Internal)?),
        None => None,
    };
    Ok(WebhooksView {
        partner_name,
        currency,
        settings: super::db::settings(&mut conn, partner).await?,
        endpoints: super::db::endpoints(&mut conn, partner).await?,
        deliveries: super::db::deliveries(&mut conn, partner, LOG_SIZE).await?,
        new_secret,
        can_write: user.can_write(),
        flash: session.take_flash().await?,
    })
}

/// `/settings/webhooks`
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_webhooks());
    view! {
        <h1>"Webhooks"</h1>
        {crate::layout::loaded(data, |v| view! { <Webhooks v=v/> })}
    }
}

#[component]
fn Webhooks(v: WebhooksView) -> impl IntoView {
    view! {
        <p>{format!("Events about {}'s stacks and bills, posted as signed JSON to your endpoints.", v.partner_name)}</p>
        {notice(&v.flash, FormId::Webhooks)}
        {v.new_secret.clone().map(|s| view! {
            <div class="notice ok" data-testid="new-secret">
                <p>"The new endpoint's signing secret (shown only now):"</p>
                <p><code class="mono">{s}</code></p>
            </div>
        })}
        <section class="card" aria-label="Endpoints">
            <h2>"Endpoints"</h2>
            <Endpoints endpoints=v.endpoints.clone() can_write=v.can_write/>
            {v.can_write.then(|| view! { <AddEndpoint flash=v.flash.clone()/> })}
        </section>
        <Thresholds v=v.clone()/>
        <section class="card" aria-label="Deliveries">
            <h2>"Latest deliveries"</h2>
            <DeliveryLog deliveries=v.deliveries.clone()/>
        </section>
        <p class="hint">"Each delivery is a POST of JSON ({\"type\", \"partner_id\", \"occurred_at\", \"data\"}) with the headers Stackbill-Event, Stackbill-Delivery (the same on every attempt) and Stackbill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the endpoint's secret>. Refuse a timestamp older than five minutes. A 2xx answer within 10 seconds delivers it; otherwise it is tried again after 30 s, 1, 2, 4… minutes (at most 2 hours apart) for a day."</p>
    }
}

#[component]
fn Endpoints(endpoints: Vec<Endpoint>, can_write: bool) -> impl IntoView {
    if endpoints.is_empty() {
        return view! { <p class="empty">"No endpoints yet: add one below to receive events."</p> }.into_any();
    }
    view! {
        <table class="data" tabindex="0" aria-label="Webhook endpoints">
            <thead><tr><th scope="col">"Address"</th><th scope="col">"Events"</th><th scope="col">"Added (UTC)"</th>
                <th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
            <tbody>{endpoints.into_iter().map(|e| view! {
                <tr>
                    <td class="mono">{e.url.clone()}</td>
                    <td>{e.events.join(", ")}</td>
                    <td>{minute(e.created_at)}</td>
                    <td>{can_write.then(|| view! {
                        <form method="post" action=REMOVE_ENDPOINT.pattern() class="inline">
                            <input type="hidden" name=RemoveEndpointForm::FIELDS.endpoint_id value=e.endpoint_id.to_string()/>
                            {crate::layout::unanswered()}
                            <button type="submit" on:click=crate::layout::confirm_first(format!("Remove {}? Its pending deliveries are dropped.", e.url))>"Remove"</button>
                        </form>
                    })}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn AddEndpoint(flash: Option<Flash>) -> impl IntoView {
    let names = EndpointForm::FIELDS;
    let beside = move |field: &str| field_error(&flash, field);
    view! {
        <form method="post" action=ADD_ENDPOINT.pattern() class="stacked" aria-label="Add an endpoint">
            <h3>"Add an endpoint"</h3>
            <label>"Address (https)" <input name=names.url type="url" required placeholder="https://example.com/stackbill-hooks"/></label>
            {beside(names.url)}
            <fieldset>
                <legend>"Events"</legend>
                {EventKind::ALL.into_iter().map(|e| view! {
                    <label class="check"><input type="checkbox" name=names.events value=e.as_str() checked/>
                        {e.label()} " " <span class="mono hint">{e.as_str()}</span></label>
                }).collect_view()}
            </fieldset>
            {beside(names.events)}
            <button type="submit" class="primary">"Add endpoint"</button>
        </form>
    }
}

#[component]
fn Thresholds(v: WebhooksView) -> impl IntoView {
    let (s, names) = (v.settings.clone(), ThresholdsForm::FIELDS);
    let flash = v.flash.clone();
    let beside = move |field: &str| field_error(&flash, field);
    view! {
        <section class="card" aria-label="Thresholds">
            <h2>"Thresholds"</h2>
            <form method="post" action=SAVE_THRESHOLDS.pattern() class="stacked" aria-label="Save the thresholds">
                <label>"A stack is silent after this many hours without usage"
                    <input name=names.silent_hours inputmode="numeric" value=s.silent_hours.to_string() disabled=!v.can_write/></label>
                {beside(names.silent_hours)}
                <label>"A collector is failing after this many failed runs in a row"
                    <input name=names.collector_failures inputmode="numeric" value=s.collector_failures.to_string() disabled=!v.can_write/></label>
                {beside(names.collector_failures)}
                <label>{format!("Report a reconciliation whose gap with Microsoft reaches ({})", v.currency)}
                    <input name=names.recon_threshold inputmode="decimal" value=s.recon_threshold.to_string() disabled=!v.can_write/></label>
                {beside(names.recon_threshold)}
                <label>{format!("Report a customer whose charges this month pass ({}; empty: never)", v.currency)}
                    <input name=names.customer_threshold inputmode="decimal" value=s.customer_threshold.map(|d| d.to_string()).unwrap_or_default() disabled=!v.can_write/></label>
                {beside(names.customer_threshold)}
                {v.can_write.then(|| view! { <button type="submit">"Save thresholds"</button> })}
            </form>
        </section>
    }
}

#[component]
fn DeliveryLog(deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="empty">"Nothing sent yet."</p> }.into_any();
    }
    view! {
        <table class="data" tabindex="0" aria-label="Webhook deliveries">
            <thead><tr><th scope="col">"Event"</th><th scope="col">"Endpoint"</th><th scope="col">"Queued (UTC)"</th>
                <th scope="col">"State"</th><th scope="col" class="num">"Attempts"</th><th scope="col">"Last answer"</th></tr></thead>
            <tbody>{deliveries.into_iter().map(|d| {
                let state = match d.state() {
                    "pending" if d.attempts > 0 => format!("pending, next try {}", minute(d.next_attempt_at)),
                    s => s.to_string(),
                };
                let answer = match (d.last_status, d.last_answer.clone()) {
                    (Some(status), answer) => format!("{status} {}", answer.unwrap_or_default()),
                    (None, Some(why)) => why,
                    (None, None) => "—".into(),
                };
                view! {
                    <tr data-state=d.state()>
                        <td class="mono">{d.event.clone()}</td>
                        <td class="mono">{d.url.clone()}</td>
                        <td>{minute(d.created_at)}</td>
                        <td>{state}</td>
                        <td class="num">{d.attempts}</td>
                        <td>{answer}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}
