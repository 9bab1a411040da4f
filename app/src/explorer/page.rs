//! `/usage`: the explorer's form (GET, so a view is a link), its chart and table, and the CSV link.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{Choice, Filters, Grouping, UsageRow};
use crate::charts::{height, Bar, BarChart};
use crate::AppError;

/// Rows shown on the page at most (the CSV has all).
pub const PAGE_ROWS: i64 = 1000;

/// The explorer's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explorer {
    /// The filters in force (defaults filled in).
    pub filters: Filters,
    /// What the rows are per (the filters' `group`, read).
    pub group: Grouping,
    /// The partner's billing currency (ISO 4217); every cost on the page is in it.
    pub currency: String,
    /// The partner's stacks (cloud ID, name).
    pub stacks: Vec<Choice>,
    /// Its customers (tenant, name).
    pub customers: Vec<Choice>,
    /// Local meters with usage.
    pub meters: Vec<Choice>,
    /// Operators: every partner (ID, name) for the picker; empty for partner users.
    pub partners: Vec<(uuid::Uuid, String)>,
    /// The partner shown.
    pub partner_id: uuid::Uuid,
    /// The rows.
    pub rows: Vec<UsageRow>,
    /// Whether the page shows only the first rows.
    pub truncated: bool,
}

/// The view for the caller's partner (operators: the partner picked, by default the first).
#[server]
pub async fn load_explorer(filters: Filters) -> Result<Explorer, AppError> {
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let pool = crate::db::pool()?;
    let choice = crate::partners::db::choose(&pool, scope, Some(&filters.partner)).await?;
    let partner = choice.chosen.0;
    let partners = if scope.partner_filter().is_none() { choice.partners } else { Vec::new() };
    let today = crate::domain::clock::now().date();
    let p = super::db::parse(&filters, today)?;
    let sql = super::db::sql(&p);
    let mut rows = super::db::query(&sql, partner, &p, PAGE_ROWS + 1).fetch_all(&pool).await?;
    let truncated = rows.len() as i64 > PAGE_ROWS;
    rows.truncate(PAGE_ROWS as usize);
    let (stacks, customers, meters) = super::db::choices(&pool, partner).await?;
    let currency = crate::partners::db::currency(&pool, partner).await?;
    let filters = Filters {
        from: p.from.to_string(),
        to: p.to.to_string(),
        group: p.group.as_str().into(),
        partner: if partners.is_empty() { String::new() } else { partner.to_string() },
        // The order in force: a column the address names that the explorer does not know is no order at all.
        sort: p.order.map_or_else(String::new, |(c, _)| c.key().to_string()),
        desc: if p.order.is_some_and(|(_, d)| d) { "1".into() } else { String::new() },
        ..filters
    };
    Ok(Explorer {
        filters,
        group: p.group,
        currency,
        stacks,
        customers,
        meters,
        partners,
        partner_id: partner,
        rows,
        truncated,
    })
}

/// `/usage`
#[component]
pub fn ExplorerPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            let get = |k: &str| q.get(k).unwrap_or_default();
            Filters {
                from: get("from"),
                to: get("to"),
                stack: get("stack"),
                customer: get("customer"),
                meter: get("meter"),
                group: get("group"),
                partner: get("partner"),
                sort: get("sort"),
                desc: get("desc"),
            }
        },
        load_explorer,
    );
    view! {
        <h1>"Usage explorer"</h1>
        {crate::layout::loaded_or(data, |e| view! { <ExplorerView e=e/> }, |e| view! {
            <crate::error::ErrorNotice error=e/> <p><a href="/usage">"Reset the filters"</a></p>
        })}
    }
}

