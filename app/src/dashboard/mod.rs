//! The dashboard (PRODUCT §6): this month's charges so far per stack and per customer, the top customers, a daily
//! chart and a projection to month end. Read from the charges rollup, so it costs the same at any usage volume.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::charts::{height, Bar, BarChart};
use crate::domain::money::show as money;
#[cfg(feature = "ssr")]
mod db;
use crate::AppError;

/// A row of a breakdown: who, and the precise cost so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CostRow {
    /// Stack cloud ID or billing subscription ID.
    pub id: Uuid,
    /// Stack or customer name.
    pub name: String,
    /// Cost so far (precise; bills round per line).
    pub cost: Decimal,
}

/// The dashboard's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The partner shown.
    pub partner_id: Uuid,
    /// Its name.
    pub partner_name: String,
    /// Partners to choose from (operators only).
    pub partners: Vec<(Uuid, String)>,
    /// The partner's billing currency (ISO 4217); every amount on the page is in it.
    pub currency: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The month before, `YYYY-MM`, shown beside it (so the 1st of a month is not an empty page).
    pub last_month: String,
    /// The month before's cost.
    pub last_month_cost: Decimal,
    /// Cost so far this month.
    pub cost: Decimal,
    /// Projected cost for the whole month at the pace so far.
    pub projection: Decimal,
    /// Per stack.
    pub stacks: Vec<CostRow>,
    /// Per customer (billing subscription), highest first.
    pub customers: Vec<CostRow>,
    /// Per UTC day of the month so far: (day, cost).
    pub daily: Vec<(time::Date, Decimal)>,
    /// Usage hours of stacks without a registration at the time (not billed).
    pub unregistered_quantity: Decimal,
    /// Quantity of usage with a commerce meter but no price in effect (not on any bill amount; blocks finalising).
    pub unpriced_quantity: Decimal,
}

/// A month's figures (default: this month) for the caller's partner (operators: `partner`, default the first).
#[server]
pub async fn load_dashboard(partner: Option<String>, month: Option<String>) -> Result<Dashboard, AppError> {
    use crate::domain::Period;
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let pool = crate::db::pool()?;
    let crate::partners::db::PartnerChoice { partners, chosen: (partner_id, partner_name) } =
        crate::partners::db::choose(&pool, scope, partner.as_deref()).await?;
    let now = crate::domain::clock::now();
    let month = match month.filter(|m| !m.trim().is_empty()) {
        Some(m) => Period::parse(&m)?,
        None => Period::of(now),
    };
    let customers = db::by_customer(&pool, partner_id, month).await?;
    let (unregistered_quantity, unpriced_quantity) = db::not_billed(&pool, partner_id, month).await?;
    let cost: Decimal = customers.iter().map(|c| c.cost).sum();
    Ok(Dashboard {
        partner_id,
        partner_name,
        partners: if scope.partner_filter().is_none() { partners } else { vec![] },
        currency: crate::partners::db::currency(&pool, partner_id).await?,
        month: month.to_string(),
        last_month: month.previous().to_string(),
        last_month_cost: db::month_cost(&pool, partner_id, month.previous()).await?,
        projection: projection(cost, month, now),
        cost,
        stacks: db::by_stack(&pool, partner_id, month).await?,
        customers,
        daily: db::daily(&pool, partner_id, month, now.date()).await?,
        unregistered_quantity,
        unpriced_quantity,
    })
}

/// The month's cost at the pace so far, for the whole month; a past month's projection is its cost.
#[cfg(feature = "ssr")]
fn projection(cost: Decimal, month: crate::domain::Period, now: time::OffsetDateTime) -> Decimal {
    let (start, end) = (month.start().midnight().assume_utc(), month.next().start().midnight().assume_utc());
    let month_seconds = Decimal::from((end - start).whole_seconds());
    let elapsed = Decimal::from((now.min(end) - start).whole_seconds().max(1));
    (cost * month_seconds / elapsed).round_dp(2)
}

