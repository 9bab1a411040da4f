//! Bills (PRODUCT §2, §4, §6): per partner, UTC calendar month and customer (billing subscription). Lines come from
//! the charges (one per stack × commerce meter × unit price), are rounded the Partner Center way (each line rounded
//! down to cents; totals are sums of lines) and carry the customer price at the partner's markup. A final bill's
//! lines are frozen; usage that reaches a final period later is billed as adjustment lines on the next open bill.
#[cfg(feature = "ssr")]
pub mod csv;
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
pub mod invoice;
#[cfg(feature = "ssr")]
pub mod lifecycle;
#[cfg(feature = "ssr")]
mod lines;
#[cfg(feature = "ssr")]
pub mod list;
pub mod page;
#[cfg(feature = "ssr")]
pub mod writes;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a bill line bills: the month's own usage, or late usage of an earlier, final month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(feature = "ssr", sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum LineType {
    /// Usage of the bill's month.
    Usage,
    /// The difference late usage made to an earlier month whose bill is final.
    Adjustment,
}

impl std::fmt::Display for LineType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Usage => "usage",
            Self::Adjustment => "adjustment",
        })
    }
}

/// One bill line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    /// Usage of the month, or an adjustment of an earlier, final one.
    pub line_type: LineType,
    /// The month the usage belongs to (shown `YYYY-MM`).
    pub charge_period: crate::domain::Period,
    /// The name of the stack the usage ran on.
    pub stack_name: String,
    /// That stack's cloud ID (CloudDeploymentID), which its page is found by.
    pub stack_cloud_id: Uuid,
    /// The Azure commerce meter the usage is billed as (the price list's Meter ID).
    pub commerce_meter_id: Uuid,
    /// Its name in the price list.
    pub meter_name: String,
    /// Its region.
    pub region: String,
    /// Its unit.
    pub unit: String,
    /// Commerce quantity.
    pub quantity: Decimal,
    /// Price per unit.
    pub unit_price: Decimal,
    /// Quantity × unit price, unrounded.
    pub precise_amount: Decimal,
    /// The cost, rounded down to cents.
    pub amount: Decimal,
    /// What the customer pays: precise amount × (1 + markup), rounded down to cents.
    pub customer_price: Decimal,
    /// Customer price − cost.
    pub margin: Decimal,
}

/// A tenant whose usage went to the default subscription for want of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct FellThrough {
    /// The tenant; `None` for usage of local subscriptions the stack has not listed.
    pub tenant_id: Option<Uuid>,
    /// The customer's name from the directory, when known.
    pub customer_name: Option<String>,
    /// The stacks it happened on.
    pub stacks: String,
}

/// Usage on a bill's subscription that has a commerce meter but no amount, per reason and local meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Uncharged {
    /// `unpriced` (no price in effect in the partner's currency: blocks finalising), or the billing model of the
    /// stack (`Capacity`: billed by capacity purchase; `Development`: the ASDK, free), whose usage is never charged.
    pub reason: String,
    /// The local meter's name.
    pub meter_name: String,
    /// The stacks it happened on.
    pub stacks: String,
    /// Quantity, in the local meter's unit.
    pub quantity: Decimal,
    /// First UTC day with such usage.
    pub first_day: time::Date,
    /// Last UTC day with such usage.
    pub last_day: time::Date,
}

impl Uncharged {
    /// Whether it blocks finalising (unpriced usage; a model's uncharged usage does not).
    pub fn is_unpriced(&self) -> bool {
        self.reason == "unpriced"
    }

    /// Why, in plain words.
    pub fn explanation(&self) -> &'static str {
        match self.reason.as_str() {
            "Capacity" => "not charged: the stack is registered as Capacity, billed by its capacity purchase",
            "Development" => "not charged: the stack is registered as Development (ASDK), whose usage is free",
            _ => "unpriced: no price in effect for its commerce meter in the partner's currency; import a price list that covers it",
        }
    }
}

/// Where a bill is in its life: open (amounts follow the usage), draft (still following, marked for review) or final
/// (lines frozen; later usage of the month is billed as adjustments on the next bill).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    /// No status stored yet: computed from the charges.
    Open,
    /// Marked for review; still computed from the charges.
    Draft,
    /// Frozen.
    Final,
}

impl BillStatus {
    /// The stored (and shown) word: `open`, `draft`, `final`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Draft => "draft",
            Self::Final => "final",
        }
    }

    /// The status stored in `bills.status` (a check constraint allows these three); no row means open.
    pub fn stored(s: Option<&str>) -> Self {
        match s {
            Some("final") => Self::Final,
            Some("draft") => Self::Draft,
            _ => Self::Open,
        }
    }
}

impl std::fmt::Display for BillStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer's bill for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// The partner.
    pub partner_id: Uuid,
    /// Its name.
    pub partner_name: String,
    /// The month (shown `YYYY-MM`).
    pub period: crate::domain::Period,
    /// Its first day (UTC).
    pub period_start: time::Date,
    /// Its last day (UTC).
    pub period_end: time::Date,
    /// The billing subscription (the customer).
    pub subscription_id: Uuid,
    /// Customer name from the directory.
    pub customer_name: String,
    /// The customer's directory tenant, when the commerce directory knows the subscription.
    pub customer_tenant_id: Option<Uuid>,
    /// Offer type of the subscription.
    pub offer_type: Option<crate::domain::OfferType>,
    /// Open, draft or final.
    pub status: BillStatus,
    /// When it was finalised (UTC).
    pub finalized_at: Option<time::OffsetDateTime>,
    /// The invoice number the bill was given when finalised (`INV-00042`), unique per partner.
    pub invoice_number: Option<String>,
    /// The partner's details when the bill was finalised, which its invoice prints.
    pub issuer: Option<crate::partners::details::PartnerDetails>,
    /// The partner's currency.
    pub currency: String,
    /// Markup in percent.
    pub markup_percent: Decimal,
    /// Lines: usage first, then adjustments.
    pub lines: Vec<BillLine>,
    /// Sum of line amounts.
    pub total_amount: Decimal,
    /// Sum of line customer prices.
    pub total_customer_price: Decimal,
    /// Sum of line margins.
    pub total_margin: Decimal,
    /// Tenants that fell through to this (default) subscription.
    pub fell_through: Vec<FellThrough>,
    /// Usage of the period on this subscription that has no amount: unpriced, or of a Capacity/Development stack.
    pub uncharged: Vec<Uncharged>,
    /// Whether the month has ended (only then can it be finalised).
    pub period_ended: bool,
}

/// A bill in the period's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillSummary {
    /// The billing subscription.
    pub subscription_id: Uuid,
    /// The customer's name from the commerce directory.
    pub customer_name: String,
    /// Open, draft or final.
    pub status: BillStatus,
    /// How many lines the bill has.
    pub lines: usize,
    /// Cost.
    pub amount: Decimal,
    /// What the customer pays: each line's cost with the markup, rounded down to cents, summed.
    pub customer_price: Decimal,
    /// Customer price minus cost.
    pub margin: Decimal,
    /// Whether some lines are adjustments.
    pub has_adjustments: bool,
}
