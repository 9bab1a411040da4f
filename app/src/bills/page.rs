//! The bills pages: `/bills` (a period's bills per customer, with totals) and `/bills/:period/:subscription` (one
//! bill: lines, totals, fell-through tenants, draft / finalise, CSV, print view). Forms are plain posts.
use leptos::prelude::*;

use crate::layout::confirm_first;
use leptos_router::hooks::{use_params_map, use_query_map};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::forms::{
    MarkupForm, BILLS_PAGE, BILL_PAGE, CUSTOMER_MARKUP, DEFAULT_MARKUP, EXPORT_BILL, EXPORT_PERIOD, FINALISE,
    INVOICE_PAGE, MARK_DRAFT,
};
use super::{Bill, BillLine, BillStatus, BillSummary, LineType};
use crate::web::Flash;
use crate::AppError;

/// The bills list's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillsView {
    /// `YYYY-MM`.
    pub period: String,
    /// The partner shown.
    pub partner_id: Uuid,
    /// Its name.
    pub partner_name: String,
    /// Partners to choose from (operators only).
    pub partners: Vec<(Uuid, String)>,
    /// The partner's billing currency (ISO 4217); every amount on the page is in it.
    pub currency: String,
    /// The partner's default markup in percent.
    pub default_markup: Decimal,
    /// One row per bill of this page.
    pub bills: Vec<BillSummary>,
    /// This page's number, from 0.
    pub page: i64,
    /// Whether more bills follow.
    pub more: bool,
    /// Whether the viewer may change things.
    pub can_write: bool,
    /// The last form's outcome.
    pub flash: Option<Flash>,
    /// The partner's stacks waiting to be re-rated (after a price list or meter map import).
    pub rerating: i64,
}

/// One bill's page data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillView {
    /// The bill.
    pub bill: Bill,
    /// Whether the viewer may change it.
    pub can_write: bool,
    /// The last form's outcome.
    pub flash: Option<Flash>,
    /// The partner's stacks waiting to be re-rated (after a price list or meter map import).
    pub rerating: i64,
}

/// The bills of a period (default: this month) for the caller's partner (operators: `partner`, default the first).
#[server]
pub async fn load_bills(
    period: Option<String>,
    partner: Option<String>,
    page: i64,
    order: crate::sorting::Order,
) -> Result<BillsView, AppError> {
    use super::list::{bills_page, summary};
    use crate::domain::Period;
    let of = crate::paging::PageOf::new("page", page, BILLS_PAGE_SIZE)?;
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let pool = crate::db::pool()?;
    let period = match period.filter(|p| !p.trim().is_empty()) {
        Some(p) => Period::parse(&p)?,
        None => Period::of(crate::domain::clock::now()),
    };
    let crate::partners::db::PartnerChoice { partners, chosen: (partner_id, partner_name) } =
        crate::partners::db::choose(&pool, scope, partner.as_deref()).await?;
    let (currency, default_markup) = crate::partners::db::terms(&pool, partner_id).await?;
    let mut conn = pool.acquire().await?;
    let order = order.column(&super::list::BILL_SORTS).map(|c| (c, order.descending()));
    let mut tx = crate::db::reading(&mut conn).await?;
    let list = bills_page(&mut tx, partner_id, period, of, order).await?;
    let rerating = crate::charges::db::queued(&mut *tx, partner_id).await?;
    tx.commit().await?;
    let flash = session.take_flash().await?;
    Ok(BillsView {
        period: period.to_string(),
        partner_id,
        partner_name,
        partners: if scope.partner_filter().is_none() { partners } else { vec![] },
        currency,
        default_markup: default_markup.normalize(),
        bills: list.rows.iter().map(summary).collect(),
        page: list.page,
        more: list.more,
        rerating,
        can_write: user.can_write() && scope.partner_filter().is_some(),
        flash,
    })
}

