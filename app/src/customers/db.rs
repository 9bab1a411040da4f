//! The customers page's questions: a page of directory tenants in scope, their subscriptions and their mappings.
use sqlx::PgPool;
use uuid::Uuid;

use super::{CustomerSub, StackMapping};
use crate::auth::Scope;
use crate::paging::{PageOf, Paged};
use crate::AppError;

/// A page of the customers' directory tenants in scope, by customer name.
pub async fn tenants(pool: &PgPool, scope: Scope, of: PageOf) -> Result<Paged<Uuid>, AppError> {
    Ok(of.of(sqlx::query_scalar(
        "select customer_tenant_id from commerce_subscriptions where $1::uuid is null or billing_partner_id = $1
         group by customer_tenant_id order by min(customer_name), customer_tenant_id limit $2 offset $3",
    )
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
