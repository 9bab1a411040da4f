//! The soak's fixture: a partner with three stacks and ten customers, the records each writer sends (exact
//! quantities, so totals can be checked), September billed and final before the soak starts, and the two price
//! lists the imports alternate.
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::domain::Period;

use super::{common, standin};

pub(crate) const CUSTOMERS: u32 = 10;
pub(crate) const METERS: [&str; 3] = [
    "fab6eb84-500b-4a09-a8ca-7358f8bbaea5",
    "9cd92d4c-bafd-4492-b278-bedc2de8232a",
    "09f8879e-87e9-4305-a572-4b7be209f857",
];
/// The API clients' October records, sent in overlapping blocks (each half of the next).
pub(crate) const API_RECORDS: u32 = 100_000;
pub(crate) const BLOCK: u32 = 500;
/// The API stack's September records, billed and final before the soak starts.
pub(crate) const SEPTEMBER_RECORDS: u32 = 2_000;
/// The uploaded file's records.
pub(crate) const UPLOAD_RECORDS: u32 = 5_000;

/// IDs of the fixture: `kind` 0 commerce subscriptions, 1 tenants, 2-4 the stacks' local subscriptions.
pub(crate) fn fixed(kind: u32, i: u32) -> Uuid {
    Uuid::from_u128(((kind as u128) << 96) | i as u128)
}

/// The quantity of the `r`th record: exact decimals, never zero.
pub(crate) fn quantity(r: u32) -> Decimal {
    Decimal::new(i64::from(1 + r % 7) * 100 + 25, 2)
}

/// The API clients' record `r` as the usage API writes it.
pub(crate) fn api_record(r: u32) -> String {
    let sub = fixed(2, 1 + r % CUSTOMERS);
    let meter = METERS[(r % 3) as usize];
    let start = time::macros::datetime!(2026-10-01 00:00 UTC) + time::Duration::hours(i64::from(r / BLOCK));
    usage_json(sub, meter, start, &format!("vm{}", r % BLOCK), quantity(r))
}

pub(crate) fn usage_json(sub: Uuid, meter: &str, start: time::OffsetDateTime, vm: &str, q: Decimal) -> String {
    let fmt = time::format_description::well_known::Rfc3339;
    let uri = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{vm}");
    let instance = serde_json::json!({"Microsoft.Resources": {"resourceUri": uri, "location": "local"}}).to_string();
    serde_json::json!({
        "id": format!("/subscriptions/{sub}/providers/Microsoft.Commerce.Admin/UsageAggregate/{sub}-{meter}"),
        "name": format!("{sub}-{meter}"),
        "type": "Microsoft.Commerce.Admin/UsageAggregate",
        "properties": {
            "subscriptionId": sub, "meterId": meter,
            // A JSON number, as the usage API writes it (quarters are exact in binary too).
            "quantity": q.to_string().parse::<f64>().unwrap(),
            "usageStartTime": start.format(&fmt).unwrap(),
            "usageEndTime": (start + time::Duration::HOUR).format(&fmt).unwrap(),
            "instanceData": instance,
        }
    })
    .to_string()
}

/// A small random number generator (xorshift64): each client its own sequence.
pub(crate) struct Fixture {
    pub partner: Uuid,
    pub stacks: [(Uuid, Uuid); 3],
    pub key: String,
    pub user: Uuid,
    pub cookie: String,
}

