//! Matching Microsoft's lines with Stackbill's charges (issue 14, item 2): by billing subscription (`EntitlementId`),
//! usage day and commerce meter, in the commerce meter's unit. Each key is matched, or a difference with its likely
//! cause. Amounts are compared at list price: Microsoft's `Quantity × UnitPrice` (before partner-earned credit and
//! discounts, which Stackbill does not model; `BillingPreTaxTotal`, after them, is shown beside) against Stackbill's.
//! Tolerances: quantities agree within 0.000001 units (Microsoft prints six decimals); list amounts within a cent per
//! Microsoft line of the key (Microsoft rounds each line to the cent); unit prices must be equal.
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::Period;
use crate::AppError;

/// How one (subscription, day, meter) compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Compared {
    /// The billing subscription.
    pub subscription_id: Uuid,
    /// Its customer, as the directory (else Microsoft's file) names it.
    pub customer_name: Option<String>,
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

/// Every key of the partner's month on either side, by customer, day and meter; `None` when no file of the month has
/// been imported.
pub async fn compare(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
) -> Result<Option<Vec<Compared>>, AppError> {
    let imported: Option<Uuid> = sqlx::query_scalar(
        "select import_id from recon_imports where partner_id = $1 and period = $2 and superseded_at is null",
    )
    .bind(partner)
    .bind(period.start())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(import) = imported else { return Ok(None) };
    let rows = sqlx::query_as(
        "with ms as (
             select subscription_id, usage_day as day, commerce_meter_id, sum(quantity) as q, sum(amount) as a,
                    sum(quantity * unit_price) as list, count(*) as lines,
                    max(unit_price) as p, max(meter_name) as meter_name, max(customer_name) as customer_name
             from recon_lines where partner_id = $1 and import_id = $2 group by 1, 2, 3),
         sb as (
             select billing_subscription_id as subscription_id, day, commerce_meter_id, sum(commerce_quantity) as q,
                    sum(amount) as a, max(unit_price) as p
             from charges
             where partner_id = $1 and day >= $3 and day < $4 and commerce_meter_id is not null
               and billing_subscription_id is not null and not_charged is null
             group by 1, 2, 3)
         select coalesce(ms.subscription_id, sb.subscription_id) as subscription_id,
                coalesce(cs.customer_name, ms.customer_name) as customer_name,
                coalesce(ms.day, sb.day) as day, coalesce(ms.commerce_meter_id, sb.commerce_meter_id) as commerce_meter_id,
                coalesce(ms.meter_name, (select e.meter_name from price_list_entries e
                                         where e.commerce_meter_id = sb.commerce_meter_id
                                         order by e.effective_from desc limit 1)) as meter_name,
                ms.q as microsoft_quantity, ms.a as microsoft_amount, ms.list as microsoft_list_amount,
                ms.lines as microsoft_lines, ms.p as microsoft_unit_price,
                sb.q as stackbill_quantity, sb.a as stackbill_amount, sb.p as stackbill_unit_price
         from ms full join sb using (subscription_id, day, commerce_meter_id)
         left join commerce_subscriptions cs
                on cs.subscription_id = coalesce(ms.subscription_id, sb.subscription_id) and cs.billing_partner_id = $1
         order by 2 nulls last, 1, 3, 4",
    )
    .bind(partner)
    .bind(import)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(rows))
}