fn select(name: &'static str, label: &'static str, choices: Vec<super::Choice>, current: String) -> impl IntoView {
    view! {
        <label>{label} " "
            <select name=name>
                <option value="">"all"</option>
                {choices.into_iter().map(|c| {
                    let selected = c.id.to_string() == current;
                    view! { <option value=c.id.to_string() selected=selected>{c.name}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn ExplorerView(e: Explorer) -> impl IntoView {
    let (f, group) = (e.filters.clone(), e.group);
    let x_label = match group {
        Grouping::Meter => "Meter",
        Grouping::Resource => "Resource (20 most costly)",
        Grouping::Day => "Day (UTC)",
    };
    let csv = format!("/exports/usage?{}", f.query());
    let bars = chart_bars(&e.rows, group);
    view! {
        <FilterForm e=e.clone()/>
        <BarChart title=format!("Cost by {} at list prices, {} to {} (UTC)", group.as_str(), f.from, f.to) unit=e.currency.clone() x_label=x_label.into() bars=bars/>
        <p><a href=csv download rel="external">"Download this view (CSV)"</a>
            {e.truncated.then_some(" · the page shows the first 1,000 rows; the CSV has all")}</p>
        <UsageTable rows=e.rows group currency=e.currency subtotals=f.sort.is_empty() || f.sort == "key" truncated=e.truncated/>
    }
}

/// The chart's bars: cost per group key (days and meters sum over meters; resources show the 20 most costly, by the
/// last part of their URI).
fn chart_bars(rows: &[super::UsageRow], group: Grouping) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    for r in rows {
        let cost = height(r.cost.unwrap_or_default());
        match bars.iter_mut().find(|b| b.label == r.key) {
            Some(b) => b.value += cost,
            None => bars.push(Bar { label: r.key.clone(), value: cost }),
        }
    }
    // The chart keeps its own order whatever the table is sorted by: days in date order, the rest by cost.
    match group {
        Grouping::Day => bars.sort_by(|a, b| a.label.cmp(&b.label)),
        Grouping::Meter | Grouping::Resource => bars.sort_by(|a, b| b.value.total_cmp(&a.value)),
    }
    if group == Grouping::Resource {
        bars.truncate(20);
        for b in &mut bars {
            b.label = resource_label(&b.label);
        }
    }
    bars
}

/// A resource as a bar's label: its name and its subscription (first and last four characters: subscriptions
/// often share a prefix), which tells apart VMs of the same name in two customers' subscriptions ("vm1 · 5b5c…0001").
fn resource_label(uri: &str) -> String {
    let name = uri.rsplit('/').next().unwrap_or_default();
    let mut parts = uri.split('/');
    let subscription = parts.by_ref().find(|p| p.eq_ignore_ascii_case("subscriptions")).and(parts.next());
    match subscription {
        Some(sub) if sub.len() > 8 && sub.is_ascii() => format!("{name} · {}…{}", &sub[..4], &sub[sub.len() - 4..]),
        Some(sub) => format!("{name} · {sub}"),
        None => name.to_string(),
    }
}

/// The filters, submitted as a plain GET (bookmarkable, works without JavaScript).
#[component]
fn FilterForm(e: Explorer) -> impl IntoView {
    let f = e.filters;
    view! {
        <form method="get" action="/usage" class="filters" aria-label="Filter usage">
            {crate::layout::partner_select(&e.partners, e.partner_id)}
            <label>"From (UTC) " <input type="date" name="from" value=f.from.clone()/></label>
            <label>"To (UTC) " <input type="date" name="to" value=f.to.clone()/></label>
            {select("stack", "Stack", e.stacks, f.stack.clone())}
            {select("customer", "Customer", e.customers, f.customer.clone())}
            {select("meter", "Meter", e.meters, f.meter.clone())}
            <label>"Group by "
                <select name="group">
                    {Grouping::ALL.into_iter().map(|g| view! {
                        <option value=g.as_str() selected=e.group == g>{g.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            // The order chosen by a column heading stays when the filters change.
            <input type="hidden" name="sort" value=f.sort.clone()/>
            <input type="hidden" name="desc" value=f.desc.clone()/>
            <button type="submit">"Show"</button>
        </form>
    }
}

/// A row of the table: one of the view's rows, or the cost of the day above it.
enum Line {
    Row(super::UsageRow),
    Subtotal(String, rust_decimal::Decimal),
}

/// The view's rows with, per day of several rows, the day's cost after them (`subtotals`: only when the rows are in
/// day order; quantities of different meters are not added up).
fn with_subtotals(rows: &[super::UsageRow], subtotals: bool) -> Vec<Line> {
    let mut lines = Vec::with_capacity(rows.len() + rows.len() / 4);
    for day in rows.chunk_by(|a, b| a.key == b.key) {
        lines.extend(day.iter().cloned().map(Line::Row));
        if subtotals && day.len() > 1 {
            lines.push(Line::Subtotal(day[0].key.clone(), day.iter().filter_map(|r| r.cost).sum()));
        }
    }
    lines
}

/// The rows of the view with their quantity and cost at list price; every column sorts the view; the total cost
/// under it, and per day its subtotal.
#[component]
fn UsageTable(
    rows: Vec<super::UsageRow>,
    group: Grouping,
    currency: String,
    subtotals: bool,
    truncated: bool,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No usage matches these filters. Widen the days, or choose all stacks, customers and meters."</p> }.into_any();
    }
    let first = match group {
        Grouping::Meter => "Meter",
        Grouping::Resource => "Resource",
        Grouping::Day => "Day (UTC)",
    };
    let total: rust_decimal::Decimal = rows.iter().filter_map(|r| r.cost).sum();
    let per_resource = group == Grouping::Resource;
    let columns = if per_resource { 6 } else { 5 };
    let lines = with_subtotals(&rows, subtotals && group == Grouping::Day);
    let money = |c: rust_decimal::Decimal| crate::domain::money::show(c, &currency);
    let heading = |label: &str, column: &'static str, num: bool| {
        view! { <crate::sorting::SortHeader label=label.to_string() column path="/usage".into() num/> }
    };
    view! {
        <table class="data" tabindex="0" aria-label="Usage">
            <thead><tr>
                {heading(first, "key", false)}
                {per_resource.then(|| view! { <th scope="col">"Customer"</th> })}
                {heading("Meter", "meter", false)}
                {heading("Quantity", "quantity", true)}
                <th scope="col">"Unit"</th>
                {heading("Cost at list price", "cost", true)}
            </tr></thead>
            <tbody>{lines.into_iter().map(|line| match line {
                Line::Row(r) => view! {
                    <tr>
                        <td class=if per_resource { "mono" } else { "" }>{r.key}</td>
                        {per_resource.then(|| view! { <td>{r.customer.clone().unwrap_or_else(|| "unknown".into())}</td> })}
                        <td>{r.meter_name}</td>
                        <td class="num">{crate::domain::number::quantity(r.quantity, 4)}</td>
                        <td>{r.unit}</td>
                        <td class="num">{match r.cost {
                            Some(c) => money(c),
                            None => "not charged (informational)".to_string(),
                        }}</td>
                    </tr>
                }.into_any(),
                Line::Subtotal(day, sum) => view! {
                    <tr class="subtotal">
                        <th scope="row" colspan=columns - 1>{format!("{day} subtotal")}</th>
                        <td class="num">{money(sum)}</td>
                    </tr>
                }.into_any(),
            }).collect_view()}</tbody>
            <tfoot><tr class="total">
                <th scope="row" colspan=columns - 1>{if truncated { "Total of the rows shown (the CSV has all)" } else { "Total" }}</th>
                <td class="num" data-testid="usage-total">{money(total)}</td>
            </tr></tfoot>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn resources_of_the_same_name_in_two_subscriptions_have_two_labels() {
        let uri = |sub: &str| {
            format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")
        };
        let (a, b) = (uri("5b5c0000-0000-4000-8000-000000000001"), uri("7e4a0000-0000-4000-8000-000000000002"));
        assert_eq!(super::resource_label(&a), "vm1 · 5b5c…0001");
        let same_prefix = uri("5b5c0000-0000-4000-8000-000000000002");
        assert_ne!(super::resource_label(&a), super::resource_label(&same_prefix), "a shared prefix still differs");
        assert_ne!(super::resource_label(&a), super::resource_label(&b));
        assert_eq!(super::resource_label("vm-without-uri"), "vm-without-uri");
    }
}
