//! The registration rules R1–R10 of PRODUCT §3 as pure functions over facts read from the database, so every
//! rule is tested without one and the pages, the command line and the tests share one wording.
use super::forms::{MappingFields, MappingForm, RegistrationFields, RegistrationForm};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The input of the stack page's forms a refusal is shown beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleField {
    /// The registration's default subscription.
    DefaultSubscription,
    /// The registration's billing model.
    BillingModel,
    /// A tenant subscription's subscription.
    Subscription,
    /// A tenant subscription's directory tenant.
    Tenant,
}

impl RuleField {
    /// The input's name (from the form structs, so a renamed input renames this).
    pub fn input(self) -> &'static str {
        const REG: RegistrationFields = RegistrationForm::FIELDS;
        const MAP: MappingFields = MappingForm::FIELDS;
        match self {
            Self::DefaultSubscription => REG.default_subscription,
            Self::BillingModel => REG.billing_model,
            Self::Subscription => MAP.subscription,
            Self::Tenant => MAP.tenant,
        }
    }
}

use crate::domain::text::{possessive, short_id};
use crate::domain::{BillingModel, OfferType, SubscriptionStatus};

/// A refusal: which rule, Azure's error code where one exists, the form field it belongs to, and plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleViolation {
    /// `R1` … `R10`.
    pub rule: &'static str,
    /// Azure's error code, e.g. `BadCustomerSubscriptionId`.
    pub code: &'static str,
    /// The input the refusal is shown beside.
    pub field: RuleField,
    /// What is wrong, naming the value, and what to do.
    pub message: String,
}

impl std::fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words = self.message.chars();
        let first = words.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
        write!(f, "{first}{} ({}, {})", words.as_str(), self.rule, self.code)
    }
}

/// What the commerce directory says about a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The subscription.
    pub subscription_id: Uuid,
    /// Its offer type.
    pub offer: OfferType,
    /// The CSP partner it rolls up to.
    pub billing_partner: Uuid,
    /// The customer's directory tenant.
    pub customer_tenant: Uuid,
    /// The customer's name, as the directory has it.
    pub customer_name: String,
    /// Active, suspended or deleted.
    pub status: SubscriptionStatus,
}

impl DirectoryEntry {
    /// "Northwind Traders' subscription 5b5c…0001": how a refusal names one of the partner's own subscriptions.
    fn named(&self) -> String {
        format!("{} subscription {}", possessive(&self.customer_name), short_id(&self.subscription_id.to_string()))
    }
}

fn violation(rule: &'static str, code: &'static str, field: RuleField, message: String) -> RuleViolation {
    RuleViolation { rule, code, field, message }
}

/// R5 then R9: the subscription is in the partner's own commerce directory, and active. Ownership is checked first
/// and a subscription that is not the partner's gets the same answer as one that does not exist, so a refusal never
/// tells one partner the type or status of another's subscriptions.
fn owned_active(
    id: Uuid,
    entry: Option<&DirectoryEntry>,
    partner: Uuid,
    field: RuleField,
) -> Result<&DirectoryEntry, RuleViolation> {
    let entry = entry.filter(|e| e.billing_partner == partner).ok_or_else(|| {
        violation(
            "R5",
            "BadCustomerSubscriptionId",
            field,
            format!("subscription {id} was not found in your commerce directory: check the ID in Partner Center, or choose one of your customers' subscriptions from the list"),
        )
    })?;
    if entry.status != SubscriptionStatus::Active {
        return Err(violation(
            "R9",
            "InvalidCustomerSubscriptionId",
            field,
            format!(
                "{} is {}, not active: reactivate it in Partner Center, or choose an active subscription",
                entry.named(),
                entry.status.as_str()
            ),
        ));
    }
    Ok(entry)
}