/// `/dashboard`
#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || (query.read().get("partner"), query.read().get("month")),
        |(partner, month)| load_dashboard(partner, month),
    );
    view! {
        <h1>"Dashboard"</h1>
        {crate::layout::loaded(data, |d| view! { <DashboardView d=d/> })}
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let cur = d.currency.clone();
    let bars: Vec<Bar> = d
        .daily
        .iter()
        .map(|(day, cost)| Bar { label: format!("{:02}-{:02}", day.month() as u8, day.day()), value: height(*cost) })
        .collect();
    let top: Vec<CostRow> = d.customers.iter().take(5).cloned().collect();
    let max_top = top.first().map(|c| c.cost).unwrap_or_default();
    view! {
        <form method="get" action="/dashboard" class="inline" aria-label="Choose the month">
            {crate::layout::partner_select(&d.partners, d.partner_id)}
            <label>"Month " <input type="month" name="month" value=d.month.clone()/></label>
            " " <button type="submit">"Show"</button>
        </form>
        <p>{format!("{} · {} (UTC) so far · cost at list prices, before per-line rounding on bills", d.partner_name, d.month)}</p>
        <div class="stats">
            <div class="stat" data-testid="cost-so-far">"Cost so far"<strong>{money(d.cost, &cur)}</strong></div>
            <div class="stat">"Projected for the month"<strong>{money(d.projection, &cur)}</strong></div>
            <div class="stat">"Customers billed"<strong>{d.customers.len()}</strong></div>
            <div class="stat" data-testid="last-month">
                <a href=format!("/dashboard?month={}&partner={}", d.last_month, d.partner_id)>{format!("Last month ({})", d.last_month)}</a>
                <strong>{money(d.last_month_cost, &cur)}</strong>
            </div>
        </div>
        {(!d.unpriced_quantity.is_zero()).then(|| view! {
            <p class="notice error" role="alert" data-testid="unpriced">{format!(
                "{} units of usage this month have no price in {}: they are on no bill amount, and their bills cannot be finalised until a price list covers them. See the bills.",
                crate::domain::number::quantity(d.unpriced_quantity, 6), cur
            )}</p>
        })}
        {(!d.unregistered_quantity.is_zero()).then(|| view! {
            <p class="notice error" role="alert">"Some usage this month came from stacks that were not registered at the time; it is not billed. See the stacks' pages."</p>
        })}
        <BarChart title=format!("Cost per day, {} (UTC)", d.month) unit=cur.clone() x_label="Day (UTC)".into() bars=bars/>
        <section class="card" aria-label="Top customers">
            <h2>"Top customers"</h2>
            {if top.is_empty() { view! { <p class="empty">"No charges yet this month. Usage arrives from your stacks: on a stack's page, create an ingestion key, set up the collector or upload usage files. " <a href="/">"Your stacks"</a></p> }.into_any() } else {
                view! { <ol>{top.into_iter().map(|c| {
                    let share = if max_top.is_zero() { 0.0 } else { height(c.cost / max_top) * 100.0 };
                    view! { <li><a href=format!("/bills/{}/{}", d.month, c.id)>{c.name}</a> " " {money(c.cost, &cur)}
                        <div class="meter" style=format!("width:{share:.0}%")></div></li> }
                }).collect_view()}</ol> }.into_any()
            }}
        </section>
        <section class="card" aria-label="Per stack">
            <h2>"Per stack"</h2>
            <CostTable rows=d.stacks.clone() currency=cur.clone() link=|id| format!("/stacks/{id}") label="Stack"/>
        </section>
        <section class="card" aria-label="Per customer">
            <h2>"Per customer"</h2>
            <CostTable rows=d.customers.clone() currency=cur.clone() link=move |id| format!("/bills/{}/{id}", d.month) label="Customer"/>
        </section>
    }
}

#[component]
fn CostTable(
    rows: Vec<CostRow>,
    currency: String,
    link: impl Fn(Uuid) -> String + 'static,
    label: &'static str,
) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label=label>
            <thead><tr><th scope="col">{label}</th><th scope="col" class="num">"Cost so far"</th></tr></thead>
            <tbody>{rows.into_iter().map(|r| view! {
                <tr><td><a href=link(r.id)>{r.name}</a></td><td class="num">{money(r.cost, &currency)}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}
