//! The stack's own user subscriptions (PRODUCT §2 "local subscription"): they say which directory tenant owns the
//! usage of a local subscription, so routing (PRODUCT §4) can find the tenant's mapping. Synced from the stack.
#[cfg(feature = "ssr")]
pub mod db;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod parse;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A local subscription as the stack page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LocalSubscriptionRow {
    /// The Azure Stack user subscription.
    pub subscription_id: Uuid,
    /// Its owner's directory tenant.
    pub owner_tenant_id: Uuid,
    /// Display name on the stack.
    pub display_name: String,
    /// Offer on the stack.
    pub offer_name: String,
    /// State on the stack (Enabled, Disabled, …).
    pub state: String,
    /// The customer owning the tenant's current mapping on this stack, if the tenant is mapped.
    pub mapped_customer: Option<String>,
}
