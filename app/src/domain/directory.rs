//! Commerce-directory vocabulary: offer types, subscription states and billing models.
use serde::{Deserialize, Serialize};

use crate::AppError;

/// An Azure subscription's offer type (PRODUCT §2). `CSPSS` is the legacy name of `APSS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "UPPERCASE"))]
pub enum OfferType {
    /// Cloud Solution Provider.
    Csp,
    /// Azure Partner Shared Services (formerly CSPSS).
    Apss,
    /// Enterprise Agreement.
    Ea,
    /// Pay-as-you-go.
    Payg,
    /// Visual Studio (MSDN).
    Msdn,
}

impl OfferType {
    /// Reads an offer type in any case; `CSPSS` becomes `APSS`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CSP" => Ok(Self::Csp),
            "APSS" | "CSPSS" => Ok(Self::Apss),
            "EA" => Ok(Self::Ea),
            "PAYG" => Ok(Self::Payg),
            "MSDN" => Ok(Self::Msdn),
            _ => Err(AppError::Validation(format!(
                "offer type “{s}” is not one of CSP, APSS (or CSPSS), EA, PAYG, MSDN"
            ))),
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csp => "CSP",
            Self::Apss => "APSS",
            Self::Ea => "EA",
            Self::Payg => "PAYG",
            Self::Msdn => "MSDN",
        }
    }
}

/// A directory subscription's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum SubscriptionStatus {
    /// Usable.
    Active,
    /// Temporarily unusable.
    Suspended,
    /// Gone.
    Deleted,
}

impl SubscriptionStatus {
    /// Reads a status in any case.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "deleted" => Ok(Self::Deleted),
            _ => Err(AppError::Validation(format!("status “{s}” is not one of active, suspended, deleted"))),
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deleted => "deleted",
        }
    }
}

/// A registration's billing model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text"))]
pub enum BillingModel {
    /// Pay as you use: usage is billed.
    PayAsYouUse,
    /// Capacity (disconnected): no tenant subscriptions.
    Capacity,
    /// Development (ASDK).
    Development,
}

impl BillingModel {
    /// Reads a billing model as Azure spells it (any case).
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "payasyouuse" => Ok(Self::PayAsYouUse),
            "capacity" => Ok(Self::Capacity),
            "development" => Ok(Self::Development),
            _ => Err(AppError::Validation(format!(
                "billing model “{s}” is not one of PayAsYouUse, Capacity, Development"
            ))),
        }
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PayAsYouUse => "PayAsYouUse",
            Self::Capacity => "Capacity",
            Self::Development => "Development",
        }
    }
}

macro_rules! shown_as_stored {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
shown_as_stored!(OfferType, SubscriptionStatus, BillingModel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cspss_is_read_as_apss_in_any_case() {
        assert_eq!(OfferType::parse("cspss").unwrap(), OfferType::Apss);
        assert_eq!(OfferType::parse(" APSS ").unwrap(), OfferType::Apss);
    }

    #[test]
    fn unknown_offer_types_are_named() {
        let e = OfferType::parse("Sponsorship").unwrap_err();
        assert!(e.to_string().contains("Sponsorship"));
    }

    #[test]
    fn spellings_round_trip() {
        for o in [OfferType::Csp, OfferType::Apss, OfferType::Ea, OfferType::Payg, OfferType::Msdn] {
            assert_eq!(OfferType::parse(o.as_str()).unwrap(), o);
        }
        for m in [BillingModel::PayAsYouUse, BillingModel::Capacity, BillingModel::Development] {
            assert_eq!(BillingModel::parse(m.as_str()).unwrap(), m);
        }
        for s in [SubscriptionStatus::Active, SubscriptionStatus::Suspended, SubscriptionStatus::Deleted] {
            assert_eq!(SubscriptionStatus::parse(s.as_str()).unwrap(), s);
        }
    }
}
