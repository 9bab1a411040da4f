//! Matching Microsoft's lines with Stackbill's charges (issue 14, item 2): by billing subscription (`EntitlementId`),
//! usage day and commerce meter, in the commerce meter's unit. Each key is matched, or a difference with its likely
//! cause. Amounts are compared at list price: Microsoft's `Quantity × UnitPrice` (before partner-earned credit and
//! discounts, which Stackbill does not model; `BillingPreTaxTotal`, after them, is shown beside) against Stackbill's.
//! Tolerances: quantities agree within 0.000001 units (Microsoft prints six decimals); list amounts within a cent per
//! Microsoft line of the key (Microsoft rounds each line to the cent); unit prices must be equal.
use sqlx::PgConnection;
use uuid::Uuid;

use super::Compared;
use crate::domain::Period;
use crate::AppError;

/// Every key of the partner's month on either side, by customer, day and meter; `None` when no file of the month has
/// been imported.
pub async fn compare(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
) -> Result<Option<Vec<Compared>>, AppError> {
    let Some(import) = super::db::current(conn, partner, period).await?.map(|i| i.import_id) else {
        return Ok(None);
    };
    let rows = sqlx::query_as(
        "with ms as (
             select subscription_id, usage_day as day, commerce_meter_id, sum(quantity) as q, sum(amount) as a,
                    sum(quantity * unit_price) as list, count(*) as lines, max(unit_price) as p,
                    max(meter_name) as meter_name, max(customer_name) as customer_name,
                    (array_agg(customer_tenant_id))[1] as tenant
             from recon_lines where partner_id = $1 and import_id = $2 group by 1, 2, 3),
         sb as (
             select billing_subscription_id as subscription_id, day, commerce_meter_id, sum(commerce_quantity) as q,
                    sum(amount) as a, max(unit_price) as p
             from charges
             where partner_id = $1 and day >= $3 and day < $4 and commerce_meter_id is not null
               and billing_subscription_id is not null and not_charged is null
             group by 1, 2, 3),
         keys as (
             select coalesce(ms.subscription_id, sb.subscription_id) as subscription_id,
                    coalesce(ms.day, sb.day) as day, coalesce(ms.commerce_meter_id, sb.commerce_meter_id) as meter,
                    ms.meter_name, ms.customer_name, ms.tenant,
                    ms.q as microsoft_quantity, ms.a as microsoft_amount, ms.list as microsoft_list_amount,
                    ms.lines as microsoft_lines, ms.p as microsoft_unit_price,
                    sb.q as stackbill_quantity, sb.a as stackbill_amount, sb.p as stackbill_unit_price
             from ms full join sb using (subscription_id, day, commerce_meter_id)),
         -- The partner's stacks that bill each subscription in the month: as a tenant's or as the default.
         billed_on as (
             select p.subscription_id, array_agg(s.name order by s.name) as stack_names,
                    array_agg(s.cloud_id order by s.name) as stack_clouds
             from (select stack_id, subscription_id from tenant_mappings
                   where partner_id = $1 and valid_from < $4 and (valid_to is null or valid_to > $3)
                   union
                   select stack_id, subscription_id from registration_defaults
                   where partner_id = $1 and valid_from < $4 and (valid_to is null or valid_to > $3)) p
             join stacks s on s.stack_id = p.stack_id and s.partner_id = $1
             group by 1)
         select k.subscription_id, coalesce(cs.customer_name, k.customer_name) as customer_name,
                coalesce(cs.customer_tenant_id, k.tenant) as customer_tenant_id,
                k.day, k.meter as commerce_meter_id,
                coalesce(k.meter_name, (select e.meter_name from price_list_entries e
                                        where e.commerce_meter_id = k.meter
                                        order by e.effective_from desc limit 1)) as meter_name,
                k.microsoft_quantity, k.microsoft_amount, k.microsoft_list_amount, k.microsoft_lines,
                k.microsoft_unit_price, k.stackbill_quantity, k.stackbill_amount, k.stackbill_unit_price,
                coalesce(b.stack_names, '{}') as stack_names, coalesce(b.stack_clouds, '{}') as stack_clouds
         from keys k
         left join commerce_subscriptions cs on cs.subscription_id = k.subscription_id and cs.billing_partner_id = $1
         left join billed_on b on b.subscription_id = k.subscription_id
         order by 2 nulls last, 3, 1, 4, 5",
    )
    .bind(partner)
    .bind(import)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(rows))
}

/// The differences' CSV header.
pub const DIFFERENCES_HEADER: &str = "CustomerName,CustomerTenantId,SubscriptionId,UsageDate,CommerceMeterId,MeterName,Difference,LikelyCause,MicrosoftQuantity,StackbillQuantity,MicrosoftUnitPrice,StackbillUnitPrice,MicrosoftListAmount,MicrosoftBilledAmount,StackbillAmount,Currency,Stacks";

/// The keys that differ, as CSV with [`DIFFERENCES_HEADER`] (CRLF line ends; text neutralised against formulas).
pub fn differences_csv(rows: &[Compared], currency: &str) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(DIFFERENCES_HEADER.split(',')).map_err(|_| AppError::Internal)?;
    let text = |s: &str| crate::domain::text::csv_text(s).into_owned();
    let num = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize().to_string()).unwrap_or_default();
    for c in rows.iter().filter(|c| c.kind() != super::Kind::Matched) {
        w.write_record([
            text(c.customer_name.as_deref().unwrap_or_default()),
            c.customer_tenant_id.map(|t| t.to_string()).unwrap_or_default(),
            c.subscription_id.to_string(),
            c.day.to_string(),
            c.commerce_meter_id.to_string(),
            text(c.meter_name.as_deref().unwrap_or_default()),
            format!("{:?}", c.kind()),
            c.kind().cause().to_string(),
            num(c.microsoft_quantity),
            num(c.stackbill_quantity),
            num(c.microsoft_unit_price),
            num(c.stackbill_unit_price),
            num(c.microsoft_list_amount),
            num(c.microsoft_amount),
            num(c.stackbill_amount),
            currency.to_string(),
            text(&c.stack_names.join("; ")),
        ])
        .map_err(|_| AppError::Internal)?;
    }
    w.into_inner().map_err(|_| AppError::Internal)
}
