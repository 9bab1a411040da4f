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

/// A page of the events in scope, newest first: of one stack or directory entity (`entity`, its ID as logged), or
/// touching one customer tenant (`tenant`), or all.
pub async fn events(
    pool: &sqlx::PgPool,
    scope: crate::auth::Scope,
    entity: Option<String>,
    tenant: Option<String>,
    of: crate::paging::PageOf,
) -> Result<crate::paging::Paged<super::AuditRow>, AppError> {
    Ok(of.of(sqlx::query_as(
        "select at, actor_label, action,
                entity_type || ' ' || entity_id as entity, before::text as before, after::text as after
         from audit_events
         where ($1::uuid is null or partner_id = $1)
           and ($2::text is null or entity_id = $2)
           and ($3::text is null or $3 in (after->>'tenant', before->>'tenant', after->>'customerTenantId'))
         order by id desc limit $4 offset $5",
    )
    .bind(scope.partner_filter())
    .bind(entity)
    .bind(tenant)
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?))
}
