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

/// Events in the caller's scope: a partner's own, or every one for operators.
#[server]
pub async fn load_audit(stack: String, customer: String, page: i64) -> Result<AuditPage, AppError> {
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let of = crate::paging::PageOf::new("page", page, PAGE_SIZE)?;
    let filter = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_ascii_lowercase());
    let rows = super::db::events(&crate::db::pool()?, scope, filter(&stack), filter(&customer), of).await?;
    Ok(AuditPage { rows: rows.rows, more: rows.more })
}

/// `/audit?stack=CLOUD-ID&customer=TENANT&page=N`
#[component]
pub fn AuditPageView() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (
            q.get("stack").unwrap_or_default(),
            q.get("customer").unwrap_or_default(),
            crate::paging::page_param(q.get("page")),
        )
    };
    let data = Resource::new(args, |(s, c, p)| load_audit(s, c, p));
    view! {
        <h1>"Audit log"</h1>
        <form method="get" action="/audit" class="inline" aria-label="Filter the audit log">
            <input name="stack" placeholder="stack cloud ID" value=move || args().0/>
            " "
            <input name="customer" placeholder="customer directory tenant" value=move || args().1/>
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
    view! {
        <table class="data" aria-label="Audit events">
            <thead><tr>
                <th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"What"</th>
                <th scope="col">"Thing"</th><th scope="col">"Before"</th><th scope="col">"After"</th>
            </tr></thead>
            <tbody>
                {page.rows.into_iter().map(|r| view! {
                    <tr>
                        <td>{crate::domain::when::second(r.at)}</td><td>{r.actor_label}</td><td>{r.action}</td><td class="mono">{r.entity}</td>
                        <td class="mono">{r.before}</td><td class="mono">{r.after}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <crate::paging::Pager page=number more=page.more label="Audit log pages" href=link/>
    }
}
