//! Saving collector settings (audited, secrets never in the log) and reading its state for the stack page.
use sqlx::PgConnection;
use uuid::Uuid;

use url::Url;

use super::forms::CollectorForm;
use super::{AuthKind, CollectorStatus};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::outbound::Outbound;
use crate::domain::secrets::SecretKey;
use crate::domain::text::echo;
use crate::registrations::db::StackRef;
use crate::AppError;

fn rule(field: &str, message: impl Into<String>) -> AppError {
    AppError::Rule { field: field.into(), message: message.into() }
}

/// An address as typed, checked against the operator's outbound rules; without a trailing slash.
fn address(field: &str, s: &str, outbound: &Outbound) -> Result<String, AppError> {
    let s = s.trim().trim_end_matches('/');
    let parsed = Url::parse(s).map_err(|_| rule(field, format!("“{}” is not an https:// address", echo(s))))?;
    outbound.check_url(&parsed).map_err(|e| rule(field, e.to_string()))?;
    Ok(s.to_string())
}

/// The row as stored now, for keeping a secret left blank.
#[derive(sqlx::FromRow)]
struct Stored {
    auth_kind: AuthKind,
    endpoint: Option<String>,
    token_url: Option<String>,
    bearer_token: Option<String>,
    client_secret: Option<String>,
}

/// What is written: the secrets sealed.
struct Row {
    endpoint: String,
    provider_subscription: Uuid,
    auth_kind: AuthKind,
    bearer_token: Option<String>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    collect_from: Option<time::OffsetDateTime>,
    enabled: bool,
}

/// The secret typed, or the stored one when left blank and the address it is sent to did not change (a secret is
/// never sent to a new address without being typed again, so changing the endpoint cannot make the collector hand
/// it to someone else).
fn secret(
    field: &str,
    what: &str,
    typed: &str,
    stored: Option<&str>,
    same_address: bool,
    key: &SecretKey,
) -> Result<String, AppError> {
    let typed = typed.trim();
    if !typed.is_empty() {
        return Ok(key.seal(typed));
    }
    match stored {
        Some(stored) if same_address => {
            let plain = key.open(stored).map_err(|e| rule(field, e.to_string()))?;
            Ok(key.seal(&plain))
        }
        Some(_) => Err(rule(field, format!("The address changed: give the {what} again."))),
        None => Err(rule(field, format!("Give the {what}."))),
    }
}

fn collect_from(f: &CollectorForm) -> Result<Option<time::OffsetDateTime>, AppError> {
    let from = match f.collect_from.trim() {
        "" => return Ok(None),
        d => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| rule(CollectorForm::FIELDS.collect_from, format!("“{}” is not a date (YYYY-MM-DD)", echo(d))))?
            .midnight()
            .assume_utc(),
    };
    if from > crate::domain::clock::now() {
        return Err(rule(CollectorForm::FIELDS.collect_from, "The start of collection cannot be in the future."));
    }
    Ok(Some(from))
}

/// Checks the form against the stored row and the outbound rules; the row to write.
fn row(f: &CollectorForm, stored: Option<&Stored>, outbound: &Outbound, key: &SecretKey) -> Result<Row, AppError> {
    let endpoint = address(CollectorForm::FIELDS.endpoint, &f.endpoint, outbound)?;
    let provider_subscription = Uuid::parse_str(f.provider_subscription.trim()).map_err(|_| {
        rule(
            CollectorForm::FIELDS.provider_subscription,
            format!("“{}” is not a subscription ID (GUID)", echo(f.provider_subscription.trim())),
        )
    })?;
    let same_endpoint = stored.is_some_and(|s| s.endpoint.as_deref() == Some(endpoint.as_str()));
    let kept = |kind: AuthKind| stored.filter(|s| s.auth_kind == kind);
    let mut row = Row {
        provider_subscription,
        auth_kind: AuthKind::Bearer,
        bearer_token: None,
        token_url: None,
        client_id: None,
        client_secret: None,
        scope: None,
        collect_from: collect_from(f)?,
        enabled: f.enabled.is_some(),
        endpoint,
    };
    match AuthKind::parse(&f.auth_kind) {
        Some(AuthKind::Bearer) => {
            let stored = kept(AuthKind::Bearer).and_then(|s| s.bearer_token.as_deref());
            row.bearer_token = Some(secret(
                CollectorForm::FIELDS.bearer_token,
                "bearer token",
                &f.bearer_token,
                stored,
                same_endpoint,
                key,
            )?);
        }
        Some(AuthKind::ClientCredentials) => {
            client_credentials(&mut row, f, kept(AuthKind::ClientCredentials), same_endpoint, outbound, key)?
        }
        None => {
            return Err(rule(
                CollectorForm::FIELDS.auth_kind,
                format!("“{}” is not a way to sign in; choose bearer or client_credentials", echo(&f.auth_kind)),
            ))
        }
    }
    Ok(row)
}

