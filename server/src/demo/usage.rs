//! Sixty days and today's whole hours of hourly usage shaped like Azure Stack Hub's: always-on VMs (Base VM vCore-hours plus the
//! uncharged VM-hours meter), Windows VMs running office hours (deallocated at night and at weekends, when
//! Azure Stack stops metering them), growing blob storage, managed disks, and a public IP (informational).
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::directory::{local_sub, stack_id, stack_partner, LOCAL_SUBSCRIPTIONS, NOW, START};

const BASE_VM: &str = "fab6eb84-500b-4a09-a8ca-7358f8bbaea5";
const WINDOWS_VM: &str = "9cd92d4c-bafd-4492-b278-bedc2de8232a";
const VM_HOURS: &str = "6dab500f-a4fd-49c4-956d-229bb9c8c793";
const BLOCK_BLOB: &str = "09f8879e-87e9-4305-a572-4b7be209f857";
const PAGE_BLOB: &str = "b5c15376-6c94-4fdd-b655-1a69d138aca3";
const STATIC_IP: &str = "f271a8a3-88c4-4d93-956a-063e1d2fa80b";

/// One metered series: a resource emitting one meter every hour.
struct Series {
    sub: Uuid,
    meter: &'static str,
    uri: String,
    /// `always`, `office` (weekdays 08–18 UTC) or `growing` (base + slope × days).
    kind: &'static str,
    base: Decimal,
    slope: Decimal,
}

fn series_for(stack: u64, customer: u64) -> Vec<Series> {
    let sub = local_sub(stack, customer);
    let scale = Decimal::from(1 + customer % 4);
    let uri = |kind: &str, name: &str| format!("/subscriptions/{sub}/resourceGroups/rg-app/providers/{kind}/{name}");
    let vm = uri("Microsoft.Compute/virtualMachines", "vm-app-01");
    let win = uri("Microsoft.Compute/virtualMachines", "vm-win-01");
    let s = |meter, uri: &String, kind, base: Decimal, slope: Decimal| Series {
        sub,
        meter,
        uri: uri.clone(),
        kind,
        base,
        slope,
    };
    vec![
        s(BASE_VM, &vm, "always", Decimal::from(4) * scale, Decimal::ZERO),
        s(VM_HOURS, &vm, "always", Decimal::ONE, Decimal::ZERO),
        s(BASE_VM, &win, "office", Decimal::from(2), Decimal::ZERO),
        s(WINDOWS_VM, &win, "office", Decimal::from(2), Decimal::ZERO),
        s(VM_HOURS, &win, "office", Decimal::ONE, Decimal::ZERO),
        s(
            BLOCK_BLOB,
            &uri("Microsoft.Storage/storageAccounts", "stdata01"),
            "growing",
            Decimal::from(150) * scale,
            Decimal::new(25, 1),
        ),
        s(PAGE_BLOB, &uri("Microsoft.Compute/disks", "vm-app-01-osdisk"), "always", Decimal::from(128), Decimal::ZERO),
        s(STATIC_IP, &uri("Microsoft.Network/publicIPAddresses", "pip-app-01"), "always", Decimal::ONE, Decimal::ZERO),
    ]
}

/// Inserts the series of every stack; records already present are left as they are.
pub async fn load(conn: &mut PgConnection) -> anyhow::Result<u64> {
    let mut added = 0;
    for stack in 1..=3u64 {
        let mut series: Vec<Series> =
            LOCAL_SUBSCRIPTIONS.iter().filter(|l| l.0 == stack).flat_map(|l| series_for(stack, l.1)).collect();
        if stack == 1 {
            // A local subscription the stack never listed: its usage falls to the default subscription, flagged.
            series.extend(series_for(1, 99).into_iter().take(2));
        }
        added += insert_series(conn, stack, &series).await?;
    }
    Ok(added)
}

async fn insert_series(conn: &mut PgConnection, stack: u64, series: &[Series]) -> anyhow::Result<u64> {
    let subs: Vec<Uuid> = series.iter().map(|s| s.sub).collect();
    let meters: Vec<Uuid> = series.iter().map(|s| Uuid::parse_str(s.meter).unwrap_or_default()).collect();
    let uris: Vec<&str> = series.iter().map(|s| s.uri.as_str()).collect();
    let kinds: Vec<&str> = series.iter().map(|s| s.kind).collect();
    let bases: Vec<Decimal> = series.iter().map(|s| s.base).collect();
    let slopes: Vec<Decimal> = series.iter().map(|s| s.slope).collect();
    let sql = format!(
        "insert into usage_records (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                    resource_uri, quantity, location, reported_at)
         select $1, $2, sub, meter, h, h + interval '1 hour', uri, q, 'local', h + interval '90 minutes'
         from (
           select s.sub, s.meter, s.uri, h,
                  case s.kind
                    when 'office' then case when extract(isodow from h) < 6 and extract(hour from h) between 8 and 17
                                            then s.base else 0 end
                    when 'growing' then round(s.base + s.slope * extract(epoch from h - ({START})) / 86400, 4)
                    else s.base
                  end as q
           from unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::numeric[], $8::numeric[])
                  as s(sub, meter, uri, kind, base, slope)
           -- Up to the last whole hour before now, like a stack that reports every hour.
           cross join generate_series({START}, date_trunc('hour', {NOW} at time zone 'utc') at time zone 'utc' - interval '1 hour',
                                      interval '1 hour') as h
         ) x
         where q > 0
         on conflict do nothing"
    );
    let result = sqlx::query(&sql)
        .bind(stack_partner(stack))
        .bind(stack_id(stack))
        .bind(subs)
        .bind(meters)
        .bind(uris)
        .bind(kinds)
        .bind(bases)
        .bind(slopes)
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected())
}
