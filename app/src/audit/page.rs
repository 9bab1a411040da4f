//! The audit log page: who changed what and when, newest first, filterable by stack and customer, paginated.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::AuditRow;

use crate::AppError;

/// Events per page.
#[cfg(feature = "ssr")]
const PAGE_SIZE: i64 = 50;

/// A page of events and whether an older page exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The events.
    pub rows: Vec<AuditRow>,
    /// Whether there are older events.
    pub more: bool,
}

/// The log's orders as the address names them (`?sort=`), with what the page calls them; newest first otherwise.
pub const AUDIT_ORDERS: [(&str, &str); 4] =
    [("", "Newest first"), ("oldest", "Oldest first"), ("who", "By who (A–Z)"), ("action", "By action (A–Z)")];

/// Events in the caller's scope: a partner's own, or every one for operators.
#[server]
pub async fn load_audit(stack: String, customer: String, page: i64, sort: String) -> Result<AuditPage, AppError> {
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let of = crate::paging::PageOf::new("page", page, PAGE_SIZE)?;
    let filter = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_ascii_lowercase());
    let order = crate::sorting::Order { sort, desc: String::new() };
    let rows = super::db::events(&crate::db::pool()?, scope, filter(&stack), filter(&customer), &order, of).await?;
    Ok(AuditPage { rows: rows.rows, more: rows.more })
}

/// `/audit?stack=CLOUD-ID&customer=TENANT&sort=ORDER&page=N`
#[component]
pub fn AuditPageView() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (
            q.get("stack").unwrap_or_default(),
            q.get("customer").unwrap_or_default(),
            crate::paging::page_param(q.get("page")),
            q.get("sort").unwrap_or_default(),
        )
    };
    let data = Resource::new(args, |(s, c, p, o)| load_audit(s, c, p, o));
    view! {
        <h1>"Audit log"</h1>
        <form method="get" action="/audit" class="inline" aria-label="Filter the audit log">
            <label>"Stack " <input name="stack" placeholder="name or cloud ID" value=move || args().0/></label>
            " "
            <label>"Customer " <input name="customer" placeholder="directory tenant ID" value=move || args().1/></label>
            " "
            <label>"Order " <select name="sort">{AUDIT_ORDERS.into_iter().map(|(key, words)| view! {
                <option value=key selected=move || args().3 == key>{words}</option>
            }).collect_view()}</select></label>
            " "
            <button type="submit">"Filter"</button>
        </form>
        {crate::layout::loaded(data, move |p| view! { <AuditTable page=p number=args().2/> })}
    }
}

#[component]
fn AuditTable(page: AuditPage, number: i64) -> impl IntoView {
    let query = crate::paging::current_query();
    let link = move |n: i64| crate::paging::with_page("/audit", &query, "page", n);
    if page.rows.is_empty() {
        return view! { <p class="empty">"No changes match. Clear the filters to see every change."</p> }.into_any();
    }
    view! {
        <ol class="history" aria-label="Audit events">
            {page.rows.into_iter().map(|r| view! { <Event row=r/> }).collect_view()}
        </ol>
        <crate::paging::Pager page=number more=page.more label="Audit log pages" href=link/>
    }
    .into_any()
}

/// One event: when, the sentence, what changed, and the logged JSON on demand.
#[component]
fn Event(row: AuditRow) -> impl IntoView {
    let told = super::story::story(&row);
    let raw = [("Before", row.before.clone()), ("After", row.after.clone())];
    view! {
        <li class="event" data-action=row.action.clone()>
            <p>
                <time datetime=crate::domain::when::second(row.at)>{crate::domain::when::long(row.at)}</time>
                " · " <strong>{told.sentence}</strong> " " <small class="rule">{row.action.clone()}</small>
            </p>
            {(!told.changes.is_empty()).then(|| view! {
                <table class="diff">
                    <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                    <tbody>{told.changes.into_iter().map(|c| view! {
                        <tr><th scope="row">{c.what}</th><td class="before">{c.before}</td><td class="after">{c.after}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
            <details>
                <summary>"Logged data"</summary>
                {raw.into_iter().filter_map(|(side, json)| json.map(|j| view! {
                    <p class="hint">{side}</p><pre class="mono">{j}</pre>
                })).collect_view()}
            </details>
        </li>
    }
}
