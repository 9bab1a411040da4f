//! Per-stack ingestion keys (PRODUCT §5): shown once, stored as a SHA-256, named by a short prefix, revocable.
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod writes;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A key as the stack page lists it; the secret is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct KeyRow {
    /// Its ID, for revoking.
    pub key_id: Uuid,
    /// The name given at creation.
    pub name: String,
    /// The start of the key (`sbk_{prefix}_…`), how it is recognised later.
    pub prefix: String,
    /// When it was created.
    pub created_at: time::OffsetDateTime,
    /// When it was last used, if ever.
    pub last_used_at: Option<time::OffsetDateTime>,
    /// When it was revoked, if so.
    pub revoked_at: Option<time::OffsetDateTime>,
}