/// One bill; `NotFound` outside the caller's scope.
/// The bill of `subscription` (from the URL) for `period`, if its partner is in `scope`; `NotFound` otherwise.
#[cfg(feature = "ssr")]
pub async fn bill_in_scope(
    conn: &mut sqlx::PgConnection,
    scope: crate::auth::Scope,
    period: &str,
    subscription: &str,
) -> Result<Bill, AppError> {
    let period = crate::domain::Period::parse(period).map_err(|_| AppError::NotFound)?;
    let sub = Uuid::parse_str(subscription.trim()).map_err(|_| AppError::NotFound)?;
    // A partner's own bills need no lookup of the owner: `bill` answers NotFound for subscriptions it does not know.
    let partner = match scope.partner_filter() {
        Some(mine) => mine,
        None => super::db::bill_partner(conn, scope, sub).await?,
    };
    super::db::bill(conn, partner, sub, period).await
}

#[server]
pub async fn load_bill(period: String, subscription: String) -> Result<BillView, AppError> {
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let mut conn = crate::db::pool()?.acquire().await?;
    let mut tx = crate::db::reading(&mut conn).await?;
    let bill = bill_in_scope(&mut tx, scope, &period, &subscription).await?;
    let rerating = crate::charges::db::queued(&mut *tx, bill.partner_id).await?;
    tx.commit().await?;
    let flash = session.take_flash().await?;
    Ok(BillView { bill, can_write: user.can_write() && scope.partner_filter().is_some(), flash, rerating })
}

use crate::domain::money::show as money;

/// Says that amounts may still change while the partner's stacks are re-rated.
fn rerating(stacks: i64) -> Option<impl IntoView> {
    (stacks > 0).then(|| {
        let text = format!(
            "Being re-rated: {stacks} of your stacks are being re-rated after a price list or meter map change. Amounts may still change; reload in a minute."
        );
        view! { <p class="notice warn" role="status" data-testid="rerating">{text}</p> }
    })
}

/// Bills per page of the list: as many as customers per page of the customers list. (It was 200: the list then
/// cost five bill pages' time for one page of bills, BENCHMARKS.md.)
pub const BILLS_PAGE_SIZE: i64 = 50;

/// `/bills?period=YYYY-MM&partner=…&page=N`
#[component]
pub fn BillsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            let order = crate::sorting::Order {
                sort: q.get("sort").unwrap_or_default(),
                desc: q.get("desc").unwrap_or_default(),
            };
            (q.get("period"), q.get("partner"), crate::paging::page_param(q.get("page")), order)
        },
        |(period, partner, page, order)| load_bills(period, partner, page, order),
    );
    view! {
        <h1>"Bills"</h1>
        {crate::layout::loaded(data, |v| view! { <BillsList v=v/> })}
    }
}

