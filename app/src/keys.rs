//! Per-stack ingestion keys (PRODUCT §5): shown once, stored as a SHA-256, named by a short prefix, revocable.
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::db::{record, Event};
use crate::audit::Actor;
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
        return Err(AppError::Validation("name: give the key a name of 1 to 100 characters".into()));
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

/// The (partner, stack) a bearer key opens for this cloud ID. Unknown stack, wrong key, another stack's key and
/// revoked keys all give the same `Unauthorized`, so the answer reveals nothing about other stacks.
pub async fn authenticate(
    conn: &mut PgConnection,
    cloud_id: &str,
    bearer: Option<&str>,
) -> Result<(Uuid, Uuid), AppError> {
    let (Some(key), Ok(cloud_id)) = (bearer, Uuid::parse_str(cloud_id.trim())) else {
        return Err(AppError::Unauthorized);
    };
    let prefix = key.strip_prefix("sbk_").and_then(|k| k.split('_').next()).ok_or(AppError::Unauthorized)?;
    let row: Option<(Uuid, Uuid, Vec<u8>)> = sqlx::query_as(
        "update ingestion_keys k set last_used_at = now()
         from stacks s
         where k.prefix = $1 and k.revoked_at is null and s.stack_id = k.stack_id and s.cloud_id = $2
         returning k.partner_id, k.stack_id, k.secret_sha256",
    )
    .bind(prefix)
    .bind(cloud_id)
    .fetch_optional(conn)
    .await?;
    match row {
        Some((partner, stack, hash)) if constant_time_eq(&hash, &sha256(key)) => Ok((partner, stack)),
        _ => Err(AppError::Unauthorized),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
