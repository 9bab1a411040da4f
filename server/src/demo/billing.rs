//! Demo billing: markups, last month's bills of the first partner finalised, and one record of last month that
//! arrives after that, so this month's bill shows an adjustment. Done once, with the configuration.
use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use app::audit::Actor;
use app::bills::lifecycle::{finalise, set_markup};
use app::domain::Period;
use app::usage::parse::UsageRecord;

use super::directory::{local_sub, stack_id, CONTOSO};
use super::guid;

/// Northwind Traders' CSP subscription (Contoso's customer).
const NORTHWIND: u64 = 1;

/// Returns how many bills were finalised.
pub async fn load(conn: &mut PgConnection, now: OffsetDateTime) -> anyhow::Result<u64> {
    let actor = Actor::command_line();
    let contoso = Uuid::parse_str(CONTOSO.partner_id)?;
    let northwind = guid(0x5b5c_0000, NORTHWIND);
    set_markup(conn, &actor, contoso, None, Some(Decimal::from(15))).await?;
    set_markup(conn, &actor, contoso, Some(northwind), Some(Decimal::from(20))).await?;
    let last = Period::of(now).previous();
    let subs: Vec<Uuid> = sqlx::query_scalar(
        "select distinct billing_subscription_id from charges
         where partner_id = $1 and day >= $2 and day < $3 and billing_subscription_id is not null order by 1",
    )
    .bind(contoso)
    .bind(last.start())
    .bind(last.next().start())
    .fetch_all(&mut *conn)
    .await?;
    for sub in &subs {
        finalise(conn, &actor, contoso, *sub, last).await?;
    }
    // Late usage of last month, after its bills were finalised: billed as an adjustment this month.
    let start = last.end().midnight().assume_utc() + time::Duration::hours(12);
    let late = UsageRecord {
        local_subscription_id: local_sub(1, NORTHWIND),
        meter_id: Uuid::parse_str("fab6eb84-500b-4a09-a8ca-7358f8bbaea5")?,
        start,
        end: start + time::Duration::HOUR,
        quantity: Decimal::from(48),
        resource_uri: format!(
            "/subscriptions/{}/resourceGroups/rg-late/providers/Microsoft.Compute/virtualMachines/vm-late",
            local_sub(1, NORTHWIND)
        ),
        location: "local".into(),
        tags: None,
        additional_info: None,
    };
    app::usage::db::store_page(conn, contoso, stack_id(1), &[late]).await?;
    Ok(subs.len() as u64)
}
