//! The collector's runs in the database: claiming the due ones, what a run needs, and the outcome of each run (shown
//! on the stack page, audited).
use sqlx::PgConnection;
use uuid::Uuid;

use super::AuthKind;
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::AppError;

/// How collector runs appear in the audit log.
fn collector() -> Actor {
    Actor { user_id: None, label: "collector".into() }
}

/// A successful run of the stack (stack ID, partner, cloud ID): the watermark moves on to `reported_to` (never back), `summary` is shown on the stack page, the
/// next run is due after `every`; audited as `usage.collect`.
pub async fn record_success(
    conn: &mut PgConnection,
    (stack, partner, cloud): (Uuid, Uuid, Uuid),
    reported_to: time::OffsetDateTime,
    summary: serde_json::Value,
    every: std::time::Duration,
) -> Result<(), AppError> {
    sqlx::query(
        "update collectors set watermark = greatest(watermark, $2), last_success_at = now(),
                last_summary = $3, next_run_at = now() + make_interval(secs => $4),
                failures_in_a_row = 0, failing_since = null
         where stack_id = $1",
    )
    .bind(stack)
    .bind(reported_to)
    .bind(&summary)
    .bind(every.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    // The log keeps the figures and the hour reached; the sentence is the page's.
    let mut after = summary;
    if let Some(fields) = after.as_object_mut() {
        fields.remove("text");
        fields.insert("reported_to".into(), reported_to.to_string().into());
    }
    let event = Event {
        partner_id: Some(partner),
        action: "usage.collect",
        entity_type: "stack",
        entity_id: cloud.to_string(),
        before: None,
        after: Some(after),
    };
    record(conn, &collector(), event).await
}

/// A failed run: `message` (in our words) is shown on the stack page, the watermark stays, the next try is due after
/// `retry_after`; audited as `usage.collect.failed`.
pub async fn record_failure(
    conn: &mut PgConnection,
    stack: Uuid,
    message: &str,
    retry_after: std::time::Duration,
) -> Result<(), AppError> {
    let streak: Option<(i32, time::OffsetDateTime)> = sqlx::query_as(
        "update collectors set last_error = $2, last_error_at = now(), next_run_at = now() + make_interval(secs => $3),
                failures_in_a_row = failures_in_a_row + 1, failing_since = coalesce(failing_since, now())
         where stack_id = $1 returning failures_in_a_row, failing_since",
    )
    .bind(stack)
    .bind(message)
    .bind(retry_after.as_secs_f64())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((failures, since)) = streak {
        crate::webhooks::detect::collector_failed(conn, stack, failures, since, message).await?;
    }
    let owner: Option<(Uuid, Uuid)> = sqlx::query_as("select partner_id, cloud_id from stacks where stack_id = $1")
        .bind(stack)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((partner, cloud)) = owner else { return Ok(()) };
    let event = Event {
        partner_id: Some(partner),
        action: "usage.collect.failed",
        entity_type: "stack",
        entity_id: cloud.to_string(),
        before: None,
        after: Some(serde_json::json!({ "error": message })),
    };
    record(conn, &collector(), event).await
}

/// Claims the due collectors (of stacks not archived) for this server: their next run moves `claimed_for` ahead (past the time one run can
/// take), so another server's scheduler skips them (`skip locked` keeps two schedulers from waiting on each other).
pub async fn claim_due(
    pool: &sqlx::PgPool,
    claimed_for: std::time::Duration,
    at_most: usize,
) -> Result<Vec<Uuid>, AppError> {
    Ok(sqlx::query_scalar(
        "update collectors set next_run_at = now() + make_interval(secs => $1), last_run_at = now()
         where stack_id in (select c.stack_id from collectors c
                            where c.enabled and c.next_run_at <= now()
                              and not exists (select 1 from stacks s
                                              where s.stack_id = c.stack_id and s.archived_at is not null)
                            order by c.next_run_at limit $2 for update of c skip locked)
         returning stack_id",
    )
    .bind(claimed_for.as_secs_f64())
    .bind(at_most as i64)
    .fetch_all(pool)
    .await?)
}

/// What a run needs of a stack's collector: where (the endpoint as stored; checked again against the outbound rules
/// when used), how to sign in (secrets still sealed) and from when.
#[derive(sqlx::FromRow)]
pub struct RunSettings {
    /// The stack's owner, for the audit log.
    pub partner_id: Uuid,
    /// The stack's cloud ID, for the audit log.
    pub cloud_id: Uuid,
    /// The admin ARM endpoint.
    pub endpoint: Option<String>,
    /// The default provider subscription the usage API is called on.
    pub provider_subscription: Uuid,
    /// How it signs in.
    pub auth_kind: AuthKind,
    /// The bearer token, sealed.
    pub bearer_token: Option<String>,
    /// The token endpoint of client credentials.
    pub token_url: Option<String>,
    /// The application (client) ID.
    pub client_id: Option<String>,
    /// The client secret, sealed.
    pub client_secret: Option<String>,
    /// The scope asked of the token endpoint.
    pub scope: Option<String>,
    /// Usage reported before this hour has been read.
    pub watermark: time::OffsetDateTime,
}

/// The run settings of the stack's collector; `None` when it was removed.
pub async fn run_settings(pool: &sqlx::PgPool, stack: Uuid) -> Result<Option<RunSettings>, AppError> {
    Ok(sqlx::query_as(
        "select s.partner_id, s.cloud_id, s.admin_endpoint as endpoint,
                c.provider_subscription_id as provider_subscription, c.auth_kind, c.bearer_token,
                c.token_url, c.client_id, c.client_secret, c.scope, c.watermark
         from collectors c join stacks s on s.stack_id = c.stack_id where c.stack_id = $1",
    )
    .bind(stack)
    .fetch_optional(pool)
    .await?)
}
