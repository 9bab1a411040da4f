//! Reading a commerce-directory file (CSV or JSON, PRODUCT §2). All rows are checked and every problem is
//! reported with its line (CSV) or index (JSON) and column, so one upload fixes them all.
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{OfferType, SubscriptionStatus};

/// The CSV header, in order.
pub const COLUMNS: [&str; 6] =
    ["SubscriptionId", "OfferType", "BillingPartnerId", "CustomerTenantId", "CustomerName", "Status"];

/// One valid directory row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRow {
    /// Where it came from: CSV line or JSON index (1-based), for later errors (unknown partner, clashes).
    pub line: usize,
    /// Azure subscription ID.
    pub subscription_id: Uuid,
    /// Offer type (`CSPSS` already read as `APSS`).
    pub offer: OfferType,
    /// Partner ID of the billing partner.
    pub billing_partner_id: Uuid,
    /// Customer's directory tenant.
    pub customer_tenant_id: Uuid,
    /// The customer's name (1 to 200 characters).
    pub customer_name: String,
    /// Active, suspended or deleted (only active subscriptions can be registered or mapped).
    pub status: SubscriptionStatus,
}

pub use crate::rows::RowError;
use crate::rows::{err, read_csv, read_json};

/// Parses a file, deciding CSV or JSON by its first non-blank character.
pub fn parse(text: &str) -> Result<Vec<DirectoryRow>, Vec<RowError>> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('[') {
        parse_json(text)
    } else {
        parse_csv(text)
    }
}

fn row(line: usize, fields: [&str; 6]) -> Result<DirectoryRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut guid = |i: usize| {
        Uuid::parse_str(fields[i].trim())
            .map_err(|_| errors.push(err(line, COLUMNS[i], format!("“{}” is not a GUID", fields[i]))))
            .ok()
    };
    let (sub, partner, tenant) = (guid(0), guid(2), guid(3));
    let offer = OfferType::parse(fields[1]).map_err(|e| errors.push(err(line, COLUMNS[1], e.to_string()))).ok();
    let status =
        SubscriptionStatus::parse(fields[5]).map_err(|e| errors.push(err(line, COLUMNS[5], e.to_string()))).ok();
    let name = fields[4].trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(err(line, COLUMNS[4], "give a customer name of 1 to 200 characters"));
    }
    match (sub, offer, partner, tenant, status) {
        (Some(subscription_id), Some(offer), Some(billing_partner_id), Some(customer_tenant_id), Some(status))
            if errors.is_empty() =>
        {
            Ok(DirectoryRow {
                line,
                subscription_id,
                offer,
                billing_partner_id,
                customer_tenant_id,
                customer_name: name.into(),
                status,
            })
        }
        _ => Err(errors),
    }
}

/// CSV with the header of [`COLUMNS`] (any order, any case).
pub fn parse_csv(text: &str) -> Result<Vec<DirectoryRow>, Vec<RowError>> {
    let wanted = COLUMNS.each_ref().map(std::slice::from_ref);
    let (rows, _) = read_csv(text, wanted, |line, fields| row(line, fields).map(Some))?;
    finish(rows, Vec::new())
}

/// JSON: an array of objects with the CSV's keys in camelCase.
pub fn parse_json(text: &str) -> Result<Vec<DirectoryRow>, Vec<RowError>> {
    finish(read_json(text, COLUMNS, row)?, Vec::new())
}

fn finish(rows: Vec<DirectoryRow>, mut errors: Vec<RowError>) -> Result<Vec<DirectoryRow>, Vec<RowError>> {
    // The same subscription twice in one file must agree on its owner.
    for (i, a) in rows.iter().enumerate() {
        if let Some(b) = rows[..i].iter().find(|b| b.subscription_id == a.subscription_id) {
            if b.billing_partner_id != a.billing_partner_id || b.customer_tenant_id != a.customer_tenant_id {
                errors.push(err(
                    a.line,
                    COLUMNS[0],
                    format!("{} also appears on line {} with a different owner", a.subscription_id, b.line),
                ));
            }
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(err(1, "file", "the file has no rows"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status\n";
    const P: &str = "3f2a6b1e-7c4d-4e8a-9b2f-1a2b3c4d5e01";
    const T: &str = "7e4a0000-0000-4000-8000-000000000001";

    #[test]
    fn a_good_csv_parses_with_cspss_read_as_apss() {
        let text = format!("{HEADER}5B5C0000-0000-4000-8000-000000000001,CSPSS,{P},{T},Northwind,Active\n");
        let rows = parse(&text).unwrap();
        assert_eq!(rows[0].offer, OfferType::Apss);
        assert_eq!(rows[0].subscription_id.to_string(), "5b5c0000-0000-4000-8000-000000000001");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn every_bad_cell_is_reported_by_line_and_column() {
        let text = format!(
            "{HEADER}not-a-guid,CSP,{P},{T},A,active\n5b5c0000-0000-4000-8000-000000000002,Sponsor,{P},{T},B,gone\n"
        );
        let errors = parse(&text).unwrap_err();
        let places: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(places, [(2, "SubscriptionId"), (3, "OfferType"), (3, "Status")]);
        assert!(errors[0].message.contains("not-a-guid"));
    }

    #[test]
    fn a_missing_column_is_named() {
        let errors = parse("SubscriptionId,OfferType\nx,y\n").unwrap_err();
        assert_eq!(errors[0].column, "BillingPartnerId");
    }

    #[test]
    fn one_subscription_with_two_owners_is_refused() {
        let other = "3f2a6b1e-7c4d-4e8a-9b2f-1a2b3c4d5e02";
        let s = "5b5c0000-0000-4000-8000-000000000003";
        let text = format!("{HEADER}{s},CSP,{P},{T},A,active\n{s},CSP,{other},{T},A,active\n");
        let errors = parse(&text).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "SubscriptionId"));
    }

    #[test]
    fn json_uses_camel_case_keys_and_reports_by_index() {
        let text = format!(
            r#"[{{"subscriptionId":"5b5c0000-0000-4000-8000-000000000004","offerType":"CSP","billingPartnerId":"{P}","customerTenantId":"{T}","customerName":"C","status":"active"}},
               {{"subscriptionId":"x","offerType":"CSP","billingPartnerId":"{P}","customerTenantId":"{T}","customerName":"D","status":"active"}}]"#
        );
        let errors = parse(&text).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "SubscriptionId"));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in ["", "\u{feff}", "[", "[1,2]", "a,b\n\"", "SubscriptionId\n\n\n", "[{}]"] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }
}
