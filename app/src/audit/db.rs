//! Writing audit events; always inside the transaction of the change they describe.
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::Actor;
use crate::AppError;

/// One change to record.
#[derive(Debug)]
pub struct Event<'a> {
    /// The partner whose data changed; `None` for operator-wide data.
    pub partner_id: Option<Uuid>,
    /// What happened, e.g. `partner.add`.
    pub action: &'a str,
    /// The kind of thing changed, e.g. `partner`.
    pub entity_type: &'a str,
    /// Its ID.
    pub entity_id: String,
    /// State before (`None` for additions).
    pub before: Option<Value>,
    /// State after (`None` for removals).
    pub after: Option<Value>,
}

/// Appends an event.
pub async fn record(conn: &mut PgConnection, actor: &Actor, e: Event<'_>) -> Result<(), AppError> {
    sqlx::query(
        "insert into audit_events (actor_user_id, actor_label, partner_id, action, entity_type, entity_id, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(actor.user_id)
    .bind(&actor.label)
    .bind(e.partner_id)
    .bind(e.action)
    .bind(e.entity_type)
    .bind(&e.entity_id)
    .bind(e.before)
    .bind(e.after)
    .execute(conn)
    .await?;
    Ok(())
}

/// An event as read, before its names are unpacked.
#[derive(sqlx::FromRow)]
struct Read {
    at: time::OffsetDateTime,
    actor_label: String,
    action: String,
    entity_type: String,
    entity_id: String,
    stack_name: Option<String>,
    names: sqlx::types::Json<Vec<(String, String)>>,
    before: Option<String>,
    after: Option<String>,
}

impl From<Read> for super::AuditRow {
    fn from(r: Read) -> Self {
        Self {
            at: r.at,
            actor_label: r.actor_label,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            stack_name: r.stack_name,
            names: r.names.0,
            before: r.before,
            after: r.after,
        }
    }
}

/// A page of the events in scope, newest first: of one stack (`stack`: its cloud ID as logged, or its name, in any
/// case) or other entity (its ID), or touching one customer tenant (`tenant`), or all. Each event comes with the
/// stack's name and the customer names (from the event's partner's own directory) of the subscriptions and tenants
/// it names.
pub async fn events(
    pool: &sqlx::PgPool,
    scope: crate::auth::Scope,
    stack: Option<String>,
    tenant: Option<String>,
    order: &crate::sorting::Order,
    of: crate::paging::PageOf,
) -> Result<crate::paging::Paged<super::AuditRow>, AppError> {
    // The keys of `page::AUDIT_ORDERS`; each ends in the event's ID, so pages neither repeat nor skip an event.
    let order_by = order
        .column(&[("oldest", "e.id"), ("who", "lower(e.actor_label), e.id desc"), ("action", "e.action, e.id desc")])
        .unwrap_or("e.id desc");
    let read: crate::paging::Paged<Read> = of.of(sqlx::query_as(&format!(
        "select e.at, e.actor_label, e.action, e.entity_type, e.entity_id, s.name as stack_name,
                (select coalesce(json_agg(json_build_array(n.id, n.name)), '[]')
                 from (select c.subscription_id::text as id, c.customer_name as name
                       from commerce_subscriptions c
                       where c.billing_partner_id = e.partner_id
                         and c.subscription_id::text in (e.before->>'subscription', e.after->>'subscription',
                              e.before->>'defaultSubscription', e.after->>'defaultSubscription', e.entity_id,
                              split_part(e.entity_id, '/', 2))
                       union all
                       select c.customer_tenant_id::text, min(c.customer_name)
                       from commerce_subscriptions c
                       where c.billing_partner_id = e.partner_id
                         and c.customer_tenant_id::text in (e.before->>'tenant', e.after->>'tenant')
                       group by c.customer_tenant_id) n) as names,
                e.before::text as before, e.after::text as after
         from audit_events e
         left join stacks s on e.entity_type = 'stack' and s.cloud_id::text = e.entity_id
         where ($1::uuid is null or e.partner_id = $1)
           and ($2::text is null or e.entity_id = $2 or lower(s.name) = $2)
           and ($3::text is null or $3 in (e.after->>'tenant', e.before->>'tenant', e.after->>'customerTenantId'))
         order by {order_by} limit $4 offset $5"
    ))
    .bind(scope.partner_filter())
    .bind(stack)
    .bind(tenant)
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?);
    Ok(crate::paging::Paged { rows: read.rows.into_iter().map(Into::into).collect(), more: read.more, page: read.page })
}
