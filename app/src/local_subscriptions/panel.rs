//! The stack page's list of local subscriptions: whose they are and whether their tenant has its own subscription.
use leptos::prelude::*;

use super::LocalSubscriptionRow;

/// The table; an empty stack says where the list comes from.
#[component]
pub fn LocalSubscriptionsPanel(rows: Vec<LocalSubscriptionRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty">"No local subscriptions yet. They arrive from the stack through the API, the collector or an upload; until then usage cannot be matched to tenants and goes to the default subscription."</p>
        }
        .into_any();
    }
    view! {
        <table class="data" tabindex="0" aria-label="Local subscriptions">
            <thead><tr>
                <th scope="col">"Subscription on the stack"</th><th scope="col">"Name"</th><th scope="col">"Owner tenant"</th>
                <th scope="col">"Offer"</th><th scope="col">"State"</th><th scope="col">"Billed to"</th>
            </tr></thead>
            <tbody>{rows.into_iter().map(|r| view! {
                <tr>
                    <td class="mono">{r.subscription_id.to_string()}</td>
                    <td>{r.display_name}</td>
                    <td class="mono">{r.owner_tenant_id.to_string()}</td>
                    <td>{r.offer_name}</td>
                    <td>{r.state}</td>
                    <td>{match r.mapped_customer {
                        Some(c) => view! { <span>{c}</span> }.into_any(),
                        None => view! { <span class="warn">"default subscription (tenant not mapped)"</span> }.into_any(),
                    }}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}
