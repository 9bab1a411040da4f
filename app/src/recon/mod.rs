//! Reconciliation with Microsoft's bill (issue 14, DOMAIN §7): Partner Center's daily rated usage reconciliation
//! file, imported per partner and month, so what Microsoft billed the partner can be matched with what Stackbill
//! charged, by subscription (`EntitlementId`), usage day and commerce meter.
#[cfg(feature = "ssr")]
pub mod compare;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod parse;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One Azure Stack Hub line of Microsoft's file: a customer's subscription, meter and usage day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconLine {
    /// The line in the file (the header is line 1).
    pub line: usize,
    /// The Azure subscription (`EntitlementId`): Stackbill's billing subscription.
    pub subscription_id: Uuid,
    /// The customer's tenant (`CustomerId`).
    pub customer_tenant_id: Uuid,
    /// `CustomerName`, as Microsoft has it.
    pub customer_name: String,
    /// `UsageDate`: the UTC day of use.
    pub usage_day: time::Date,
    /// `MeterId`: the commerce meter.
    pub commerce_meter_id: Uuid,
    /// `MeterName`.
    pub meter_name: String,
    /// `Quantity`, in the commerce meter's unit.
    pub quantity: Decimal,
    /// `UnitPrice`, before credits.
    pub unit_price: Decimal,
    /// `EffectiveUnitPrice`, after partner-earned credit and discounts.
    pub effective_unit_price: Decimal,
    /// `BillingPreTaxTotal`: what Microsoft bills the partner for the line.
    pub amount: Decimal,
    /// `BillingCurrency`.
    pub currency: String,
}

/// A file read: its month, the Azure Stack Hub lines, and the other lines, counted and set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconFile {
    /// The month every usage day falls in (first day).
    pub period: time::Date,
    /// Microsoft's `PartnerId` (the partner's Entra tenant).
    pub partner_tenant_id: Uuid,
    /// The Azure Stack Hub lines, compared.
    pub lines: Vec<ReconLine>,
    /// Other lines (Azure, licences, …): not compared.
    pub set_aside: usize,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The month, `YYYY-MM`.
    pub period: String,
    /// Azure Stack Hub lines kept.
    pub lines: usize,
    /// Other lines set aside.
    pub set_aside: usize,
    /// Whether an earlier import of the month was replaced.
    pub replaced: bool,
    /// (subscription, day, meter) keys only in the new file, only in the replaced one, and in both with another
    /// quantity or amount; all zero for a first import.
    pub added: usize,
    /// See `added`.
    pub removed: usize,
    /// See `added`.
    pub changed: usize,
}