#[component]
fn BillsList(v: BillsView) -> impl IntoView {
    let total = |f: fn(&BillSummary) -> Decimal| v.bills.iter().map(f).sum::<Decimal>();
    let (amount, price, margin) = (total(|b| b.amount), total(|b| b.customer_price), total(|b| b.margin));
    let cur = v.currency.clone();
    let csv = format!("{}?partner={}", EXPORT_PERIOD.at(&[&v.period]), v.partner_id);
    let recon = format!("{}?period={}&partner={}", crate::recon::forms::RECON_PAGE.pattern(), v.period, v.partner_id);
    let (page, more) = (v.page, v.more);
    let total_label = if page > 0 || more { "Total of this page" } else { "Total" };
    let query = crate::paging::current_query();
    let sort_by = |label: &str, column: &'static str, num: bool| {
        view! { <crate::sorting::SortHeader label=label.to_string() column path=BILLS_PAGE.pattern().into() num/> }
    };
    view! {
        {crate::layout::notice(&v.flash, crate::web::FormId::Bills)}
        {rerating(v.rerating)}
        <form method="get" action=BILLS_PAGE.pattern() class="inline" aria-label="Choose the period">
            <label>"Month (UTC) " <input type="month" name="period" value=v.period.clone()/></label>
            {crate::layout::partner_select(&v.partners, v.partner_id)}
            " " <button type="submit">"Show"</button>
        </form>
        <p>{format!("{} · {} · amounts in {} · lines rounded down to cents, totals are sums of lines", v.partner_name, v.period, v.currency)}</p>
        {if v.bills.is_empty() {
            view! { <p class="empty">"No bills for this month: no usage was billed to any subscription."</p> }.into_any()
        } else {
            view! {
                <table class="data" tabindex="0" aria-label="Bills">
                    <thead><tr>
                        {sort_by("Customer", "customer", false)}{sort_by("Subscription", "subscription", false)}
                        {sort_by("Status", "status", false)}
                        <th scope="col" class="num">"Lines"</th>{sort_by("Cost", "cost", true)}
                        <th scope="col" class="num">"Customer price"</th><th scope="col" class="num">"Margin"</th>
                    </tr></thead>
                    <tbody>{v.bills.iter().map(|b| view! {
                        <tr>
                            <td><a href=BILL_PAGE.at(&[&v.period, &b.subscription_id])>{b.customer_name.clone()}</a></td>
                            <td class="mono">{b.subscription_id.to_string()}</td>
                            <td><span class=format!("badge {}", if b.status == BillStatus::Final { "ok" } else { "" })>{b.status.as_str()}</span>
                                {b.has_adjustments.then(|| view! { " " <span class="badge warn">"adjustments"</span> })}</td>
                            <td class="num">{b.lines}</td>
                            <td class="num">{money(b.amount, &cur)}</td>
                            <td class="num">{money(b.customer_price, &cur)}</td>
                            <td class="num">{money(b.margin, &cur)}</td>
                        </tr>
                    }).collect_view()}</tbody>
                    <tfoot><tr>
                        <th scope="row" colspan="4">{total_label}</th>
                        <td class="num" data-testid="total-amount">{money(amount, &cur)}</td>
                        <td class="num">{money(price, &cur)}</td><td class="num">{money(margin, &cur)}</td>
                    </tr></tfoot>
                </table>
                <crate::paging::Pager page more label="Bill pages"
                    href=move |n| crate::paging::with_page("/bills", &query, "page", n)/>
                <p><a href=csv download rel="external">"Download all bills of the month (CSV)"</a></p>
            }.into_any()
        }}
        <p><a href=recon>"Check Microsoft's bill against Stackbill's (reconciliation)"</a></p>
        {v.can_write.then(|| view! {
            <form method="post" action=DEFAULT_MARKUP.pattern() class="inline" aria-label="Default markup">
                <label>"Default markup (%) " <input name=MarkupForm::FIELDS.markup inputmode="decimal" value=v.default_markup.to_string() size="6"/></label>
                " " <button type="submit">"Save"</button>
                {crate::layout::field_error(&v.flash, MarkupForm::FIELDS.markup)}
                <span class="hint">" Customer price = cost × (1 + markup). A customer's own markup, set on its bill, wins."</span>
            </form>
        })}
    }
}

/// `/bills/:period/:subscription`
#[component]
pub fn BillPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            (params.read().get("period").unwrap_or_default(), params.read().get("subscription").unwrap_or_default())
        },
        |(period, sub)| load_bill(period, sub),
    );
    let print = move || query.read().get("print").is_some();
    view! {
        {crate::layout::loaded_or(data, move |v| view! { <BillDetail v=v print=print()/> }, |e| {
            e.set_page_status();
            let text = match e { AppError::NotFound => "This bill does not exist, or it is not yours.".to_string(), other => other.to_string() };
            view! { <h1>"Bill"</h1><p class="notice error" role="alert">{text}</p> }
        })}
    }
}

