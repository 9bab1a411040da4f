//! Stacks: the Azure Stack Hub systems a partner bills through Stackbill.
pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod db;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One stack in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StackSummary {
    /// Stackbill's stack ID.
    pub stack_id: Uuid,
    /// The stack's owner (Microsoft Partner ID).
    pub partner_id: Uuid,
    /// The owner's name.
    pub partner_name: String,
    /// The stack's name.
    pub name: String,
    /// Azure Stack cloud ID (CloudDeploymentID).
    pub cloud_id: Uuid,
    /// Free region label.
    pub region: String,
    /// Billing model, when the stack is registered.
    pub billing_model: Option<String>,
    /// The default subscription in force now, when registered.
    pub default_subscription: Option<Uuid>,
    /// Tenant mappings in force now.
    pub current_mappings: i64,
}

/// One partner in the operator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PartnerSummary {
    /// Microsoft Partner ID.
    pub partner_id: Uuid,
    /// Display name.
    pub name: String,
    /// MPN ID.
    pub mpn_id: String,
    /// Billing currency.
    pub currency: String,
    /// Number of stacks.
    pub stacks: i64,
}
