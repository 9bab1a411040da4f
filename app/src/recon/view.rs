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

/// Quantities of one commerce meter over the month, in its unit (quantities of different meters do not add up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterTally {
    /// The commerce meter.
    pub commerce_meter_id: Uuid,
    /// Its name.
    pub meter_name: String,
    /// The quantity of the lines that agree.
    pub matched_quantity: Decimal,
    /// Microsoft's quantity, of every line.
    pub microsoft_quantity: Decimal,
    /// Stackbill's quantity, of every line.
    pub stackbill_quantity: Decimal,
}

/// Per commerce meter, by name.
pub fn meters(rows: &[Compared]) -> Vec<MeterTally> {
    let mut by_meter: std::collections::BTreeMap<Uuid, MeterTally> = std::collections::BTreeMap::new();
    for c in rows {
        let t = by_meter.entry(c.commerce_meter_id).or_insert_with(|| MeterTally {
            commerce_meter_id: c.commerce_meter_id,
            meter_name: c.meter_name.clone().unwrap_or_else(|| c.commerce_meter_id.to_string()),
            ..MeterTally::default()
        });
        if c.kind() == Kind::Matched {
            t.matched_quantity += c.stackbill_quantity.unwrap_or_default();
        }
        t.microsoft_quantity += c.microsoft_quantity.unwrap_or_default();
        t.stackbill_quantity += c.stackbill_quantity.unwrap_or_default();
    }
    let mut out: Vec<MeterTally> = by_meter.into_values().collect();
    out.sort_by(|a, b| a.meter_name.cmp(&b.meter_name));
    out
}

/// The differences of one subscription, meter and kind over the month: a row of the page (the CSV has each day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The days' keys; the first carries the customer, subscription, meter and stacks.
    pub first: Compared,
    /// How they differ.
    pub kind: Kind,
    /// The last day that differs this way.
    pub last_day: time::Date,
    /// Days that differ this way.
    pub days: usize,
    /// Microsoft's quantity over those days.
    pub microsoft_quantity: Option<Decimal>,
    /// Stackbill's.
    pub stackbill_quantity: Option<Decimal>,
    /// Microsoft's amount at list price.
    pub microsoft_list_amount: Option<Decimal>,
    /// Stackbill's amount.
    pub stackbill_amount: Option<Decimal>,
}

/// The keys that differ, per subscription, commerce meter and kind, in the order they come.
pub fn differences(rows: &[Compared]) -> Vec<Difference> {
    let add = |a: Option<Decimal>, b: Option<Decimal>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    };
    let mut out: Vec<Difference> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for c in rows.iter().filter(|c| c.kind() != Kind::Matched) {
        let i = *at.entry((c.subscription_id, c.commerce_meter_id, c.kind())).or_insert_with(|| {
            out.push(Difference {
                first: c.clone(),
                kind: c.kind(),
                last_day: c.day,
                days: 0,
                microsoft_quantity: None,
                stackbill_quantity: None,
                microsoft_list_amount: None,
                stackbill_amount: None,
            });
            out.len() - 1
        });
        let d = &mut out[i];
        d.last_day = d.last_day.max(c.day);
        d.days += 1;
        d.microsoft_quantity = add(d.microsoft_quantity, c.microsoft_quantity);
        d.stackbill_quantity = add(d.stackbill_quantity, c.stackbill_quantity);
        d.microsoft_list_amount = add(d.microsoft_list_amount, c.microsoft_list_amount);
        d.stackbill_amount = add(d.stackbill_amount, c.stackbill_amount);
    }
    out
}

/// Rows of differences the page shows; the CSV has every one.
pub const SHOWN_DIFFERENCES: usize = 300;

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
    /// Per commerce meter: matched quantity and each side's.
    pub meters: Vec<MeterTally>,
    /// The first [`SHOWN_DIFFERENCES`] differences, per subscription, meter and kind (the CSV has each day).
    pub differences: Vec<Difference>,
    /// How many rows of differences there are in all.
    pub all_differences: usize,
    /// Whether the viewer may import.
    pub can_write: bool,
    /// The last form's outcome.
    pub flash: Option<Flash>,
}

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

    #[test]
    fn differences_are_grouped_per_subscription_meter_and_kind_over_their_days() {
        let mut later = key("Adatum", Some((d("5"), d("10"))), None);
        later.day = date!(2026 - 10 - 09);
        let rows = [
            key("Adatum", Some((d("3"), d("6"))), None),
            key("Adatum", Some((d("2"), d("4"))), Some((d("2"), d("4")))),
            key("Adatum", Some((d("4"), d("8"))), Some((d("1"), d("2")))),
            later,
        ];
        let groups = differences(&rows);
        assert_eq!(groups.len(), 2, "only Microsoft (two days), Microsoft more (one)");
        let only = &groups[0];
        assert_eq!(
            (only.kind, only.days, only.first.day, only.last_day),
            (Kind::OnlyMicrosoft, 2, rows[0].day, rows[3].day)
        );
        assert_eq!((only.microsoft_quantity, only.stackbill_quantity), (Some(d("8")), None));
        assert_eq!((only.microsoft_list_amount, only.stackbill_amount), (Some(d("16")), None));
        assert_eq!((groups[1].kind, groups[1].stackbill_amount), (Kind::MicrosoftMore, Some(d("2"))));
    }

    #[test]
    fn meters_add_their_matched_quantity_apart_from_each_sides() {
        let rows = [
            key("Adatum", Some((d("2"), d("4"))), Some((d("2"), d("4")))),
            key("Tailspin", Some((d("3"), d("6"))), Some((d("1"), d("2")))),
        ];
        let m = meters(&rows);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].matched_quantity, m[0].microsoft_quantity, m[0].stackbill_quantity), (d("2"), d("5"), d("3")));
    }
}