#[component]
fn BillDetail(v: BillView, print: bool) -> impl IntoView {
    let b = v.bill.clone();
    let ids: [&(dyn std::fmt::Display + Sync); 2] = [&b.period, &b.subscription_id];
    let cur = b.currency.clone();
    let can_change = v.can_write && !print && b.status != BillStatus::Final;
    view! {
        <div class=if print { "bill print" } else { "bill" }>
        <h1>{format!("Bill {} · {}", b.period, b.customer_name)}</h1>
        {crate::layout::notice(&v.flash, crate::web::FormId::Bills)}
        {rerating(v.rerating)}
        <dl class="facts" data-testid="bill-facts">
            <dt>"Partner"</dt><dd>{b.partner_name.clone()}</dd>
            <dt>"Customer"</dt><dd>{b.customer_name.clone()} " " <span class="mono">{b.customer_tenant_id.map(|t| t.to_string()).unwrap_or_default()}</span></dd>
            <dt>"Subscription"</dt><dd class="mono">{b.subscription_id.to_string()} " " {b.offer_type.map(|o| o.as_str())}</dd>
            <dt>"Period (UTC)"</dt><dd>{format!("{} to {}", b.period_start, b.period_end)}</dd>
            <dt>"Status"</dt><dd data-testid="bill-status">{b.status.as_str()} {b.finalized_at.map(|t| format!(" (finalised {} UTC)", crate::domain::when::minute(t)))}</dd>
            <dt>"Markup"</dt><dd>{format!("{} %", b.markup_percent)}</dd>
        </dl>
        {if b.lines.is_empty() {
            view! { <p class="empty">"No charged usage in this month."</p> }.into_any()
        } else {
            view! { <LinesTable lines=b.lines.clone() currency=cur.clone()/> }.into_any()
        }}
        <dl class="facts totals">
            <dt>"Total cost"</dt><dd data-testid="bill-total">{money(b.total_amount, &cur)}</dd>
            <dt>"Total customer price"</dt><dd data-testid="bill-price">{money(b.total_customer_price, &cur)}</dd>
            <dt>"Total margin"</dt><dd>{money(b.total_margin, &cur)}</dd>
        </dl>
        {(!b.uncharged.is_empty()).then(|| view! { <UnchargedTable uncharged=b.uncharged.clone()/> })}
        {(!b.fell_through.is_empty()).then(|| view! { <FellThroughList tenants=b.fell_through.clone()/> })}
        {(!print).then(|| view! {
            <p class="actions">
                <a href=EXPORT_BILL.at(&ids) download rel="external">"Download CSV"</a> " · "
                <a href=format!("{}?print=1", BILL_PAGE.at(&ids))>"Print view"</a> " · "
                <a href=INVOICE_PAGE.at(&ids)>"Customer invoice"</a> " · "
                <a href=format!("/bills?period={}", b.period)>"All bills of the month"</a>
            </p>
        })}
        {can_change.then(|| view! { <StatusForms bill=b.clone() flash=v.flash.clone()/> })}
        </div>
    }
}

