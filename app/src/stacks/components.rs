//! Stack tables.
use leptos::prelude::*;

use super::{PartnerSummary, StackSummary};

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
                    <th scope="col">"Stack"</th>
                    {show_partner.then(|| view! { <th scope="col">"Partner"</th> })}
                    <th scope="col">"Cloud ID"</th>
                    <th scope="col">"Region"</th>
                    <th scope="col">"Registration"</th>
                    <th scope="col">"Default subscription"</th>
                    <th scope="col" class="num">"Tenant mappings"</th>
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
pub fn PartnerTable(partners: Vec<PartnerSummary>) -> impl IntoView {
    view! {
        <table class="data" tabindex="0" aria-label="Partners">
            <thead>
                <tr>
                    <th scope="col">"Partner"</th>
                    <th scope="col">"Partner ID"</th>
                    <th scope="col">"MPN ID"</th>
                    <th scope="col">"Currency"</th>
                    <th scope="col" class="num">"Stacks"</th>
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
