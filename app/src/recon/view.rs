//! The reconciliation page's data, on both targets: the current import, a row per customer with its totals, and the
//! differences with what to look at for each.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Compared, Kind};
use crate::web::Flash;

/// The month's current import of Microsoft's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Imported {
    /// The import.
    pub import_id: Uuid,
    /// The file's name as uploaded.
    pub file_name: String,
    /// Who imported it.
    pub imported_by: String,
    /// When.
    pub imported_at: time::OffsetDateTime,
    /// Azure Stack Hub lines kept.
    pub lines: i32,
    /// Other lines set aside.
    pub set_aside: i32,
    /// Whether it replaced an earlier import of the month.
    pub replaced: bool,
}

/// Totals of a customer, or of all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The customer's name (empty for the total).
    pub customer_name: String,
    /// The customer's tenant, when known.
    pub customer_tenant_id: Option<Uuid>,
    /// (subscription, day, meter) keys that agree.
    pub matched: usize,
    /// What the matched keys amount to (Stackbill's side).
    pub matched_amount: Decimal,
    /// Microsoft's amount at list price, of every key.
    pub microsoft_list_amount: Decimal,
    /// What Microsoft billed (after partner-earned credit), of every key.
    pub microsoft_amount: Decimal,
    /// Stackbill's amount, of every key.
    pub stackbill_amount: Decimal,
    /// Keys that differ.
    pub differences: usize,
}

impl Tally {
    /// Adds one key.
    fn add(&mut self, c: &Compared) {
        let ours = c.stackbill_amount.unwrap_or_default();
        if c.kind() == Kind::Matched {
            self.matched += 1;
            self.matched_amount += ours;
        } else {
            self.differences += 1;
        }
        self.microsoft_list_amount += c.microsoft_list_amount.unwrap_or_default();
        self.microsoft_amount += c.microsoft_amount.unwrap_or_default();
        self.stackbill_amount += ours;
    }

    /// Microsoft's list amount less Stackbill's: positive when Microsoft billed more.
    pub fn gap(&self) -> Decimal {
        self.microsoft_list_amount - self.stackbill_amount
    }
}

/// Per customer (name and tenant, as the rows come ordered) and in total.
pub fn tallies(rows: &[Compared]) -> (Vec<Tally>, Tally) {
    let mut customers: Vec<Tally> = Vec::new();
    let mut total = Tally::default();
    for c in rows {
        let name = c.customer_name.clone().unwrap_or_else(|| format!("subscription {}", c.subscription_id));
        if customers.last().is_none_or(|t| (&t.customer_name, t.customer_tenant_id) != (&name, c.customer_tenant_id)) {
            customers.push(Tally { customer_name: name, customer_tenant_id: c.customer_tenant_id, ..Tally::default() });
        }
        if let Some(t) = customers.last_mut() {
            t.add(c);
        }
        total.add(c);
    }
    (customers, total)
}

/// The reconciliation page of a partner's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconView {
    /// `YYYY-MM`.
    pub period: String,
    /// The partner shown.
    pub partner_id: Uuid,
    /// Its name.
    pub partner_name: String,
    /// Partners to choose from (operators only).
    pub partners: Vec<(Uuid, String)>,
    /// The partner's currency.
    pub currency: String,
    /// The month's current import, if any.
    pub imported: Option<Imported>,
    /// Per customer.
    pub customers: Vec<Tally>,
    /// All customers.
    pub total: Tally,
    /// The first differences (the CSV has them all).
    pub differences: Vec<Compared>,
    /// How many differences there are in all.
    pub all_differences: usize,
    /// Whether the viewer may import.
    pub can_write: bool,
    /// The last form's outcome.
    pub flash: Option<Flash>,
}

/// Differences shown on the page; the CSV has every one.
pub const SHOWN_DIFFERENCES: usize = 300;

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn key(customer: &str, ms: Option<(Decimal, Decimal)>, sb: Option<(Decimal, Decimal)>) -> Compared {
        Compared {
            subscription_id: Uuid::nil(),
            customer_name: Some(customer.into()),
            customer_tenant_id: None,
            day: date!(2026 - 10 - 01),
            commerce_meter_id: Uuid::nil(),
            meter_name: None,
            microsoft_quantity: ms.map(|m| m.0),
            microsoft_amount: ms.map(|m| m.1 - d("0.5")),
            microsoft_list_amount: ms.map(|m| m.1),
            microsoft_lines: ms.map(|_| 1),
            microsoft_unit_price: ms.map(|m| m.1 / m.0),
            stackbill_quantity: sb.map(|s| s.0),
            stackbill_amount: sb.map(|s| s.1),
            stackbill_unit_price: sb.map(|s| s.1 / s.0),
            stack_names: vec![],
            stack_clouds: vec![],
        }
    }

    #[test]
    fn customers_are_tallied_with_the_total() {
        let rows = [
            key("Adatum", Some((d("2"), d("4"))), Some((d("2"), d("4")))),
            key("Adatum", Some((d("3"), d("6"))), None),
            key("Tailspin", None, Some((d("1"), d("10")))),
        ];
        let (customers, total) = tallies(&rows);
        assert_eq!(customers.len(), 2);
        let adatum = &customers[0];
        assert_eq!((adatum.matched, adatum.differences), (1, 1));
        assert_eq!(adatum.matched_amount, d("4"));
        assert_eq!(adatum.microsoft_list_amount, d("10"));
        assert_eq!(adatum.microsoft_amount, d("9"));
        assert_eq!(adatum.gap(), d("6"), "Microsoft billed 6 more");
        assert_eq!(customers[1].gap(), d("-10"));
        assert_eq!((total.matched, total.differences), (1, 2));
        assert_eq!(total.gap(), d("-4"), "10 against 14");
    }
}
