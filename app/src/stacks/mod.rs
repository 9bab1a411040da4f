//! Stacks: the Azure Stack Hub systems a partner bills through Stackbill.
pub mod api;
pub mod components;
#[cfg(feature = "ssr")]
pub mod db;
pub mod detail;
pub mod forms;
pub mod page;
#[cfg(feature = "ssr")]
pub mod writes;

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
    pub billing_model: Option<crate::domain::BillingModel>,
    /// The default subscription in force now, when registered.
    pub default_subscription: Option<Uuid>,
    /// Tenant mappings in force now.
    pub current_mappings: i64,
    /// When the stack was archived (no usage taken, hidden from lists by default), if it is.
    pub archived_at: Option<time::OffsetDateTime>,
}

/// One partner in the operator's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PartnerSummary {
    /// Microsoft Partner ID.
    pub partner_id: Uuid,
    /// Display name.
    pub name: String,
    /// The partner's Microsoft Partner Network ID (digits).
    pub mpn_id: String,
    /// Billing currency.
    pub currency: String,
    /// Number of stacks.
    pub stacks: i64,
}

/// A stack to add, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStack {
    name: String,
    cloud_id: Uuid,
    region: String,
    admin_endpoint: Option<String>,
}

impl NewStack {
    /// The stack's cloud ID.
    pub fn cloud_id(&self) -> Uuid {
        self.cloud_id
    }

    /// Checks every field; the error names the field and the value.
    pub fn parse(name: &str, cloud_id: &str, region: &str, admin_endpoint: &str) -> Result<Self, crate::AppError> {
        use crate::AppError::Validation;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Validation("name: give a stack name of 1 to 100 characters".into()));
        }
        let cloud_id = Uuid::parse_str(cloud_id.trim())
            .map_err(|_| Validation(format!("cloud ID: “{cloud_id}” is not a GUID (the stack's CloudDeploymentID)")))?;
        let region = region.trim();
        if region.chars().count() > 100 {
            return Err(Validation("region: at most 100 characters".into()));
        }
        let endpoint = admin_endpoint.trim();
        if !(endpoint.is_empty() || endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(Validation(format!(
                "admin ARM endpoint: “{endpoint}” must be a URL such as https://adminmanagement.local.azurestack.external"
            )));
        }
        Ok(Self {
            name: name.into(),
            cloud_id,
            region: region.into(),
            admin_endpoint: (!endpoint.is_empty()).then(|| endpoint.trim_end_matches('/').to_string()),
        })
    }
}

/// A tenant mapping row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MappingRow {
    /// The customer's directory tenant.
    pub tenant_id: Uuid,
    /// The customer's name from the directory.
    pub customer_name: String,
    /// The mapped subscription.
    pub subscription_id: Uuid,
    /// When it took effect.
    pub valid_from: time::OffsetDateTime,
    /// When it ended, or `None` while in force.
    pub valid_to: Option<time::OffsetDateTime>,
}

/// A directory subscription the partner owns, for the pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SubscriptionOption {
    /// The Azure subscription's ID (what the picker submits).
    pub subscription_id: Uuid,
    /// CSP, APSS, EA, PAYG or MSDN: which of the registration rules (PRODUCT §3) apply to it.
    pub offer_type: crate::domain::OfferType,
    /// The customer's name from the commerce directory.
    pub customer_name: String,
    /// The customer's directory tenant, mapped when this subscription is picked.
    pub customer_tenant_id: Uuid,
    /// Only active subscriptions can be registered or mapped (R9); others are offered with their status.
    pub status: crate::domain::SubscriptionStatus,
}
