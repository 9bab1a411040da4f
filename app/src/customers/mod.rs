//! The customers page: the partner's customers from the commerce directory, their subscriptions, and on each
//! stack whether their tenant is mapped or falls back to the default subscription.
#[cfg(feature = "ssr")]
mod db;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::sorting::{ListAt, SortHeader};
use crate::AppError;

/// One customer subscription in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CustomerSub {
    /// The customer's directory tenant.
    pub tenant_id: Uuid,
    /// The customer's name from the commerce directory.
    pub customer_name: String,
    /// The Azure subscription's ID.
    pub subscription_id: Uuid,
    /// CSP, APSS, EA, PAYG or MSDN.
    pub offer_type: crate::domain::OfferType,
    /// Whether the subscription is active, suspended or deleted.
    pub status: crate::domain::SubscriptionStatus,
}

/// A tenant's mapping in force on a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StackMapping {
    /// The name of the stack the mapping is on.
    pub stack_name: String,
    /// Stack cloud ID.
    pub cloud_id: Uuid,
    /// The tenant, when mapped.
    pub tenant_id: Option<Uuid>,
    /// The subscription it is mapped to.
    pub subscription_id: Option<Uuid>,
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customers {
    /// This page's customers' directory tenants, in the page's order.
    pub tenants: Vec<Uuid>,
    /// Directory subscriptions, by customer.
    pub subscriptions: Vec<CustomerSub>,
    /// Every stack in scope with the current mappings of this page's customers (one row per stack without any).
    pub mappings: Vec<StackMapping>,
    /// This page's number, from 0.
    pub page: i64,
    /// Whether more customers follow.
    pub more: bool,
    /// This month (UTC, `YYYY-MM`): the subscriptions link to their bill of it.
    pub period: String,
}

/// Customers per page.
pub const CUSTOMERS_PAGE_SIZE: i64 = 50;

/// A page of the customers in the caller's scope (by name, or in the order asked for), with their subscriptions
/// and their mappings on every stack in scope.
#[server]
pub async fn load_customers(at: ListAt) -> Result<Customers, AppError> {
    let scope = crate::web::caller::Caller::of_page().await?.scope;
    let of = crate::paging::PageOf::new("page", at.page, CUSTOMERS_PAGE_SIZE)?;
    let pool = crate::db::pool()?;
    let tenants = db::tenants(&pool, scope, of, &at.order).await?;
    let subscriptions = db::subscriptions(&pool, scope, &tenants.rows).await?;
    let mappings = db::mappings(&pool, scope, &tenants.rows).await?;
    let period = crate::domain::Period::of(crate::domain::clock::now()).to_string();
    Ok(Customers { tenants: tenants.rows, subscriptions, mappings, page: tenants.page, more: tenants.more, period })
}

/// `/customers`
#[component]
pub fn CustomersPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let data = Resource::new(move || ListAt::of(&crate::paging::pairs(query.get()), "", "page"), load_customers);
    view! {
        <h1>"Customers"</h1>
        <p>"From the commerce directory. On each stack a customer's tenant is either mapped to its own subscription, or its usage falls back to the stack's default subscription."</p>
        {crate::layout::loaded(data, |c| view! { <CustomerTable customers=c/> })}
    }
}

/// `5b5c…0001`: the whole ID is the element's title.
fn short(id: Uuid) -> String {
    crate::domain::text::short_id(&id.to_string())
}

/// A tenant on one stack: the stack's name and cloud ID, the badge's class and words, and the subscription it is
/// mapped to (the badge's title).
type OnStack = (String, Uuid, &'static str, String, Option<Uuid>);

fn stack_status(c: &Customers, tenant: Uuid, own: &[Uuid]) -> Vec<OnStack> {
    let mut stacks: Vec<(String, Uuid)> = c.mappings.iter().map(|m| (m.stack_name.clone(), m.cloud_id)).collect();
    stacks.dedup();
    stacks
        .into_iter()
        .map(|(name, cloud)| {
            let m = c.mappings.iter().find(|m| m.cloud_id == cloud && m.tenant_id == Some(tenant));
            match m.and_then(|m| m.subscription_id) {
                Some(sub) if own.contains(&sub) => (name, cloud, "ok", format!("mapped to {}", short(sub)), Some(sub)),
                Some(sub) => (name, cloud, "warn", format!("mapped elsewhere ({})", short(sub)), Some(sub)),
                None => (name, cloud, "", "falls back to the default subscription".to_string(), None),
            }
        })
        .collect()
}

#[component]
fn CustomerTable(customers: Customers) -> impl IntoView {
    // Each tenant once, in the page's order, under the first name the directory gives it (its subscriptions may
    // carry others).
    let tenants: Vec<(Uuid, String)> = customers
        .tenants
        .iter()
        .filter_map(|t| {
            customers.subscriptions.iter().find(|s| s.tenant_id == *t).map(|s| (*t, s.customer_name.clone()))
        })
        .collect();
    let period = customers.period.clone();
    let query = crate::paging::current_query();
    let (page, more) = (customers.page, customers.more);
    view! {
        <table class="data" tabindex="0" aria-label="Customers">
            <thead><tr>
                <SortHeader label="Customer".into() column="customer" path="/customers".into()/>
                <SortHeader label="Subscriptions".into() column="subscriptions" path="/customers".into()/>
                <SortHeader label="On each stack".into() column="stacks" path="/customers".into()/>
            </tr></thead>
            <tbody>
                {tenants.into_iter().map(|(tenant, name)| {
                    let subs: Vec<CustomerSub> = customers.subscriptions.iter().filter(|s| s.tenant_id == tenant).cloned().collect();
                    let own: Vec<Uuid> = subs.iter().map(|s| s.subscription_id).collect();
                    let status = stack_status(&customers, tenant, &own);
                    view! {
                        <tr>
                            <td>{name}<br/><span class="mono" title=tenant.to_string()>{short(tenant)}</span><br/>
                                <a href=format!("/usage?customer={tenant}")>"Usage"</a></td>
                            <td>{subs.into_iter().map(|s| view! { <div><span class="mono" title=s.subscription_id.to_string()>{format!("{} · {} · {}", short(s.subscription_id), s.offer_type, s.status)}</span>
                                " " <a href=crate::bills::forms::BILL_PAGE.at(&[&period, &s.subscription_id])>{format!("Bill {period}")}</a></div> }).collect_view()}</td>
                            <td>{status.into_iter().map(|(stack, cloud, class, text, sub)| view! {
                                <div><a href=format!("/stacks/{cloud}")>{stack}</a> " "
                                    <span class=format!("badge {class}") title=sub.map(|s| s.to_string())>{text}</span></div>
                            }).collect_view()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <crate::paging::Pager page more label="Customer pages"
            href=move |n| crate::paging::with_page("/customers", &query, "page", n)/>
    }
}
