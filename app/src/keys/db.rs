//! Creating, listing, revoking and checking ingestion keys. Each change is audited; each use is audited by the
//! ingest that made it (see `server::ingest`), inside the same transaction as the records it stored.
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::KeyRow;
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::constant_time_eq;
use crate::registrations::db::StackRef;
use crate::AppError;

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// Creates a key for a stack and returns the secret, the only time it exists outside the caller.
pub async fn create_key(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    name: &str,
) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Rule {
            field: super::forms::NewKeyForm::FIELDS.name.into(),
            message: "Give the key a name of 1 to 100 characters.".into(),
        });
    }
    // 8 hex characters of prefix, 64 of secret: 244 random bits from the operating system (UUID v4).
    let prefix = Uuid::new_v4().simple().to_string()[..8].to_string();
    let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let key = format!("sbk_{prefix}_{secret}");
    sqlx::query(
        "insert into ingestion_keys (partner_id, stack_id, name, prefix, secret_sha256) values ($1, $2, $3, $4, $5)",
    )
    .bind(stack.partner_id)
    .bind(stack.stack_id)
    .bind(name)
    .bind(&prefix)
    .bind(sha256(&key))
    .execute(&mut *conn)
    .await?;
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: "key.create",
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: None,
        after: Some(serde_json::json!({ "name": name, "prefix": prefix })),
    };
    record(conn, actor, event).await?;
    Ok(key)
}

/// Revokes a key of this stack; revoking twice is refused so the log shows one revocation per key.
pub async fn revoke_key(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    key_id: Uuid,
) -> Result<(), AppError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "update ingestion_keys set revoked_at = now()
         where key_id = $1 and stack_id = $2 and partner_id = $3 and revoked_at is null
         returning name, prefix",
    )
    .bind(key_id)
    .bind(stack.stack_id)
    .bind(stack.partner_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (name, prefix) =
        row.ok_or_else(|| AppError::Conflict("This key is already revoked, or it is not a key of this stack.".into()))?;
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: "key.revoke",
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: Some(serde_json::json!({ "name": name, "prefix": prefix })),
        after: None,
    };
    record(conn, actor, event).await
}

/// The stack's keys, active ones first then newest first, revoked ones included (they explain past uses in the
/// audit log); at most 100 (a stack has a handful; revoked ones beyond are in the audit log).
pub async fn list_keys(db: &sqlx::PgPool, stack_id: Uuid) -> Result<Vec<KeyRow>, AppError> {
    Ok(sqlx::query_as(
        "select key_id, name, prefix,
                created_at, last_used_at, revoked_at
         from ingestion_keys where stack_id = $1 order by revoked_at is not null, created_at desc limit 100",
    )
    .bind(stack_id)
    .fetch_all(db)
    .await?)
}

/// Who sent a request: the key's stack and how the audit log names it.
#[derive(Debug, Clone)]
pub struct KeyUse {
    /// The stack's owner.
    pub partner_id: Uuid,
    /// The stack.
    pub stack_id: Uuid,
    /// The stack's cloud ID, for the audit log.
    pub cloud_id: Uuid,
    /// `ingestion key sbk_{prefix} ({name})`.
    pub actor: Actor,
}

/// A key as `authenticate` reads it, with its stack's name when the stack is archived.
#[derive(sqlx::FromRow)]
struct StoredKey {
    key_id: Uuid,
    partner_id: Uuid,
    stack_id: Uuid,
    secret_sha256: Vec<u8>,
    name: String,
    archived: Option<String>,
    /// The key's last use is unset or older than a minute.
    stale: bool,
}

/// The stack a bearer key opens for this cloud ID. Unknown stack, wrong key, another stack's key and
/// revoked keys all give the same `Unauthorized`, so the answer reveals nothing about other stacks.
pub async fn authenticate(conn: &mut PgConnection, cloud_id: &str, bearer: Option<&str>) -> Result<KeyUse, AppError> {
    let (Some(key), Ok(cloud_id)) = (bearer, Uuid::parse_str(cloud_id.trim())) else {
        return Err(AppError::Unauthorized);
    };
    let prefix = key.strip_prefix("sbk_").and_then(|k| k.split('_').next()).ok_or(AppError::Unauthorized)?;
    let row: Option<StoredKey> = sqlx::query_as(
        "select k.key_id, k.partner_id, k.stack_id, k.secret_sha256, k.name,
                case when s.archived_at is not null then s.name end as archived,
                coalesce(k.last_used_at < now() - interval '1 minute', true) as stale
         from ingestion_keys k join stacks s on s.stack_id = k.stack_id
         where k.prefix = $1 and k.revoked_at is null and s.cloud_id = $2",
    )
    .bind(prefix)
    .bind(cloud_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(StoredKey { key_id, partner_id, stack_id, name, archived, stale, .. }) =
        row.filter(|r| constant_time_eq(&r.secret_sha256, &sha256(key)))
    else {
        return Err(AppError::Unauthorized);
    };
    // Told only to the holder of a good key: the stack is its partner's own.
    if let Some(stack) = archived {
        return Err(AppError::Conflict(format!(
            "stack {stack} is archived: Stackbill takes no usage for it; a partner admin can restore it on its page"
        )));
    }
    // At most once a minute (the key list shows the minute): every page writing the key's row made concurrent pages
    // of a stack queue behind each other's row lock and commit (a WAL flush each) before they were even read. Most
    // pages so cost one statement here.
    if stale {
        sqlx::query(
            "update ingestion_keys set last_used_at = now()
             where key_id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
        )
        .bind(key_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(KeyUse {
        partner_id,
        stack_id,
        cloud_id,
        actor: Actor { user_id: None, label: format!("ingestion key sbk_{prefix} ({name})") },
    })
}

/// The name of an active key of the stack, to ask before revoking it; the same refusal as [`revoke_key`] otherwise.
pub async fn key_name(conn: &mut PgConnection, stack_id: Uuid, key_id: Uuid) -> Result<String, AppError> {
    sqlx::query_scalar("select name from ingestion_keys where key_id = $1 and stack_id = $2 and revoked_at is null")
        .bind(key_id)
        .bind(stack_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::Conflict("This key is already revoked, or it is not a key of this stack.".into()))
}