/// Usage on the bill's subscription without an amount (Capacity, Development, informational meters, no price), each
/// with why; unpriced rows are marked (they block finalising).
#[component]
fn UnchargedTable(uncharged: Vec<super::Uncharged>) -> impl IntoView {
    view! {
    <section class="card" aria-label="Usage without an amount">
        <h2>"Usage without an amount"</h2>
        <table class="data" tabindex="0" aria-label="Uncharged usage">
            <thead><tr><th scope="col">"Meter"</th><th scope="col">"Stacks"</th><th scope="col">"Days (UTC)"</th>
                <th scope="col" class="num">"Quantity"</th><th scope="col">"Why"</th></tr></thead>
            <tbody>{uncharged.iter().map(|u| view! {
                <tr class=if u.is_unpriced() { "unpriced" } else { "" }>
                    <td>{u.meter_name.clone()}</td><td>{u.stacks.clone()}</td>
                    <td>{format!("{} – {}", u.first_day, u.last_day)}</td>
                    <td class="num">{crate::domain::number::quantity(u.quantity, 6)}</td><td>{u.explanation()}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    </section>
    }
}

/// The tenants whose usage fell through to this default subscription.
#[component]
fn FellThroughList(tenants: Vec<super::FellThrough>) -> impl IntoView {
    view! {
    <section class="card" aria-label="Tenants billed here by default">
        <h2>"Tenants billed to this default subscription"</h2>
        <p>"Their usage came here because they have no tenant subscription of their own on the stack at the usage time."</p>
        <ul>{tenants.iter().map(|f| view! {
            <li>{match (f.tenant_id, f.customer_name.clone()) {
                (Some(t), Some(n)) => format!("{n} ({t})"),
                (Some(t), None) => format!("tenant {t} (not in the directory)"),
                (None, _) => "local subscriptions the stack has not listed (owner unknown)".to_string(),
            }} " — " {f.stacks.clone()}</li>
        }).collect_view()}</ul>
    </section>
    }
}

/// Draft, finalise and the customer's markup, for a partner admin on a bill that is not final.
#[component]
fn StatusForms(bill: super::Bill, flash: Option<Flash>) -> impl IntoView {
    let b = bill;
    let ids: [&(dyn std::fmt::Display + Sync); 2] = [&b.period, &b.subscription_id];
    view! {
    <div class="card" aria-label="Bill status">
        {(b.status == BillStatus::Open).then(|| view! {
            <form method="post" action=MARK_DRAFT.at(&ids) class="inline"><button type="submit">"Mark as draft"</button></form> " "
        })}
        <form method="post" action=FINALISE.at(&ids) class="inline">
            {crate::layout::unanswered()}
            <button type="submit" class="primary" disabled=!b.period_ended
                on:click=confirm_first("Finalise this bill? Its lines are frozen; later usage of the month is billed as adjustments on the next bill.".into())>"Finalise"</button>
        </form>
        {(!b.period_ended).then(|| view! { <span class="hint">" A bill can be finalised once its month has ended (UTC)."</span> })}
        <form method="post" action=CUSTOMER_MARKUP.at(&ids) class="inline" aria-label="Customer markup">
            " " <label>"This customer's markup (%) " <input name=MarkupForm::FIELDS.markup inputmode="decimal" size="6" placeholder="partner default"/></label>
            " " <button type="submit">"Save markup"</button>
            {crate::layout::field_error(&flash, MarkupForm::FIELDS.markup)}
        </form>
    </div>
    }
}

#[component]
fn LinesTable(lines: Vec<BillLine>, currency: String) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label="Bill lines">
            <thead><tr>
                <th scope="col">"Type"</th><th scope="col">"Stack"</th><th scope="col">"Meter"</th><th scope="col">"Region"</th>
                <th scope="col" class="num">"Quantity"</th><th scope="col">"Unit"</th><th scope="col" class="num">"Unit price"</th>
                <th scope="col" class="num">"Cost"</th><th scope="col" class="num">"Customer price"</th><th scope="col" class="num">"Margin"</th>
            </tr></thead>
            <tbody>{lines.into_iter().map(|l| view! {
                <tr class=if l.line_type == LineType::Adjustment { "adjustment" } else { "" }>
                    <td>{if l.line_type == LineType::Adjustment { format!("adjustment for {}", l.charge_period) } else { "usage".into() }}</td>
                    <td>{l.stack_name.clone()}</td>
                    <td>{l.meter_name.clone()}<br/><span class="mono">{l.commerce_meter_id.to_string()}</span></td>
                    <td>{l.region.clone()}</td>
                    <td class="num">{crate::domain::number::quantity(l.quantity, 6)}</td>
                    <td>{l.unit.clone()}</td>
                    <td class="num">{format!("{} {}", crate::domain::number::grouped(l.unit_price.normalize()), currency)}</td>
                    <td class="num">{money(l.amount, &currency)}</td>
                    <td class="num">{money(l.customer_price, &currency)}</td>
                    <td class="num">{money(l.margin, &currency)}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}
