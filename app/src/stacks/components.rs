//! Stack tables.
use leptos::prelude::*;

use super::{PartnerSummary, StackSummary};
use crate::sorting::SortHeader;

/// The stacks in scope; the partner column only for operators, who see several partners.
#[component]
pub fn StackTable(stacks: Vec<StackSummary>, show_partner: bool) -> impl IntoView {
    if stacks.is_empty() {
        return view! { <p class="empty">"No stacks yet. A partner admin adds one below with its name and cloud ID (the stack's administrator portal, Region management → Properties), registers it, then sends its usage with an ingestion key, the collector or an upload on the stack's page."</p> }.into_any();
    }
    view! {
        <table class="data" tabindex="0" aria-label="Stacks">
            <thead>
                <tr>
                    <SortHeader label="Stack".into() column="stack" path="/".into()/>
                    {show_partner.then(|| view! { <SortHeader label="Partner".into() column="partner" path="/".into()/> })}
                    <SortHeader label="Cloud ID".into() column="cloud" path="/".into()/>
                    <SortHeader label="Region".into() column="region" path="/".into()/>
                    <SortHeader label="Registration".into() column="registration" path="/".into()/>
                    <th scope="col">"Default subscription"</th>
                    <SortHeader label="Tenant mappings".into() column="mappings" path="/".into() num=true/>
                </tr>
            </thead>
            <tbody>
                {stacks
                    .into_iter()
                    .map(|s| view! { <StackRow stack=s show_partner/> })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn StackRow(stack: StackSummary, show_partner: bool) -> impl IntoView {
    let registration = stack.billing_model.map_or("Not registered", |m| m.as_str());
    let default_sub = stack.default_subscription.map(|s| s.to_string()).unwrap_or_else(|| "—".into());
    view! {
        <tr>
            <td>
                <a href=format!("/stacks/{}", stack.cloud_id)>{stack.name}</a>
                {stack.archived_at.is_some().then(|| view! { " " <span class="badge">"archived"</span> })}
            </td>
            {show_partner.then(|| view! { <td>{stack.partner_name.clone()}</td> })}
            <td class="mono">{stack.cloud_id.to_string()}</td>
            <td>{stack.region}</td>
            <td>{registration}</td>
            <td class="mono">{default_sub}</td>
            <td class="num">{stack.current_mappings}</td>
        </tr>
    }
}

/// The operator's list of partners.
#[component]
pub fn PartnerTable(
    partners: Vec<PartnerSummary>,
    /// The page the table is on (its headings sort it there).
    path: &'static str,
) -> impl IntoView {
    let heading = move |label: &str, column: &'static str, num: bool| {
        view! { <SortHeader label=label.to_string() column path=path.to_string() list="partners" page_name="partners_page" num/> }
    };
    view! {
        <table class="data" tabindex="0" aria-label="Partners">
            <thead>
                <tr>
                    {heading("Partner", "partner", false)}
                    {heading("Partner ID", "id", false)}
                    {heading("MPN ID", "mpn", false)}
                    {heading("Currency", "currency", false)}
                    {heading("Stacks", "stacks", true)}
                </tr>
            </thead>
            <tbody>
                {partners
                    .into_iter()
                    .map(|p| {
                        view! {
                            <tr>
                                <td>{p.name}</td>
                                <td class="mono">{p.partner_id.to_string()}</td>
                                <td>{p.mpn_id}</td>
                                <td>{p.currency}</td>
                                <td class="num">{p.stacks}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