pub(crate) async fn setup(
    pool: &PgPool,
    standin: &standin::StandIn,
    secret: &app::domain::secrets::SecretKey,
) -> anyhow::Result<Fixture> {
    let partner = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    let new = app::partners::NewPartner::parse("Soak", &partner.to_string(), "1", &Uuid::new_v4().to_string(), "USD")?;
    app::partners::db::add_partner(&mut tx, &Actor::command_line(), &new).await?;
    sqlx::query(
        "insert into commerce_subscriptions (subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name)
         select ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, case when i = 0 then 'APSS' else 'CSP' end,
                $1, ('00000001-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, 'Customer ' || i
         from generate_series(0, $2) i",
    )
    .bind(partner)
    .bind(CUSTOMERS as i32)
    .execute(&mut *tx)
    .await?;
    let mut stacks = Vec::new();
    for (n, name) in ["api", "upload", "collected"].iter().enumerate() {
        let (stack, cloud): (Uuid, Uuid) = sqlx::query_as(
            "insert into stacks (partner_id, name, cloud_id) values ($1, $2, gen_random_uuid()) returning stack_id, cloud_id",
        )
        .bind(partner)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        common::register(&mut tx, stack, partner, fixed(0, 0)).await?;
        let mut list = Vec::new();
        for i in 1..=CUSTOMERS {
            sqlx::query(
                "insert into tenant_mappings (stack_id, partner_id, tenant_id, subscription_id, valid_from)
                 values ($1, $2, $3, $4, '2026-01-01')",
            )
            .bind(stack)
            .bind(partner)
            .bind(fixed(1, i))
            .bind(fixed(0, i))
            .execute(&mut *tx)
            .await?;
            // The collected stack's subscriptions are the stand-in's (its records use three of them).
            let local = if n == 2 { Uuid::from_u128(0x5ab0_0000 + u128::from(i - 1)) } else { fixed(2 + n as u32, i) };
            list.push(app::local_subscriptions::parse::LocalSubscription {
                subscription_id: local,
                owner_tenant_id: fixed(1, i),
                display_name: format!("sub {i}"),
                offer_name: "basic".into(),
                state: "Enabled".into(),
            });
        }
        app::local_subscriptions::db::store_list(&mut tx, partner, stack, list).await?;
        stacks.push((stack, cloud));
    }
    let map = app::pricing::import::parse_meter_map(include_str!("../../data/meter-map-sample.csv"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &map).await?;
    import_prices(&mut tx, 0).await?;
    let api = app::registrations::db::stack_by_cloud_id(&mut tx, Scope::All, stacks[0].1).await?;
    let key = app::keys::db::create_key(&mut tx, &Actor::command_line(), &api, "soak").await?;
    let collected = app::registrations::db::stack_by_cloud_id(&mut tx, Scope::All, stacks[2].1).await?;
    let form = app::collector::forms::CollectorForm {
        endpoint: standin.base.to_string(),
        provider_subscription: standin.provider_subscription.to_string(),
        auth_kind: "bearer".into(),
        bearer_token: "standin-token".into(),
        collect_from: (app::domain::clock::now() - time::Duration::days(2)).date().to_string(),
        enabled: Some("on".into()),
        ..Default::default()
    };
    let lab = app::domain::outbound::Outbound::lab();
    app::collector::db::save_collector(&mut tx, &Actor::command_line(), &collected, &form, &lab, secret).await?;
    let user: Uuid = sqlx::query_scalar(
        "insert into users (issuer, subject, partner_id, role) values ('soak', 'soak', $1, 'partner_admin') returning user_id",
    )
    .bind(partner)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Fixture { partner, stacks: [stacks[0], stacks[1], stacks[2]], key, user, cookie: String::new() })
}

/// Imports the sample price list (`turn` even) or the same list with Base VM at 0.009 instead of 0.008 (odd).
pub(crate) async fn import_prices(conn: &mut sqlx::PgConnection, turn: u32) -> anyhow::Result<()> {
    let sample = include_str!("../../data/price-list-sample.csv");
    let text = if turn.is_multiple_of(2) {
        sample.to_string()
    } else {
        sample
            .lines()
            .map(|l| if l.starts_with("821be9b1") { l.replace(",0.008,", ",0.009,") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let prices = app::pricing::import::parse_prices(&text).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    app::pricing::db::import_prices(conn, &Actor::command_line(), &prices).await?;
    Ok(())
}

/// September: usage of the API stack, re-rated, and every bill finalised; returns the bills as finalised.
pub(crate) async fn final_month(pool: &PgPool, f: &Fixture) -> anyhow::Result<Vec<app::bills::Bill>> {
    let records: Vec<String> = (0..SEPTEMBER_RECORDS)
        .map(|r| {
            let start = time::macros::datetime!(2026-09-01 00:00 UTC) + time::Duration::hours(i64::from(r / 100));
            usage_json(
                fixed(2, 1 + r % CUSTOMERS),
                METERS[(r % 3) as usize],
                start,
                &format!("vm{}", r % 100),
                quantity(r),
            )
        })
        .collect();
    let page = app::usage::parse::parse_page(&format!("{{\"value\":[{}]}}", records.join(",")))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut tx = pool.begin().await?;
    app::usage::db::store_page(&mut tx, f.partner, f.stacks[0].0, &page).await?;
    tx.commit().await?;
    app::charges::db::run_queued(pool).await?;
    let september = Period::parse("2026-09")?;
    let mut conn = pool.acquire().await?;
    for b in app::bills::list::bills(&mut conn, f.partner, september).await? {
        app::bills::lifecycle::finalise(&mut conn, &Actor::command_line(), f.partner, b.subscription_id, september)
            .await?;
    }
    Ok(app::bills::list::bills(&mut conn, f.partner, september).await?)
}

/// The stand-in's records: thirty resources of three subscriptions for each of the last 24 reported hours.
pub(crate) fn collected_records() -> Vec<standin::Record> {
    let now = app::domain::clock::now();
    let hour = now.replace_time(time::Time::from_hms(now.hour(), 0, 0).unwrap());
    (1..=24).flat_map(|h| (0..30).map(move |n| standin::Record::on_time(hour - time::Duration::hours(h), n))).collect()
}
