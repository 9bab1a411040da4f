//! Saving collector settings (audited, secrets never in the log) and reading its state for the stack page.
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CollectorAuth, CollectorStatus};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::registrations::db::StackRef;
use crate::AppError;

/// The collector form as posted; blank secrets keep the stored ones.
#[derive(Debug, Default, Deserialize)]
pub struct CollectorForm {
    /// Admin ARM endpoint, e.g. `https://adminmanagement.local.azurestack.external`.
    #[serde(default)]
    pub endpoint: String,
    /// Provider subscription ID.
    #[serde(default)]
    pub provider_subscription: String,
    /// `bearer` or `client_credentials`.
    #[serde(default)]
    pub auth_kind: String,
    /// Bearer token.
    #[serde(default)]
    pub bearer_token: String,
    /// Token endpoint.
    #[serde(default)]
    pub token_url: String,
    /// Client ID.
    #[serde(default)]
    pub client_id: String,
    /// Client secret.
    #[serde(default)]
    pub client_secret: String,
    /// Scope.
    #[serde(default)]
    pub scope: String,
    /// Collect usage reported from this day (UTC, `YYYY-MM-DD`); empty: 7 days back, or unchanged.
    #[serde(default)]
    pub collect_from: String,
    /// Checkbox: present when enabled.
    #[serde(default)]
    pub enabled: Option<String>,
}

fn rule(field: &str, message: impl Into<String>) -> AppError {
    AppError::Rule { field: field.into(), message: message.into() }
}

fn url(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim().trim_end_matches('/');
    // http:// is allowed for stand-ins and lab stacks behind a TLS-terminating proxy.
    if (s.starts_with("https://") || s.starts_with("http://")) && s.len() > 8 && !s.contains(char::is_whitespace) {
        Ok(s.to_string())
    } else {
        Err(rule(field, format!("“{s}” is not an http(s) address")))
    }
}

/// Saves the collector of a stack (creating it or changing it) and points `stacks.admin_endpoint` at the endpoint.
pub async fn save_collector(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    f: &CollectorForm,
) -> Result<(), AppError> {
    let endpoint = url("endpoint", &f.endpoint)?;
    let sub = Uuid::parse_str(f.provider_subscription.trim()).map_err(|_| {
        rule("provider_subscription", format!("“{}” is not a subscription ID (GUID)", f.provider_subscription.trim()))
    })?;
    let existing: Option<String> =
        sqlx::query_scalar("select auth_kind from collectors where stack_id = $1 for update")
            .bind(stack.stack_id)
            .fetch_optional(&mut *conn)
            .await?;
    let auth = match f.auth_kind.as_str() {
        "bearer" if f.bearer_token.trim().is_empty() && existing.as_deref() == Some("bearer") => None,
        "bearer" if f.bearer_token.trim().is_empty() => return Err(rule("bearer_token", "Give the bearer token.")),
        "bearer" => Some(CollectorAuth::Bearer(f.bearer_token.trim().to_string())),
        "client_credentials" => {
            let secret = f.client_secret.trim();
            if secret.is_empty() && existing.as_deref() != Some("client_credentials") {
                return Err(rule("client_secret", "Give the client secret."));
            }
            if f.client_id.trim().is_empty() {
                return Err(rule("client_id", "Give the application (client) ID."));
            }
            if f.scope.trim().is_empty() {
                return Err(rule("scope", "Give the scope, e.g. https://adminmanagement.…/.default"));
            }
            Some(CollectorAuth::ClientCredentials {
                token_url: url("token_url", &f.token_url)?,
                client_id: f.client_id.trim().into(),
                client_secret: secret.into(),
                scope: f.scope.trim().into(),
            })
        }
        other => {
            return Err(rule(
                "auth_kind",
                format!("“{other}” is not a way to sign in; choose bearer or client_credentials"),
            ))
        }
    };
    let from = match f.collect_from.trim() {
        "" => None,
        d => {
            let day = time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| rule("collect_from", format!("“{d}” is not a date (YYYY-MM-DD)")))?;
            Some(day.midnight().assume_utc())
        }
    };
    if from.is_some_and(|t| t > crate::domain::clock::now()) {
        return Err(rule("collect_from", "The start of collection cannot be in the future."));
    }
    let (token, token_url, client_id, secret, scope) = match &auth {
        Some(CollectorAuth::Bearer(t)) => (Some(t.as_str()), None, None, None, None),
        Some(CollectorAuth::ClientCredentials { token_url, client_id, client_secret, scope }) => (
            None,
            Some(token_url.as_str()),
            Some(client_id.as_str()),
            (!client_secret.is_empty()).then_some(client_secret.as_str()),
            Some(scope.as_str()),
        ),
        None => (None, None, None, None, None),
    };
    let enabled = f.enabled.is_some();
    sqlx::query(
        "insert into collectors (stack_id, partner_id, provider_subscription_id, auth_kind, bearer_token, token_url,
                                 client_id, client_secret, scope, watermark, enabled)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 coalesce($10, date_trunc('hour', $12::timestamptz) - interval '7 days'), $11)
         on conflict (stack_id) do update set
           provider_subscription_id = excluded.provider_subscription_id,
           auth_kind = excluded.auth_kind,
           bearer_token = case when excluded.auth_kind = 'bearer'
                               then coalesce($5, collectors.bearer_token) end,
           token_url = excluded.token_url, client_id = excluded.client_id, scope = excluded.scope,
           client_secret = case when excluded.auth_kind = 'client_credentials'
                                then coalesce($8, collectors.client_secret) end,
           watermark = coalesce($10, collectors.watermark),
           enabled = excluded.enabled, next_run_at = now(), updated_at = now()",
    )
    .bind(stack.stack_id)
    .bind(stack.partner_id)
    .bind(sub)
    .bind(&f.auth_kind)
    .bind(token)
    .bind(token_url)
    .bind(client_id)
    .bind(secret)
    .bind(scope)
    .bind(from)
    .bind(enabled)
    .bind(crate::domain::clock::now())
    .execute(&mut *conn)
    .await?;
    sqlx::query("update stacks set admin_endpoint = $2, updated_at = now() where stack_id = $1")
        .bind(stack.stack_id)
        .bind(&endpoint)
        .execute(&mut *conn)
        .await?;
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: if existing.is_some() { "collector.change" } else { "collector.add" },
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: None,
        after: Some(serde_json::json!({
            "endpoint": endpoint, "provider_subscription": sub, "auth_kind": f.auth_kind, "enabled": enabled,
            "client_id": client_id, "collect_from": f.collect_from.trim(), "secret_changed": auth.is_some(),
        })),
    };
    record(conn, actor, event).await
}

/// The collector of a stack, if it has one.
pub async fn status(db: &sqlx::PgPool, stack_id: Uuid) -> Result<Option<CollectorStatus>, AppError> {
    let fmt = |c: &str| format!("to_char({c} at time zone 'utc', 'YYYY-MM-DD HH24:MI')");
    let sql = format!(
        "select coalesce(s.admin_endpoint, '') as endpoint, c.provider_subscription_id, c.auth_kind, c.client_id,
                c.token_url, c.scope, c.enabled, {} as watermark, {} as next_run_at, {} as last_success_at,
                {} as last_error_at, c.last_error, c.last_summary->>'text' as last_summary
         from collectors c join stacks s on s.stack_id = c.stack_id where c.stack_id = $1",
        fmt("c.watermark"),
        fmt("c.next_run_at"),
        fmt("c.last_success_at"),
        fmt("c.last_error_at")
    );
    Ok(sqlx::query_as(&sql).bind(stack_id).fetch_optional(db).await?)
}
