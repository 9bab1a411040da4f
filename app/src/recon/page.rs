//! `/reconciliation`: Microsoft's bill against Stackbill's charges for a partner's month (issue 14, item 2). The
//! month's current import, totals per customer and in all, and each difference with its likely cause and where to
//! look (the stacks that bill the subscription, its mappings, the usage, the bill); the import form; the CSV.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::forms::{EXPORT_RECON, IMPORT_RECON, RECON_PAGE};
use super::view::{Difference, ReconView, Tally};
use super::Kind;
use crate::domain::money::show as money;
use crate::domain::number::count;
use crate::domain::text::short_id;
use crate::web::form::FILE_FIELD;
use crate::AppError;

/// The reconciliation of a month (default: the month the partner imported last, else last month).
#[server]
pub async fn load_recon(period: Option<String>, partner: Option<String>) -> Result<ReconView, AppError> {
    use super::view::{differences, meters, tallies, SHOWN_DIFFERENCES};
    use crate::domain::Period;
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let pool = crate::db::pool()?;
    let crate::partners::db::PartnerChoice { partners, chosen: (partner_id, partner_name) } =
        crate::partners::db::choose(&pool, scope, partner.as_deref()).await?;
    let (currency, _) = crate::partners::db::terms(&pool, partner_id).await?;
    let mut conn = pool.acquire().await?;
    let period = match period.filter(|p| !p.trim().is_empty()) {
        Some(p) => Period::parse(&p)?,
        None => super::db::last_imported(&mut conn, partner_id)
            .await?
            .unwrap_or_else(|| Period::of(crate::domain::clock::now()).previous()),
    };
    let imported = super::db::current(&mut conn, partner_id, period).await?;
    let rows = super::compare::compare(&mut conn, partner_id, period).await?.unwrap_or_default();
    let (customers, total) = tallies(&rows);
    let mut differences = differences(&rows);
    let all_differences = differences.len();
    differences.truncate(SHOWN_DIFFERENCES);
    Ok(ReconView {
        period: period.to_string(),
        partner_id,
        partner_name,
        partners: if scope.partner_filter().is_none() { partners } else { vec![] },
        currency,
        imported,
        customers,
        total,
        meters: meters(&rows),
        differences,
        all_differences,
        can_write: user.can_write() && scope.partner_filter().is_some(),
        flash: session.take_flash().await?,
    })
}

/// `/reconciliation?period=YYYY-MM&partner=…`
#[component]
pub fn ReconPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("period"), q.get("partner"))
        },
        |(period, partner)| load_recon(period, partner),
    );
    view! {
        <h1>"Reconciliation with Microsoft's bill"</h1>
        {crate::layout::loaded(data, |v| view! { <Recon v=v/> })}
    }
}

#[component]
fn Recon(v: ReconView) -> impl IntoView {
    let csv = format!("{}?partner={}", EXPORT_RECON.at(&[&v.period]), v.partner_id);
    view! {
        {crate::layout::notice(&v.flash, crate::web::FormId::Reconciliation)}
        <form method="get" action=RECON_PAGE.pattern() class="inline" aria-label="Choose the month">
            <label>"Month (UTC) " <input type="month" name="period" value=v.period.clone()/></label>
            {crate::layout::partner_select(&v.partners, v.partner_id)}
            " " <button type="submit">"Show"</button>
        </form>
        {match v.imported.clone() {
            None => view! {
                <p class="empty" data-testid="recon-empty">{format!(
                    "No reconciliation file of {} for {} yet. In Partner Center, export the month's daily rated usage reconciliation file (Billing → Billing history), then import it below.",
                    v.period, v.partner_name
                )}</p>
            }.into_any(),
            Some(i) => view! {
                <p data-testid="recon-imported">{format!(
                    "{} · {} · Microsoft's file “{}”, imported by {} on {} UTC: {} compared, {} set aside.",
                    v.partner_name, v.period, i.file_name, i.imported_by, crate::domain::when::minute(i.imported_at),
                    count(i.lines as u64, "Azure Stack Hub line", "Azure Stack Hub lines"),
                    count(i.set_aside as u64, "other line", "other lines")
                )}</p>
                <Totals total=v.total.clone() currency=v.currency.clone()/>
                <Customers v=v.clone()/>
                <Meters meters=v.meters.clone()/>
                <Differences v=v.clone()/>
                <p><a href=csv download rel="external">"Download the differences (CSV)"</a></p>
            }.into_any(),
        }}
        <p class="hint">"A line is one subscription, usage day (UTC) and commerce meter, in the commerce meter's unit. Quantities agree within 0.000001 units; amounts at list price (Microsoft's quantity × unit price, before partner-earned credit) within a cent per Microsoft line; unit prices must be equal. What Microsoft billed after credits is shown beside."</p>
        {v.can_write.then(|| view! {
            <form method="post" action=IMPORT_RECON.pattern() enctype="multipart/form-data" class="card stacked" aria-label="Import Microsoft's reconciliation file">
                <h2>"Import Microsoft's file"</h2>
                <label>"Daily rated usage reconciliation file (CSV, as Partner Center exports it) "
                    <input type="file" name=FILE_FIELD accept=".csv,text/csv" required/></label>
                <button type="submit" class="primary">"Import"</button>
                <span class="hint">"One month per file. Importing a month again replaces its file and says what changed."</span>
            </form>
        })}
    }
}

