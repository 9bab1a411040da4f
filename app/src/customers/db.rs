//! The customers page's questions: a page of directory tenants in scope, their subscriptions and their mappings.
use sqlx::PgPool;
use uuid::Uuid;

use super::{CustomerSub, StackMapping};
use crate::auth::Scope;
use crate::paging::{PageOf, Paged};
use crate::sorting::Order;
use crate::AppError;

/// The customer list's columns as the address names them, and what they sort by.
const SORTS: [(&str, &str); 3] = [
    ("customer", "lower(min(customer_name))"),
    ("subscriptions", "count(*)"),
    (
        "stacks",
        "(select count(*) from tenant_mappings m where m.tenant_id = customer_tenant_id and m.valid_to is null
          and ($1::uuid is null or m.partner_id = $1))",
    ),
];

/// A page of the customers' directory tenants in scope, by customer name or in the order asked for.
pub async fn tenants(pool: &PgPool, scope: Scope, of: PageOf, order: &Order) -> Result<Paged<Uuid>, AppError> {
    let order_by = order.sql(&SORTS, "min(customer_name), customer_tenant_id", "customer_tenant_id");
    Ok(of.of(sqlx::query_scalar(&format!(
        "select customer_tenant_id from commerce_subscriptions where $1::uuid is null or billing_partner_id = $1
         group by customer_tenant_id order by {order_by} limit $2 offset $3"
    ))
    .bind(scope.partner_filter())
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?))
}

/// The subscriptions of these tenants in scope.
pub async fn subscriptions(pool: &PgPool, scope: Scope, tenants: &[Uuid]) -> Result<Vec<CustomerSub>, AppError> {
    Ok(sqlx::query_as(
        "select customer_tenant_id as tenant_id, customer_name, subscription_id, offer_type, status
         from commerce_subscriptions
         where ($1::uuid is null or billing_partner_id = $1) and customer_tenant_id = any($2)
         order by customer_name, customer_tenant_id, offer_type",
    )
    .bind(scope.partner_filter())
    .bind(tenants)
    .fetch_all(pool)
    .await?)
}

/// Every stack in scope with the mappings in force of these tenants (stacks without one appear once, unmapped).
pub async fn mappings(pool: &PgPool, scope: Scope, tenants: &[Uuid]) -> Result<Vec<StackMapping>, AppError> {
    Ok(sqlx::query_as(
        "select s.name as stack_name, s.cloud_id, m.tenant_id, m.subscription_id
         from stacks s left join tenant_mappings m
           on m.stack_id = s.stack_id and m.valid_to is null and m.tenant_id = any($2)
         where $1::uuid is null or s.partner_id = $1 order by s.name, s.cloud_id",
    )
    .bind(scope.partner_filter())
    .bind(tenants)
    .fetch_all(pool)
    .await?)
}
