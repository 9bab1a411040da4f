//! CSP partners: the organisations whose staff use Stackbill.
#[cfg(feature = "ssr")]
pub mod db;
pub mod details;
pub mod forms;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod writes;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppError;

/// A partner to add, valid by construction (STYLE L4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPartner {
    name: String,
    partner_id: Uuid,
    mpn_id: String,
    directory_tenant_id: Uuid,
    currency: String,
}

fn guid(field: &str, value: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(value.trim()).map_err(|_| {
        AppError::Validation(format!("{field}: “{value}” is not a GUID (like 0f8fad5b-d9cb-469f-a165-70867728950e)"))
    })
}

impl NewPartner {
    /// Checks every field; the error names the field and the value.
    pub fn parse(name: &str, partner_id: &str, mpn_id: &str, tenant: &str, currency: &str) -> Result<Self, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::Validation("name: give a name of 1 to 200 characters".into()));
        }
        let mpn = mpn_id.trim();
        if mpn.is_empty() || mpn.len() > 12 || !mpn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::Validation(format!("MPN ID: “{mpn_id}” must be digits only (like 4390934)")));
        }
        let currency = currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(AppError::Validation(format!("currency: “{currency}” is not a 3-letter ISO code (like USD)")));
        }
        Ok(Self {
            name: name.to_string(),
            partner_id: guid("Partner ID", partner_id)?,
            mpn_id: mpn.to_string(),
            directory_tenant_id: guid("directory tenant", tenant)?,
            currency,
        })
    }

    /// The Microsoft Partner ID.
    pub fn partner_id(&self) -> Uuid {
        self.partner_id
    }
}

/// A stored partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Partner {
    /// Microsoft Partner ID.
    pub partner_id: Uuid,
    /// Display name.
    pub name: String,
    /// MPN ID (digits).
    pub mpn_id: String,
    /// The partner organisation's directory tenant, matched against the sign-in claim.
    pub directory_tenant_id: Uuid,
    /// Billing currency.
    pub currency: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "DA41BC5F-0000-4000-8000-000000000001";
    const T: &str = "b5f0a1c2-1111-4222-8333-444455556666";

    #[test]
    fn a_valid_partner_parses_and_guids_are_lowercased() {
        let p = NewPartner::parse(" Contoso ", P, "4390934", T, "eur").unwrap();
        assert_eq!(p.partner_id().to_string(), P.to_lowercase());
        assert_eq!(p.currency, "EUR");
        assert_eq!(p.name, "Contoso");
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let e = NewPartner::parse("C", "not-a-guid", "1", T, "USD").unwrap_err();
        assert!(e.to_string().contains("Partner ID") && e.to_string().contains("not-a-guid"), "{e}");
        let e = NewPartner::parse("C", P, "43a", T, "USD").unwrap_err();
        assert!(e.to_string().contains("MPN ID") && e.to_string().contains("43a"), "{e}");
        let e = NewPartner::parse("C", P, "1", T, "US").unwrap_err();
        assert!(e.to_string().contains("currency"), "{e}");
        assert!(NewPartner::parse("  ", P, "1", T, "USD").is_err());
    }
}
