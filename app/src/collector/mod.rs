//! The collector's settings and state per stack (PRODUCT §5): where the stack's provider usage API is, how to sign
//! in to it, and how far it has been read. The polling itself runs in the server (`server::collector`).
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod runs;
#[cfg(feature = "ssr")]
pub mod writes;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How the collector signs in to the stack's admin ARM endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "snake_case"))]
pub enum AuthKind {
    /// A fixed bearer token.
    Bearer,
    /// Entra ID / AD FS client-credentials grant.
    ClientCredentials,
}

impl AuthKind {
    /// The stored (and posted) word: `bearer`, `client_credentials`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The kind a form posted, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Bearer, Self::ClientCredentials].into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// What the stack page shows of a collector; secrets never leave the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct CollectorStatus {
    /// The stack's admin ARM endpoint.
    pub endpoint: String,
    /// The provider (default) subscription the usage API is called on.
    pub provider_subscription_id: Uuid,
    /// How it signs in.
    pub auth_kind: AuthKind,
    /// The client ID, for client credentials.
    pub client_id: Option<String>,
    /// The token endpoint, for client credentials.
    pub token_url: Option<String>,
    /// The scope asked for, for client credentials.
    pub scope: Option<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// Usage reported before this time has been read.
    pub watermark: time::OffsetDateTime,
    /// When it runs next.
    pub next_run_at: time::OffsetDateTime,
    /// The last successful run.
    pub last_success_at: Option<time::OffsetDateTime>,
    /// The last failure.
    pub last_error_at: Option<time::OffsetDateTime>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// What the last successful run stored, in words.
    pub last_summary: Option<String>,
}
