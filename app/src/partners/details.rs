//! A partner's details, as its customer invoices print them: name, postal address, tax ID and the prefix of its
//! invoice numbers. Valid by construction; each refusal names its input.
use serde::{Deserialize, Serialize};

use super::forms::{DetailsFields, DetailsForm};
use crate::AppError;

/// The details of one partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PartnerDetails {
    /// Display name, and the name on invoices.
    pub name: String,
    /// Postal address, lines separated by newlines (may be empty).
    pub address: String,
    /// Tax or VAT ID (may be empty).
    pub tax_id: String,
    /// What invoice numbers start with: letters, digits, `-` and `/`, at most 12.
    pub invoice_prefix: String,
}

const F: DetailsFields = DetailsForm::FIELDS;

fn beside(field: &str, message: String) -> AppError {
    AppError::Rule { field: field.into(), message }
}

impl PartnerDetails {
    /// Checks every field of the form; the first refusal names its input.
    pub fn parse(f: &DetailsForm) -> Result<Self, AppError> {
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(beside(F.name, "Give a name of 1 to 200 characters.".into()));
        }
        // Lines as typed (a textarea posts CRLF), without trailing spaces or blank lines at either end.
        let address = f.address.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_string();
        if address.chars().count() > 500 {
            return Err(beside(F.address, "The address may be at most 500 characters.".into()));
        }
        let tax_id = f.tax_id.trim();
        if tax_id.chars().count() > 50 {
            return Err(beside(F.tax_id, "The tax ID may be at most 50 characters.".into()));
        }
        let prefix = f.invoice_prefix.trim();
        if prefix.len() > 12 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/') {
            return Err(beside(
                F.invoice_prefix,
                format!(
                    "“{}” cannot start invoice numbers: use at most 12 letters, digits, - or /, such as INV- or 2026/",
                    crate::domain::text::echo(prefix)
                ),
            ));
        }
        Ok(Self { name: name.to_string(), address, tax_id: tax_id.to_string(), invoice_prefix: prefix.to_string() })
    }

    /// The invoice number `n` of this partner (see [`invoice_number`]).
    pub fn invoice_number(&self, n: i64) -> String {
        invoice_number(&self.invoice_prefix, n)
    }
}

/// Invoice number `n` with `prefix`: `n` in at least five digits, `INV-00042`.
pub fn invoice_number(prefix: &str, n: i64) -> String {
    format!("{prefix}{n:05}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(prefix: &str, address: &str) -> DetailsForm {
        DetailsForm {
            name: " Contoso Cloud ".into(),
            address: address.into(),
            tax_id: " NL123456789B01 ".into(),
            invoice_prefix: prefix.into(),
        }
    }

    #[test]
    fn details_are_trimmed_and_numbers_carry_the_prefix() {
        let d = PartnerDetails::parse(&form("CC/2026-", "  Keizersgracht 1  \r\n1015 Amsterdam\r\n\r\n")).unwrap();
        assert_eq!((d.name.as_str(), d.address.as_str()), ("Contoso Cloud", "Keizersgracht 1\n1015 Amsterdam"));
        assert_eq!(d.tax_id, "NL123456789B01");
        assert_eq!(d.invoice_number(42), "CC/2026-00042");
        assert_eq!(d.invoice_number(123_456), "CC/2026-123456");
    }

    #[test]
    fn a_bad_prefix_is_refused_beside_its_input() {
        match PartnerDetails::parse(&form("INV 2026 <b>", "")) {
            Err(AppError::Rule { field, message }) => {
                assert_eq!(field, "invoice_prefix");
                assert!(message.contains("cannot start invoice numbers"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