/// "1 line", "304 lines": a line is one subscription, usage day and commerce meter.
fn lines(n: usize) -> String {
    if n == 1 {
        "1 line".into()
    } else {
        format!("{n} lines")
    }
}

#[component]
fn Totals(total: Tally, currency: String) -> impl IntoView {
    let c = currency;
    view! {
        <dl class="facts totals" data-testid="recon-totals">
            <dt>"Matched"</dt><dd>{format!("{} ({})", money(total.matched_amount, &c), lines(total.matched))}</dd>
            <dt>"Microsoft at list price"</dt><dd>{money(total.microsoft_list_amount, &c)}</dd>
            <dt>"Microsoft billed (after credits)"</dt><dd>{money(total.microsoft_amount, &c)}</dd>
            <dt>"Stackbill charged"</dt><dd>{money(total.stackbill_amount, &c)}</dd>
            <dt>"Difference (Microsoft − Stackbill)"</dt><dd data-testid="recon-gap">{money(total.gap(), &c)}</dd>
            <dt>"Differences"</dt><dd data-testid="recon-differences">{lines(total.differences)}</dd>
        </dl>
    }
}

#[component]
fn Customers(v: ReconView) -> impl IntoView {
    let c = v.currency.clone();
    let usage = move |t: Option<Uuid>| t.map(|t| format!("/usage?customer={t}"));
    view! {
        <div class="scroll">
        <table class="data" tabindex="0" aria-label="Per customer">
            <thead><tr>
                <th scope="col">"Customer"</th><th scope="col" class="num">"Matched"</th>
                <th scope="col" class="num">"Matched amount"</th><th scope="col" class="num">"Microsoft (list)"</th>
                <th scope="col" class="num">"Stackbill"</th><th scope="col" class="num">"Difference"</th>
                <th scope="col" class="num">"Differences"</th>
            </tr></thead>
            <tbody>{v.customers.iter().map(|t| view! {
                <tr class=(t.differences != 0).then_some("differs")>
                    <td>{match usage(t.customer_tenant_id) {
                        Some(href) => view! { <a href=href>{t.customer_name.clone()}</a> }.into_any(),
                        None => t.customer_name.clone().into_any(),
                    }}</td>
                    <td class="num">{t.matched}</td>
                    <td class="num">{money(t.matched_amount, &c)}</td>
                    <td class="num">{money(t.microsoft_list_amount, &c)}</td>
                    <td class="num">{money(t.stackbill_amount, &c)}</td>
                    <td class="num">{money(t.gap(), &c)}</td>
                    <td class="num">{t.differences}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
        </div>
    }
}

/// Quantities per commerce meter, each in its own unit.
#[component]
fn Meters(meters: Vec<super::view::MeterTally>) -> impl IntoView {
    view! {
        <div class="scroll">
        <table class="data" tabindex="0" aria-label="Per meter">
            <thead><tr>
                <th scope="col">"Meter"</th><th scope="col" class="num">"Matched quantity"</th>
                <th scope="col" class="num">"Microsoft quantity"</th><th scope="col" class="num">"Stackbill quantity"</th>
            </tr></thead>
            <tbody>{meters.into_iter().map(|m| view! {
                <tr>
                    <td title=format!("commerce meter {}", m.commerce_meter_id)>{m.meter_name}</td>
                    <td class="num">{quantity(Some(m.matched_quantity))}</td>
                    <td class="num">{quantity(Some(m.microsoft_quantity))}</td>
                    <td class="num">{quantity(Some(m.stackbill_quantity))}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
        </div>
    }
}

fn quantity(q: Option<Decimal>) -> String {
    q.map_or_else(|| "—".into(), |q| crate::domain::number::quantity(q, 6))
}

/// Where to look for a difference: the stacks that bill the subscription (their usage or their mappings), the
/// customer's usage of those days, or the bill with Stackbill's unit price.
fn look_at(g: &Difference, period: &str) -> impl IntoView {
    let d = &g.first;
    let stacks: Vec<(String, String)> = d
        .stack_names
        .iter()
        .zip(&d.stack_clouds)
        .map(|(name, cloud)| {
            let anchor = if matches!(g.kind, Kind::OnlyStackbill | Kind::MicrosoftLess) { "#mappings" } else { "" };
            (name.clone(), format!("/stacks/{cloud}{anchor}"))
        })
        .collect();
    let usage = d.customer_tenant_id.map(|t| format!("/usage?from={}&to={}&customer={t}", d.day, g.last_day));
    let bill = crate::bills::forms::BILL_PAGE.at(&[&period, &d.subscription_id]);
    view! {
        {if stacks.is_empty() {
            view! { <span>"no stack bills this subscription: register the stack or map the tenant"</span> }.into_any()
        } else {
            stacks.into_iter().map(|(name, href)| view! { <a href=href>{name}</a> " " }).collect_view().into_any()
        }}
        {usage.map(|href| view! { " · " <a href=href>"usage"</a> })}
        {(g.kind == Kind::Price).then(|| view! { " · " <a href=bill>"bill (unit price)"</a> })}
    }
}

/// "5 Oct" for one day, "20–31 Oct (12 days)" for several.
fn days(g: &Difference) -> String {
    let day = |d: time::Date| format!("{} {}", d.day(), &d.month().to_string()[..3]);
    match g.days {
        1 => day(g.first.day),
        n => format!("{}–{} ({n} days)", day(g.first.day), day(g.last_day)),
    }
}

/// Unit prices as Microsoft and Stackbill have them.
fn unit_prices(d: &super::Compared) -> String {
    format!("{} / {}", quantity(d.microsoft_unit_price), quantity(d.stackbill_unit_price))
}

#[component]
fn Differences(v: ReconView) -> impl IntoView {
    let c = v.currency.clone();
    view! {
        <h2>"Differences"</h2>
        {if v.differences.is_empty() {
            view! { <p class="notice ok" role="status">"Every line agrees within the tolerances."</p> }.into_any()
        } else {
            view! {
                <p class="hint">"One row per subscription, meter and kind of difference; the CSV has each day."</p>
                <div class="scroll">
                <table class="data" tabindex="0" aria-label="Differences">
                    <thead><tr>
                        <th scope="col">"Customer"</th><th scope="col">"Days"</th><th scope="col">"Meter"</th>
                        <th scope="col" class="num">"Microsoft quantity"</th><th scope="col" class="num">"Stackbill quantity"</th>
                        <th scope="col" class="num">"Unit price (Microsoft / Stackbill)"</th>
                        <th scope="col" class="num">"Microsoft (list)"</th><th scope="col" class="num">"Stackbill"</th>
                        <th scope="col">"Likely cause"</th><th scope="col">"Look at"</th>
                    </tr></thead>
                    <tbody>{v.differences.iter().map(|g| view! {
                        <tr data-kind=format!("{:?}", g.kind)>
                            <td>{g.first.customer_name.clone().unwrap_or_default()}<br/>
                                <span class="mono" title=g.first.subscription_id.to_string()>{short_id(&g.first.subscription_id.to_string())}</span></td>
                            <td class="nowrap">{days(g)}</td>
                            <td title=format!("commerce meter {}", g.first.commerce_meter_id)>{g.first.meter_name.clone().unwrap_or_default()}</td>
                            <td class="num">{quantity(g.microsoft_quantity)}</td>
                            <td class="num">{quantity(g.stackbill_quantity)}</td>
                            <td class="num">{unit_prices(&g.first)}</td>
                            <td class="num">{g.microsoft_list_amount.map(|a| money(a, &c))}</td>
                            <td class="num">{g.stackbill_amount.map(|a| money(a, &c))}</td>
                            <td><strong>{g.kind.label()}</strong><br/><span class="hint">{g.kind.cause()}</span></td>
                            <td>{look_at(g, &v.period)}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
                </div>
                {(v.all_differences > v.differences.len()).then(|| view! {
                    <p class="hint">{format!("The first {} of {} rows; the CSV has all of them.", v.differences.len(), v.all_differences)}</p>
                })}
            }.into_any()
        }}
    }
}
