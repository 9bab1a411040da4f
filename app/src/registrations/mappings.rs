//! Tenant subscriptions over time: mapping a directory tenant to a CSP subscription from an effective time, replacing
//! or removing it (PRODUCT §3 R2–R9), each change checked under the stack's lock and audited.
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::db::{
    check_effective, check_registered_at, directory_entry, lock, registration_facts, tenant_name, StackRef,
};
use super::rules::{check_mapping, TenantFacts};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::when::long;
use crate::AppError;

/// A tenant's mapping in force now, if any: (ID, subscription, valid from).
async fn current_mapping(
    conn: &mut PgConnection,
    stack: &StackRef,
    tenant: Uuid,
) -> Result<Option<(i64, Uuid, OffsetDateTime)>, AppError> {
    Ok(sqlx::query_as("select id, subscription_id, valid_from from tenant_mappings where stack_id = $1 and tenant_id = $2 and valid_to is null")
        .bind(stack.stack_id)
        .bind(tenant)
        .fetch_optional(conn)
        .await?)
}

/// What a mapping change expects to find, so two admins editing at once do not silently overwrite each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Replace whatever is there (the command line).
    Anything,
    /// The tenant's current subscription as the form showed it (`None`: not mapped).
    Current(Option<Uuid>),
}

async fn check_expected(
    conn: &mut PgConnection,
    stack: &StackRef,
    tenant: Uuid,
    expect: Expect,
) -> Result<Option<(i64, Uuid, OffsetDateTime)>, AppError> {
    let current = current_mapping(conn, stack, tenant).await?;
    if let Expect::Current(seen) = expect {
        if seen != current.map(|c| c.1) {
            let now = current.map_or("no subscription".to_string(), |c| format!("subscription {}", c.1));
            return Err(AppError::Conflict(format!(
                "someone changed tenant {tenant}'s mapping a moment ago; it now has {now}. Review the list and try again"
            )));
        }
    }
    Ok(current)
}

/// Closes a mapping at `at`; it must have begun before.
async fn close(conn: &mut PgConnection, id: i64, began: OffsetDateTime, at: OffsetDateTime) -> Result<(), AppError> {
    if at <= began {
        return Err(AppError::Validation(format!(
            "The effective time, {}, must be after the current subscription began ({}) (R7)",
            long(at),
            long(began)
        )));
    }
    sqlx::query("update tenant_mappings set valid_to = $2 where id = $1").bind(id).bind(at).execute(conn).await?;
    Ok(())
}

/// Maps a directory tenant to a CSP subscription from `at` (default now), replacing its current mapping
/// (R2–R9). Usage before `at` keeps its previous owner.
pub async fn map_tenant(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    tenant: Uuid,
    subscription: Uuid,
    at: Option<OffsetDateTime>,
    expect: Expect,
) -> Result<(), AppError> {
    lock(conn, stack).await?;
    let at = at.unwrap_or_else(crate::domain::clock::now);
    let registration = registration_facts(conn, stack).await?;
    let entry = directory_entry(conn, subscription).await?;
    let name = tenant_name(conn, stack.partner_id, tenant).await?;
    let facts = TenantFacts { id: tenant, name: name.as_deref() };
    check_mapping(stack.partner_id, registration.as_ref(), facts, subscription, entry.as_ref())?;
    check_effective(conn, stack, at).await?;
    check_registered_at(conn, stack, at).await?;
    let current = check_expected(conn, stack, tenant, expect).await?;
    if let Some((_, sub, _)) = current.filter(|c| c.1 == subscription) {
        return Err(AppError::Conflict(format!("tenant {tenant} is already mapped to subscription {sub}")));
    }
    if let Some((id, _, began)) = current {
        close(conn, id, began, at).await?;
    }
    let inserted = sqlx::query(
        "insert into tenant_mappings (stack_id, partner_id, tenant_id, subscription_id, valid_from) values ($1, $2, $3, $4, $5)",
    )
    .bind(stack.stack_id)
    .bind(stack.partner_id)
    .bind(tenant)
    .bind(subscription)
    .bind(at)
    .execute(&mut *conn)
    .await;
    if let Err(sqlx::Error::Database(e)) = &inserted {
        if e.code().as_deref() == Some("23P01") {
            return Err(AppError::Validation(format!(
                "From {}, tenant {tenant} would have two subscriptions at once (it was mapped during that time); choose a later time (R7)",
                long(at)
            )));
        }
    }
    inserted?;
    crate::charges::db::rerate_stack(conn, stack.stack_id, at).await?;
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: if current.is_some() { "mapping.replace" } else { "mapping.add" },
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: current.map(|c| json!({"tenant": tenant, "subscription": c.1, "validFrom": c.2.unix_timestamp()})),
        after: Some(json!({"tenant": tenant, "subscription": subscription, "validFrom": at.unix_timestamp()})),
    };
    record(conn, actor, event).await
}

/// Removes a tenant's mapping from `at` (default now): its later usage goes to the default subscription.
pub async fn unmap_tenant(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    tenant: Uuid,
    at: Option<OffsetDateTime>,
    expect: Expect,
) -> Result<(), AppError> {
    lock(conn, stack).await?;
    let at = at.unwrap_or_else(crate::domain::clock::now);
    check_effective(conn, stack, at).await?;
    let Some((id, sub, began)) = check_expected(conn, stack, tenant, expect).await? else {
        return Err(AppError::Validation(format!("tenant {tenant} has no subscription on this stack to remove")));
    };
    close(conn, id, began, at).await?;
    crate::charges::db::rerate_stack(conn, stack.stack_id, at).await?;
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: "mapping.remove",
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: Some(json!({"tenant": tenant, "subscription": sub, "validFrom": began.unix_timestamp()})),
        after: Some(json!({"tenant": tenant, "subscription": null, "validFrom": at.unix_timestamp()})),
    };
    record(conn, actor, event).await
}

/// The directory tenant the directory names for `subscription`, if it knows the subscription.
pub async fn tenant_of_subscription(conn: &mut PgConnection, subscription: Uuid) -> Result<Option<Uuid>, AppError> {
    Ok(sqlx::query_scalar("select customer_tenant_id from commerce_subscriptions where subscription_id = $1")
        .bind(subscription)
        .fetch_optional(conn)
        .await?)
}

/// The customer name of a tenant mapped on the stack (from the partner's directory), to ask before removing its
/// subscription; the tenant's ID when the directory does not name it.
pub async fn customer_of_tenant(conn: &mut PgConnection, stack: &StackRef, tenant: Uuid) -> Result<String, AppError> {
    let name: Option<String> = sqlx::query_scalar(
        "select min(customer_name) from commerce_subscriptions
         where customer_tenant_id = $1 and billing_partner_id = $2",
    )
    .bind(tenant)
    .bind(stack.partner_id)
    .fetch_one(conn)
    .await?;
    Ok(name.unwrap_or_else(|| format!("tenant {tenant}")))
}
