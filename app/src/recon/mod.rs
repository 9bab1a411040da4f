//! Reconciliation with Microsoft's bill (issue 14, DOMAIN §7): Partner Center's daily rated usage reconciliation
//! file, imported per partner and month, so what Microsoft billed the partner can be matched with what Stackbill
//! charged, by subscription (`EntitlementId`), usage day and commerce meter.
#[cfg(feature = "ssr")]
pub mod compare;
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
pub mod page;
#[cfg(feature = "ssr")]
pub mod parse;
pub mod view;
#[cfg(feature = "ssr")]
pub mod writes;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::number::{count, grouped};

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

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines = |n: usize| count(n as u64, "line", "lines");
        write!(
            f,
            "imported the reconciliation of {}: {} of Azure Stack Hub, {} set aside",
            self.period,
            lines(self.lines),
            lines(self.set_aside)
        )?;
        if self.replaced {
            write!(
                f,
                "; replaced the earlier import: {} subscription-day-meter totals added, {} removed, {} changed",
                grouped((self.added as u64).into()),
                grouped((self.removed as u64).into()),
                grouped((self.changed as u64).into())
            )?;
        }
        Ok(())
    }
}

/// How one (subscription, day, meter) compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// Both sides agree within the tolerances.
    Matched,
    /// Microsoft billed it; Stackbill has no charge: a stack not reporting to Stackbill (or not registered there).
    OnlyMicrosoft,
    /// Stackbill charges it; Microsoft did not bill it: a tenant mapped in Stackbill but not in Azure, or usage not
    /// yet uploaded to Azure.
    OnlyStackbill,
    /// Microsoft billed more: usage Stackbill has not received (a stack not reporting, or reporting late).
    MicrosoftMore,
    /// Microsoft billed less: a tenant mapped in Stackbill but not in Azure, or usage not yet uploaded to Azure.
    MicrosoftLess,
    /// Same quantity, another unit price: Stackbill's price list is outdated (or has no price for the meter).
    Price,
}

impl Kind {
    /// A few words for a table cell.
    pub fn label(self) -> &'static str {
        match self {
            Self::Matched => "Matched",
            Self::OnlyMicrosoft => "Only Microsoft",
            Self::OnlyStackbill => "Only Stackbill",
            Self::MicrosoftMore => "Microsoft more",
            Self::MicrosoftLess => "Microsoft less",
            Self::Price => "Unit price",
        }
    }

    /// The likely cause, in plain words.
    pub fn cause(self) -> &'static str {
        match self {
            Self::Matched => "matched",
            Self::OnlyMicrosoft => "billed by Microsoft only: a stack not reporting to Stackbill, or not registered in it",
            Self::OnlyStackbill => {
                "charged by Stackbill only: a tenant mapped in Stackbill but not in Azure, or usage not yet uploaded to Azure"
            }
            Self::MicrosoftMore => "Microsoft billed more: usage Stackbill has not received (a stack not reporting, or late)",
            Self::MicrosoftLess => {
                "Microsoft billed less: a tenant mapped in Stackbill but not in Azure, or usage not yet uploaded to Azure"
            }
            Self::Price => "another unit price: Stackbill's price list is outdated or lacks the meter",
        }
    }
}

/// One (subscription, day, meter) on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Compared {
    /// The billing subscription.
    pub subscription_id: Uuid,
    /// Its customer, as the directory (else Microsoft's file) names it.
    pub customer_name: Option<String>,
    /// The customer's directory tenant, from the directory (else Microsoft's file).
    pub customer_tenant_id: Option<Uuid>,
    /// The UTC day of use.
    pub day: time::Date,
    /// The commerce meter.
    pub commerce_meter_id: Uuid,
    /// Its name, from Microsoft's file or the price list.
    pub meter_name: Option<String>,
    /// Microsoft's quantity (commerce unit), if it billed the key.
    pub microsoft_quantity: Option<Decimal>,
    /// What Microsoft billed (`BillingPreTaxTotal`, after partner-earned credit).
    pub microsoft_amount: Option<Decimal>,
    /// Microsoft's amount at list price (Σ `Quantity × UnitPrice`), what Stackbill's amount compares with.
    pub microsoft_list_amount: Option<Decimal>,
    /// Microsoft's lines of the key (each rounded to the cent).
    pub microsoft_lines: Option<i64>,
    /// Microsoft's unit price before credits.
    pub microsoft_unit_price: Option<Decimal>,
    /// Stackbill's quantity, if it charged the key.
    pub stackbill_quantity: Option<Decimal>,
    /// Stackbill's precise amount.
    pub stackbill_amount: Option<Decimal>,
    /// Stackbill's unit price (the highest, if the price changed that day).
    pub stackbill_unit_price: Option<Decimal>,
    /// The names of the partner's stacks that bill the subscription in the month (as a tenant's or the default).
    pub stack_names: Vec<String>,
    /// Their cloud IDs, in the same order.
    pub stack_clouds: Vec<Uuid>,
}

impl Compared {
    /// How the key compares.
    pub fn kind(&self) -> Kind {
        let (Some(mq), Some(sq)) = (self.microsoft_quantity, self.stackbill_quantity) else {
            return if self.microsoft_quantity.is_some() { Kind::OnlyMicrosoft } else { Kind::OnlyStackbill };
        };
        let tolerance = Decimal::new(1, 6);
        if mq - sq > tolerance {
            Kind::MicrosoftMore
        } else if sq - mq > tolerance {
            Kind::MicrosoftLess
        } else if self.microsoft_unit_price != self.stackbill_unit_price
            || (self.microsoft_list_amount.unwrap_or_default() - self.stackbill_amount.unwrap_or_default()).abs()
                > Decimal::new(self.microsoft_lines.unwrap_or(1).max(1), 2)
        {
            Kind::Price
        } else {
            Kind::Matched
        }
    }
}