/// Setting (or changing, R10) a registration's default subscription and billing model.
/// `current_mappings` is the number of tenant mappings in force from the change on.
pub fn check_default(
    partner: Uuid,
    model: BillingModel,
    subscription_id: Uuid,
    entry: Option<&DirectoryEntry>,
    current_mappings: usize,
) -> Result<(), RuleViolation> {
    let entry = owned_active(subscription_id, entry, partner, RuleField::DefaultSubscription)?;
    match entry.offer {
        OfferType::Csp | OfferType::Apss => {}
        OfferType::Ea if current_mappings == 0 => {}
        // The ASDK reports usage with EA, pay-as-you-go, CSP and MSDN subscriptions (DOMAIN §3.3).
        OfferType::Payg | OfferType::Msdn if model == BillingModel::Development && current_mappings == 0 => {}
        OfferType::Ea => {
            return Err(violation(
                "R3",
                "InvalidCSPSubscription",
                RuleField::DefaultSubscription,
                format!(
                    "{} is an EA subscription; a registration with tenant subscriptions ({current_mappings} now) needs a CSP or APSS default: remove the tenant subscriptions first, or choose a CSP or APSS subscription",
                    entry.named()
                ),
            ))
        }
        other => {
            return Err(violation(
                "R3",
                "InvalidCSPSubscription",
                RuleField::DefaultSubscription,
                format!("{} is {}; choose a CSP or APSS subscription as the default (EA only without tenant subscriptions; PAYG and MSDN only for a Development registration)", entry.named(), other.as_str()),
            ))
        }
    }
    if model == BillingModel::Capacity && current_mappings > 0 {
        return Err(violation(
            "R8",
            "CustomerSubscriptionsNotAllowed",
            RuleField::BillingModel,
            format!("Capacity registrations cannot have tenant subscriptions, and this one has {current_mappings}; remove them first"),
        ));
    }
    Ok(())
}

/// The registration as it stands, for a tenant mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationFacts {
    /// The billing model.
    pub model: BillingModel,
    /// The offer type of the default subscription in force.
    pub default_offer: OfferType,
}

/// The directory tenant a tenant subscription is for, with its customer's name where the partner's directory
/// knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantFacts<'a> {
    /// The tenant.
    pub id: Uuid,
    /// Its customer's name.
    pub name: Option<&'a str>,
}

impl TenantFacts<'_> {
    /// "Fourth Coffee" or "tenant 1a2b…3c4d".
    fn named(&self) -> String {
        self.name.map_or_else(|| format!("tenant {}", short_id(&self.id.to_string())), str::to_string)
    }
}

/// Adding or replacing a tenant mapping (R2, R3, R4, R5, R6, R8, R9).
pub fn check_mapping(
    partner: Uuid,
    registration: Option<&RegistrationFacts>,
    tenant: TenantFacts<'_>,
    subscription_id: Uuid,
    entry: Option<&DirectoryEntry>,
) -> Result<(), RuleViolation> {
    let reg = registration.ok_or_else(|| {
        violation(
            "R2",
            "RegistrationNotFound",
            RuleField::Tenant,
            "register the stack's default subscription first; tenant subscriptions come after it".into(),
        )
    })?;
    if reg.model == BillingModel::Capacity {
        return Err(violation(
            "R8",
            "CustomerSubscriptionsNotAllowed",
            RuleField::Tenant,
            "this stack's registration uses the Capacity billing model, which cannot have tenant subscriptions".into(),
        ));
    }
    if !matches!(reg.default_offer, OfferType::Csp | OfferType::Apss) {
        return Err(violation(
            "R3",
            "UnauthorizedCspRegistration",
            RuleField::Tenant,
            format!("the default subscription is {}; change it to a CSP or APSS subscription before adding tenant subscriptions", reg.default_offer.as_str()),
        ));
    }
    let entry = owned_active(subscription_id, entry, partner, RuleField::Subscription)?;
    if entry.offer != OfferType::Csp {
        return Err(violation(
            "R4",
            "InvalidCSPSubscription",
            RuleField::Subscription,
            format!(
                "{} is {}; a tenant subscription must be a CSP subscription of {}",
                entry.named(),
                entry.offer.as_str(),
                tenant.named()
            ),
        ));
    }
    if entry.customer_tenant != tenant.id {
        return Err(violation(
            "R6",
            "BadCustomerSubscriptionId",
            RuleField::Subscription,
            format!(
                "{} is a CSP subscription of another tenant ({}), not of {}: choose one of {} own CSP subscriptions",
                entry.named(),
                short_id(&entry.customer_tenant.to_string()),
                tenant.named(),
                possessive(&tenant.named())
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
