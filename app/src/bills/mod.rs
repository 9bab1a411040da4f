//! Bills (PRODUCT §2, §4, §6): per partner, UTC calendar month and customer (billing subscription). Lines come from
//! the charges (one per stack × commerce meter × unit price), are rounded the Partner Center way (each line rounded
//! down to cents; totals are sums of lines) and carry the customer price at the partner's markup. A final bill's
//! lines are frozen; usage that reaches a final period later is billed as adjustment lines on the next open bill.
#[cfg(feature = "ssr")]
pub mod csv;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
mod lifecycle;
#[cfg(feature = "ssr")]
mod lines;
pub mod money;
pub mod page;
#[cfg(feature = "ssr")]
mod period;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One bill line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    /// `usage`, or `adjustment` for late usage of an earlier, final period.
    pub line_type: String,
    /// The month the usage belongs to (`YYYY-MM`).
    pub charge_period: String,
    /// Stack name.
    pub stack_name: String,
    /// Stack cloud ID.
    pub stack_cloud_id: Uuid,
    /// Commerce meter.
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

/// A customer's bill for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// The partner.
    pub partner_id: Uuid,
    /// Its name.
    pub partner_name: String,
    /// `YYYY-MM`.
    pub period: String,
    /// First and last day (UTC), `YYYY-MM-DD`.
    pub period_start: String,
    /// Last day (UTC).
    pub period_end: String,
    /// The billing subscription (the customer).
    pub subscription_id: Uuid,
    /// Customer name from the directory.
    pub customer_name: String,
    /// Customer tenant.
    pub customer_tenant_id: Option<Uuid>,
    /// Offer type of the subscription.
    pub offer_type: String,
    /// `open`, `draft` or `final`.
    pub status: String,
    /// When it was finalised (UTC).
    pub finalized_at: Option<String>,
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
    /// Whether the month has ended (only then can it be finalised).
    pub period_ended: bool,
}

/// A bill in the period's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillSummary {
    /// The billing subscription.
    pub subscription_id: Uuid,
    /// Customer name.
    pub customer_name: String,
    /// Status.
    pub status: String,
    /// Lines.
    pub lines: usize,
    /// Cost.
    pub amount: Decimal,
    /// Customer price.
    pub customer_price: Decimal,
    /// Margin.
    pub margin: Decimal,
    /// Whether some lines are adjustments.
    pub has_adjustments: bool,
}
