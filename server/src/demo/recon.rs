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
    let charged = charged(conn, contoso, last).await?;
    let differences = Differences::choose(&charged, last)?;
    let lines: Vec<ReconLine> = charged
        .iter()
        .filter(|c| c.subscription_id != differences.only_stackbill)
        .enumerate()
        .map(|(i, c)| differences.line(i + 2, c))
        .collect();
    let count = lines.len();
    // Contoso's Azure (not Azure Stack Hub) lines would be in the same file: counted and set aside.
    let tenant = Uuid::parse_str(CONTOSO.tenant)?;
    let file = ReconFile { period: last.start(), partner_tenant_id: tenant, lines, set_aside: 40 };
    let name = format!("DailyRatedUsage_{}_demo.csv", last.to_string().replace('-', ""));
    app::recon::db::import(conn, &Actor::command_line(), contoso, &name, &file).await?;
    Ok(count)
}

/// What Stackbill charged the partner in `month`, per subscription, day and commerce meter.
async fn charged(conn: &mut PgConnection, partner: Uuid, month: Period) -> anyhow::Result<Vec<Charged>> {
    Ok(sqlx::query_as(
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
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .fetch_all(&mut *conn)
    .await?)
}

/// The three differences the file carries.
struct Differences {
    /// The customer (least usage) Microsoft has no line of.
    only_stackbill: Uuid,
    /// The busiest customer, its meter and the day that one stack did not report to Stackbill.
    missing: (Uuid, Uuid, time::Date),
    /// The meter whose price rose at Microsoft, and from when.
    repriced: (Uuid, time::Date),
}

impl Differences {
    fn choose(charged: &[Charged], last: Period) -> anyhow::Result<Self> {
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
        // The busiest customer's first usage from the 15th on (office VMs rest at weekends, so not always the 15th).
        let of_busiest = charged.iter().filter(|c| c.subscription_id == busiest).map(|c| (c.day, c.commerce_meter_id));
        let mid_month = last.start() + time::Duration::days(14);
        let (day, meter) = of_busiest
            .clone()
            .filter(|(day, _)| *day >= mid_month)
            .min()
            .or_else(|| of_busiest.min())
            .unwrap_or((mid_month, meters[0]));
        let repriced = meters.get(1).copied().unwrap_or(meters[0]);
        Ok(Self {
            only_stackbill,
            missing: (busiest, meter, day),
            repriced: (repriced, last.start() + time::Duration::days(19)),
        })
    }

    /// Microsoft's line `line` for what Stackbill charged as `c`, with the differences that touch it.
    fn line(&self, line: usize, c: &Charged) -> ReconLine {
        let mut quantity = c.quantity.round_dp(6);
        if (c.subscription_id, c.commerce_meter_id, c.day) == self.missing {
            quantity += Decimal::from(24);
        }
        let mut unit_price = c.unit_price;
        if c.commerce_meter_id == self.repriced.0 && c.day >= self.repriced.1 {
            unit_price = (unit_price * Decimal::new(11, 1)).round_dp(6);
        }
        let effective_unit_price = unit_price * Decimal::new(85, 2);
        ReconLine {
            line,
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
    }
}
