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
