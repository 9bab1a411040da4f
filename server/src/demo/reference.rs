//! Reference data shipped with the product: the Azure Stack meter catalogue, the sample price list and meter map.
use anyhow::{anyhow, Context};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

const METERS: &str = include_str!("../../data/azure-stack-meters.csv");
const PRICES: &str = include_str!("../../data/price-list-sample.csv");
const METER_MAP: &str = include_str!("../../data/meter-map-sample.csv");

fn rows(csv_text: &str) -> impl Iterator<Item = anyhow::Result<csv::StringRecord>> + '_ {
    csv::Reader::from_reader(csv_text.as_bytes()).into_records().map(|r| r.map_err(Into::into))
}

fn field(r: &csv::StringRecord, i: usize) -> anyhow::Result<&str> {
    r.get(i).ok_or_else(|| anyhow!("line {}: column {} missing", r.position().map_or(0, |p| p.line()), i + 1))
}

/// The local meter catalogue (meter IDs come with and without dashes; `Uuid` reads both).
pub async fn load_meters(conn: &mut PgConnection) -> anyhow::Result<u64> {
    let mut added = 0;
    for r in rows(METERS) {
        let r = r?;
        // The catalogue documents a few meters without a fixed ID (e.g. custom worker tiers): nothing to store.
        let Ok(id) = Uuid::parse_str(field(&r, 0)?) else {
            continue;
        };
        added += sqlx::query(
            "insert into local_meters (meter_id, name, unit, description, source) values ($1, $2, $3, $4, $5)
             on conflict (meter_id) do nothing",
        )
        .bind(id)
        .bind(field(&r, 1)?)
        .bind(field(&r, 2)?)
        .bind(field(&r, 3)?)
        .bind(field(&r, 4)?)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(added)
}

/// The sample price list, Azure Stack rows only.
pub async fn load_prices(conn: &mut PgConnection) -> anyhow::Result<u64> {
    let mut added = 0;
    for r in rows(PRICES) {
        let r = r?;
        let region = field(&r, 4)?;
        if !region.to_ascii_lowercase().starts_with("azure stack") {
            continue;
        }
        let price: Decimal = field(&r, 6)?.parse().context("unit price")?;
        let effective = format!("{}T00:00:00Z", field(&r, 8)?);
        added += sqlx::query(
            "insert into price_list_entries (commerce_meter_id, meter_name, region, unit, unit_price, currency, effective_from)
             values ($1, $2, $3, $4, $5, $6, $7::timestamptz) on conflict do nothing",
        )
        .bind(Uuid::parse_str(field(&r, 0)?)?)
        .bind(field(&r, 1)?)
        .bind(region)
        .bind(field(&r, 5)?)
        .bind(price)
        .bind(field(&r, 7)?)
        .bind(effective)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(added)
}

/// The sample meter map: local meter -> commerce meter x factor.
pub async fn load_meter_map(conn: &mut PgConnection) -> anyhow::Result<()> {
    for r in rows(METER_MAP) {
        let r = r?;
        let factor: Decimal = field(&r, 2)?.parse().context("factor")?;
        sqlx::query(
            "insert into meter_map (local_meter_id, commerce_meter_id, factor) values ($1, $2, $3)
             on conflict (local_meter_id) do nothing",
        )
        .bind(Uuid::parse_str(field(&r, 0)?)?)
        .bind(Uuid::parse_str(field(&r, 1)?)?)
        .bind(factor)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