/// The client-credentials half of the row: the token URL (outbound rules apply), client ID and scope given, and the
/// secret — blank keeps the stored one only while the endpoint and the token URL stay the same.
fn client_credentials(
    row: &mut Row,
    f: &CollectorForm,
    stored: Option<&Stored>,
    same_endpoint: bool,
    outbound: &Outbound,
    key: &SecretKey,
) -> Result<(), AppError> {
    let token_url = address(CollectorForm::FIELDS.token_url, &f.token_url, outbound)?;
    if f.client_id.trim().is_empty() {
        return Err(rule(CollectorForm::FIELDS.client_id, "Give the application (client) ID."));
    }
    if f.scope.trim().is_empty() {
        return Err(rule(CollectorForm::FIELDS.scope, "Give the scope, e.g. https://adminmanagement.…/.default"));
    }
    let same = same_endpoint && stored.is_some_and(|s| s.token_url.as_deref() == Some(token_url.as_str()));
    let secret_stored = stored.and_then(|s| s.client_secret.as_deref());
    let field = CollectorForm::FIELDS.client_secret;
    row.auth_kind = AuthKind::ClientCredentials;
    row.client_secret = Some(secret(field, "client secret", &f.client_secret, secret_stored, same, key)?);
    row.token_url = Some(token_url);
    row.client_id = Some(f.client_id.trim().into());
    row.scope = Some(f.scope.trim().into());
    Ok(())
}

/// Saves the collector of a stack (creating it or changing it) and points `stacks.admin_endpoint` at the endpoint.
/// Secrets left blank keep the stored ones unless the address they go to changed; secrets are stored sealed.
pub async fn save_collector(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    f: &CollectorForm,
    outbound: &Outbound,
    key: &SecretKey,
) -> Result<(), AppError> {
    let stored: Option<Stored> = sqlx::query_as(
        "select c.auth_kind, s.admin_endpoint as endpoint, c.token_url, c.bearer_token, c.client_secret
         from collectors c join stacks s on s.stack_id = c.stack_id where c.stack_id = $1 for update of c",
    )
    .bind(stack.stack_id)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row(f, stored.as_ref(), outbound, key)?;
    write(conn, stack, &row).await?;
    let secret_changed = !f.bearer_token.trim().is_empty() || !f.client_secret.trim().is_empty();
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: if stored.is_some() { "collector.change" } else { "collector.add" },
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: None,
        after: Some(serde_json::json!({
            "endpoint": row.endpoint, "provider_subscription": row.provider_subscription, "auth_kind": row.auth_kind,
            "enabled": row.enabled, "client_id": row.client_id, "collect_from": f.collect_from.trim(),
            "secret_changed": secret_changed,
        })),
    };
    record(conn, actor, event).await
}

async fn write(conn: &mut PgConnection, stack: &StackRef, row: &Row) -> Result<(), AppError> {
    // Checked against the schema when compiled (twelve binds in order; `.sqlx/` holds the checked form).
    sqlx::query!(
        "insert into collectors (stack_id, partner_id, provider_subscription_id, auth_kind, bearer_token, token_url,
                                 client_id, client_secret, scope, watermark, enabled)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 coalesce($10, date_trunc('hour', $12::timestamptz) - interval '7 days'), $11)
         on conflict (stack_id) do update set
           provider_subscription_id = excluded.provider_subscription_id, auth_kind = excluded.auth_kind,
           bearer_token = excluded.bearer_token, token_url = excluded.token_url, client_id = excluded.client_id,
           client_secret = excluded.client_secret, scope = excluded.scope,
           watermark = coalesce($10, collectors.watermark),
           enabled = excluded.enabled, next_run_at = now(), updated_at = now()",
        stack.stack_id,
        stack.partner_id,
        row.provider_subscription,
        row.auth_kind as AuthKind,
        row.bearer_token,
        row.token_url,
        row.client_id,
        row.client_secret,
        row.scope,
        row.collect_from,
        row.enabled,
        crate::domain::clock::now(),
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("update stacks set admin_endpoint = $2, updated_at = now() where stack_id = $1")
        .bind(stack.stack_id)
        .bind(&row.endpoint)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Seals the secrets stored before sealing existed (run at start-up); returns how many rows it sealed.
pub async fn seal_stored(conn: &mut PgConnection, key: &SecretKey) -> Result<u64, AppError> {
    let rows: Vec<(Uuid, Option<String>, Option<String>)> =
        sqlx::query_as("select stack_id, bearer_token, client_secret from collectors for update")
            .fetch_all(&mut *conn)
            .await?;
    let mut sealed = 0;
    for (stack, token, secret) in rows {
        let seal = |v: Option<String>| v.map(|v| if SecretKey::is_sealed(&v) { v } else { key.seal(&v) });
        let (new_token, new_secret) = (seal(token.clone()), seal(secret.clone()));
        if (new_token.clone(), new_secret.clone()) != (token, secret) {
            sqlx::query("update collectors set bearer_token = $2, client_secret = $3 where stack_id = $1")
                .bind(stack)
                .bind(new_token)
                .bind(new_secret)
                .execute(&mut *conn)
                .await?;
            sealed += 1;
        }
    }
    Ok(sealed)
}

/// The collector of a stack, if it has one.
pub async fn status(db: &sqlx::PgPool, stack_id: Uuid) -> Result<Option<CollectorStatus>, AppError> {
    Ok(sqlx::query_as(
        "select coalesce(s.admin_endpoint, '') as endpoint, c.provider_subscription_id, c.auth_kind, c.client_id,
                c.token_url, c.scope, c.enabled, c.watermark, c.next_run_at, c.last_success_at,
                c.last_error_at, c.last_error, c.last_summary->>'text' as last_summary
         from collectors c join stacks s on s.stack_id = c.stack_id where c.stack_id = $1",
    )
    .bind(stack_id)
    .fetch_optional(db)
    .await?)
}
