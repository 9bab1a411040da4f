//! Webhook endpoints, thresholds, the delivery queue and its log.
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Delivery, Endpoint, EventKind, Settings};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::AppError;

/// The partner's thresholds (the defaults until it saves its own).
pub async fn settings(conn: &mut PgConnection, partner: Uuid) -> Result<Settings, AppError> {
    let saved: Option<Settings> = sqlx::query_as(
        "select silent_hours, collector_failures, recon_threshold, customer_threshold
         from webhook_settings where partner_id = $1",
    )
    .bind(partner)
    .fetch_optional(conn)
    .await?;
    Ok(saved.unwrap_or_default())
}

/// Saves the partner's thresholds; audited.
pub async fn save_settings(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    s: &Settings,
) -> Result<(), AppError> {
    let before = settings(conn, partner).await?;
    sqlx::query(
        "insert into webhook_settings (partner_id, silent_hours, collector_failures, recon_threshold, customer_threshold)
         values ($1, $2, $3, $4, $5)
         on conflict (partner_id) do update set silent_hours = excluded.silent_hours,
             collector_failures = excluded.collector_failures, recon_threshold = excluded.recon_threshold,
             customer_threshold = excluded.customer_threshold, updated_at = now()",
    )
    .bind(partner)
    .bind(s.silent_hours)
    .bind(s.collector_failures)
    .bind(s.recon_threshold)
    .bind(s.customer_threshold)
    .execute(&mut *conn)
    .await?;
    let json = |s: &Settings| {
        serde_json::json!({"silent_hours": s.silent_hours, "collector_failures": s.collector_failures,
            "recon_threshold": s.recon_threshold, "customer_threshold": s.customer_threshold})
    };
    let event = Event {
        partner_id: Some(partner),
        action: "webhooks.thresholds",
        entity_type: "partner",
        entity_id: partner.to_string(),
        before: Some(json(&before)),
        after: Some(json(s)),
    };
    record(conn, actor, event).await
}

/// The partner's endpoints, oldest first.
pub async fn endpoints(conn: &mut PgConnection, partner: Uuid) -> Result<Vec<Endpoint>, AppError> {
    Ok(sqlx::query_as(
        "select endpoint_id, url, events, created_at from webhook_endpoints
         where partner_id = $1 and removed_at is null order by created_at, endpoint_id",
    )
    .bind(partner)
    .fetch_all(conn)
    .await?)
}

/// The address of one of the partner's endpoints (not found when removed or another partner's).
pub async fn endpoint_url(conn: &mut PgConnection, partner: Uuid, endpoint: Uuid) -> Result<String, AppError> {
    sqlx::query_scalar(
        "select url from webhook_endpoints where endpoint_id = $1 and partner_id = $2 and removed_at is null",
    )
    .bind(endpoint)
    .bind(partner)
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Adds an endpoint with its sealed secret; audited (without the secret).
pub async fn add_endpoint(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    url: &str,
    events: &[EventKind],
    sealed_secret: &str,
) -> Result<Uuid, AppError> {
    let types: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    let id: Uuid = sqlx::query_scalar(
        "insert into webhook_endpoints (partner_id, url, secret, events) values ($1, $2, $3, $4) returning endpoint_id",
    )
    .bind(partner)
    .bind(url)
    .bind(sealed_secret)
    .bind(&types)
    .fetch_one(&mut *conn)
    .await?;
    let event = Event {
        partner_id: Some(partner),
        action: "webhooks.endpoint.add",
        entity_type: "webhook_endpoint",
        entity_id: id.to_string(),
        before: None,
        after: Some(serde_json::json!({"url": url, "events": types})),
    };
    record(conn, actor, event).await?;
    Ok(id)
}

/// Removes one of the partner's endpoints (its pending deliveries stop); another partner's is not found.
pub async fn remove_endpoint(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    endpoint: Uuid,
) -> Result<(), AppError> {
    let url: String = sqlx::query_scalar(
        "update webhook_endpoints set removed_at = now()
         where endpoint_id = $1 and partner_id = $2 and removed_at is null returning url",
    )
    .bind(endpoint)
    .bind(partner)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query(
        "update webhook_deliveries set given_up_at = now()
         where endpoint_id = $1 and delivered_at is null and given_up_at is null",
    )
    .bind(endpoint)
    .execute(&mut *conn)
    .await?;
    let event = Event {
        partner_id: Some(partner),
        action: "webhooks.endpoint.remove",
        entity_type: "webhook_endpoint",
        entity_id: endpoint.to_string(),
        before: Some(serde_json::json!({ "url": url })),
        after: None,
    };
    record(conn, actor, event).await
}

/// Queues `event` for every endpoint of the partner that receives it, once per `key` (the occurrence: queuing the
/// same key again changes nothing). The body is the JSON every attempt sends; returns the deliveries queued.
pub async fn enqueue(
    conn: &mut PgConnection,
    partner: Uuid,
    event: EventKind,
    key: &str,
    data: serde_json::Value,
) -> Result<u64, AppError> {
    // The application's clock (not the database's), as the sender's: "a day after the event" is on one clock.
    let now = crate::domain::clock::now();
    let body = serde_json::json!({
        "type": event.as_str(),
        "partner_id": partner,
        "occurred_at": now.format(&time::format_description::well_known::Rfc3339).map_err(|_| AppError::Internal)?,
        "data": data,
    })
    .to_string();
    let queued = sqlx::query(
        "insert into webhook_deliveries (endpoint_id, partner_id, event, event_key, body, created_at, next_attempt_at)
         select endpoint_id, partner_id, $2, $3, $4, $5, $5 from webhook_endpoints
         where partner_id = $1 and removed_at is null and $2 = any(events)
         on conflict (endpoint_id, event_key) do nothing",
    )
    .bind(partner)
    .bind(event.as_str())
    .bind(format!("{}:{key}", event.as_str()))
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(queued.rows_affected())
}

/// Whether any endpoint of the partner receives `event` (so work to notice it can be skipped when none does).
pub async fn wanted(conn: &mut PgConnection, partner: Uuid, event: EventKind) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from webhook_endpoints where partner_id = $1 and removed_at is null and $2 = any(events))",
    )
    .bind(partner)
    .bind(event.as_str())
    .fetch_one(conn)
    .await?)
}

/// The partner's latest deliveries with their latest answer.
pub async fn deliveries(conn: &mut PgConnection, partner: Uuid, at_most: i64) -> Result<Vec<Delivery>, AppError> {
    Ok(sqlx::query_as(
        "select d.delivery_id, e.url, d.event, d.created_at, d.attempts, d.delivered_at, d.given_up_at,
                d.next_attempt_at, a.status as last_status, a.answer as last_answer
         from webhook_deliveries d
         join webhook_endpoints e on e.endpoint_id = d.endpoint_id
         left join lateral (select status, answer from webhook_attempts x where x.delivery_id = d.delivery_id
                            order by attempt desc limit 1) a on true
         where d.partner_id = $1
         order by d.seq desc limit $2",
    )
    .bind(partner)
    .bind(at_most)
    .fetch_all(conn)
    .await?)
}
