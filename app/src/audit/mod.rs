//! The audit log: who changed what, when, with the before and after (PRODUCT §2).
#[cfg(feature = "ssr")]
pub mod db;
pub mod page;
pub mod story;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who made a change: a signed-in user, or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user, when the change came from a page.
    pub user_id: Option<Uuid>,
    /// How the actor is shown in the log.
    pub label: String,
}

impl Actor {
    /// Changes made through `stackbill …` commands.
    pub fn command_line() -> Self {
        Self { user_id: None, label: "command line".into() }
    }

    /// Changes made by a signed-in user.
    pub fn user(user_id: Uuid, label: impl Into<String>) -> Self {
        Self { user_id: Some(user_id), label: label.into() }
    }
}

/// One event as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When it happened.
    pub at: time::OffsetDateTime,
    /// Who.
    pub actor_label: String,
    /// What, e.g. `mapping.replace`.
    pub action: String,
    /// The kind of thing changed, e.g. `stack`.
    pub entity_type: String,
    /// Its ID as logged (a stack's cloud ID).
    pub entity_id: String,
    /// The stack's name, when the thing is a stack.
    pub stack_name: Option<String>,
    /// Customer names of the subscriptions and tenants the event names (ID, name), from the partner's directory.
    pub names: Vec<(String, String)>,
    /// Before, as JSON text.
    pub before: Option<String>,
    /// After, as JSON text.
    pub after: Option<String>,
}

impl AuditRow {
    /// The customer name of a subscription or tenant the event names.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.names.iter().find(|(known, _)| known.eq_ignore_ascii_case(id)).map(|(_, name)| name.as_str())
    }
}
