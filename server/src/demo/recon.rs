//! Demo reconciliation: Microsoft's file of last month for the first partner, made from what Stackbill charged, with
//! three realistic differences so the reconciliation page shows them at work (issue 14, item 4):
//! - a day one stack did not report to Stackbill: Microsoft billed 24 units more for the busiest customer on a day;
//! - an outdated price list: Microsoft's unit price of one meter rose from the 20th, Stackbill's did not;
//! - a tenant mapped only in Stackbill: Microsoft has no line of the customer with the least usage.
//!
//! Microsoft bills after a 15 % partner-earned credit, which is not a difference. Done once, with the configuration.
use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use app::audit::Actor;
use app::domain::Period;
use app::recon::{ReconFile, ReconLine};

use super::directory::CONTOSO;

/// What Stackbill charged per subscription, day and commerce meter.
#[derive(sqlx::FromRow)]
struct Charged {
    subscription_id: Uuid,
    offer_type: String,
    customer_tenant_id: Uuid,
    customer_name: String,
    day: time::Date,
    commerce_meter_id: Uuid,
    meter_name: String,
    quantity: Decimal,
    unit_price: Decimal,
}

/// Imports the file; returns its Azure Stack Hub lines.
pub async fn load(conn: &mut PgConnection, now: OffsetDateTime) -> anyhow::Result<usize> {
    let contoso = Uuid::parse_str(CONTOSO.partner_id)?;
    let last = Period::of(now).previous();
    let charged: Vec<Charged> = sqlx::query_as(
        "select c.billing_subscription_id as subscription_id, cs.offer_type, cs.customer_tenant_id, cs.customer_name,
                c.day, c.commerce_meter_id, max(e.meter_name) as meter_name, sum(c.commerce_quantity) as quantity,
                max(c.unit_price) as unit_price
         from charges c
         join commerce_subscriptions cs on cs.subscription_id = c.billing_subscription_id
         join lateral (select meter_name from price_list_entries e where e.commerce_meter_id = c.commerce_meter_id
                       order by effective_from desc limit 1) e on true
         where c.partner_id = $1 and c.day >= $2 and c.day < $3 and c.not_charged is null and c.amount > 0
         group by 1, 2, 3, 4, 5, 6 order by 1, 5, 6",
    )
    .bind(contoso)
    .bind(last.start())
    .bind(last.next().start())
    .fetch_all(&mut *conn)
    .await?;
    let keys_of = |sub: Uuid| charged.iter().filter(|c| c.subscription_id == sub).count();
    let mut customers: Vec<Uuid> =
        charged.iter().filter(|c| c.offer_type == "CSP").map(|c| c.subscription_id).collect();
    customers.dedup();
    customers.sort_by_key(|s| (keys_of(*s), *s));
    let (Some(&only_stackbill), Some(&busiest)) = (customers.first(), customers.last()) else {
        anyhow::bail!("the demo has no customer usage last month");
    };
    let mut meters: Vec<Uuid> = charged.iter().map(|c| c.commerce_meter_id).collect();
    meters.sort();
    meters.dedup();
    meters.sort_by_key(|m| std::cmp::Reverse(charged.iter().filter(|c| c.commerce_meter_id == *m).count()));
    let repriced = meters.get(1).copied().unwrap_or(meters[0]);
    // The busiest customer's first usage from the 15th on (office VMs rest at weekends, so not always the 15th):
    // the day one stack did not report to Stackbill.
    let of_busiest = charged.iter().filter(|c| c.subscription_id == busiest).map(|c| (c.day, c.commerce_meter_id));
    let mid_month = last.start() + time::Duration::days(14);
    let (missing_day, missing_meter) = of_busiest
        .clone()
        .filter(|(day, _)| *day >= mid_month)
        .min()
        .or_else(|| of_busiest.min())
        .unwrap_or((mid_month, meters[0]));
    let repriced_from = last.start() + time::Duration::days(19);

    let tenant = Uuid::parse_str(CONTOSO.tenant)?;
    let lines = charged
        .iter()
        .filter(|c| c.subscription_id != only_stackbill)
        .enumerate()
        .map(|(i, c)| {
            let mut quantity = c.quantity.round_dp(6);
            if c.subscription_id == busiest && c.commerce_meter_id == missing_meter && c.day == missing_day {
                quantity += Decimal::from(24);
            }
            let mut unit_price = c.unit_price;
            if c.commerce_meter_id == repriced && c.day >= repriced_from {
                unit_price = (unit_price * Decimal::new(11, 1)).round_dp(6);
            }
            let effective_unit_price = unit_price * Decimal::new(85, 2);
            ReconLine {
                line: i + 2,
                subscription_id: c.subscription_id,
                customer_tenant_id: c.customer_tenant_id,
                customer_name: c.customer_name.clone(),
                usage_day: c.day,
                commerce_meter_id: c.commerce_meter_id,
                meter_name: c.meter_name.clone(),
                quantity,
                unit_price,
                effective_unit_price,
                amount: (quantity * effective_unit_price).round_dp(2),
                currency: "USD".into(),
            }
        })
        .collect::<Vec<_>>();
    let count = lines.len();
    // Contoso's Azure (not Azure Stack Hub) lines would be in the same file: counted and set aside.
    let file = ReconFile { period: last.start(), partner_tenant_id: tenant, lines, set_aside: 40 };
    let name = format!("DailyRatedUsage_{}_demo.csv", last.to_string().replace('-', ""));
    app::recon::db::import(conn, &Actor::command_line(), contoso, &name, &file).await?;
    Ok(count)
}
