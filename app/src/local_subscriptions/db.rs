//! Storing a stack's local subscriptions: one statement in the caller's transaction, so a list is stored whole or
//! not at all. Subscriptions missing from a later list are kept: past usage still needs their owner tenant.
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::parse::LocalSubscription;
use super::LocalSubscriptionRow;
use crate::AppError;

/// What a list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSummary {
    /// Subscriptions not seen before.
    pub new: u64,
    /// Known subscriptions whose owner, name, offer or state changed.
    pub changed: u64,
    /// Known subscriptions, identical.
    pub unchanged: u64,
}

/// Upserts the list for a stack.
pub async fn store_list(
    conn: &mut PgConnection,
    partner: Uuid,
    stack: Uuid,
    list: Vec<LocalSubscription>,
) -> Result<ListSummary, AppError> {
    // The same subscription twice in one list: the last one wins, as a resend would. Key order, so concurrent lists
    // lock shared rows in the same order.
    let mut unique = std::collections::BTreeMap::new();
    for s in list {
        unique.insert(s.subscription_id, s);
    }
    let rows: Vec<LocalSubscription> = unique.into_values().collect();
    let total = rows.len() as u64;
    let returned: Vec<bool> = sqlx::query_scalar(
        "insert into local_subscriptions (partner_id, stack_id, subscription_id, owner_tenant_id, display_name, offer_name, state)
         select $1, $2, * from unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[])
         on conflict (partner_id, stack_id, subscription_id) do update
           set owner_tenant_id = excluded.owner_tenant_id, display_name = excluded.display_name,
               offer_name = excluded.offer_name, state = excluded.state, updated_at = now()
           where (local_subscriptions.owner_tenant_id, local_subscriptions.display_name, local_subscriptions.offer_name,
                  local_subscriptions.state)
                 is distinct from (excluded.owner_tenant_id, excluded.display_name, excluded.offer_name, excluded.state)
         returning (xmax = 0)",
    )
    .bind(partner)
    .bind(stack)
    .bind(rows.iter().map(|r| r.subscription_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.owner_tenant_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.display_name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.offer_name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let new = returned.iter().filter(|inserted| **inserted).count() as u64;
    let changed = returned.len() as u64 - new;
    if new + changed > 0 {
        // A subscription's owner decides where its usage goes: usage that arrived before the list is routed again.
        crate::charges::db::rerate_stack_all(conn, stack).await?;
    }
    Ok(ListSummary { new, changed, unchanged: total - new - changed })
}

/// A page of the stack's local subscriptions with the customer their tenant is currently mapped to, if any.
pub async fn list_for_stack(
    db: &sqlx::PgPool,
    stack_id: Uuid,
    of: crate::paging::PageOf,
) -> Result<crate::paging::Paged<LocalSubscriptionRow>, AppError> {
    Ok(of.of(sqlx::query_as(
        "select l.subscription_id, l.owner_tenant_id, l.display_name, l.offer_name, l.state,
                c.customer_name as mapped_customer
         from local_subscriptions l
         left join tenant_mappings m on m.stack_id = l.stack_id and m.tenant_id = l.owner_tenant_id and m.valid_to is null
         left join commerce_subscriptions c on c.subscription_id = m.subscription_id
         where l.stack_id = $1
         order by c.customer_name nulls last, l.display_name, l.subscription_id limit $2 offset $3",
    )
    .bind(stack_id)
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(db)
    .await?))
}
