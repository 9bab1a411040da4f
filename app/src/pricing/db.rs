//! Storing imports in one transaction with their audit event, then re-rating what they change. Prices are
//! versioned: each (meter, currency) has entries by effective date, and each entry ends where the next begins.
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::import::{MeterMapRow, PriceFile};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::number::{count, grouped};
use crate::AppError;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Entries added.
    pub added: u64,
    /// Entries whose values changed.
    pub changed: u64,
    /// Entries already as imported.
    pub unchanged: u64,
    /// Rows left out (prices of other regions).
    pub skipped: u64,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: u64| grouped(v.into());
        write!(f, "{} added, {} changed, {} unchanged", n(self.added), n(self.changed), n(self.unchanged))?;
        if self.skipped > 0 {
            write!(f, ", {} of other regions left out", count(self.skipped, "row", "rows"))?;
        }
        Ok(())
    }
}

fn counts(returned: &[bool], total: usize) -> (u64, u64, u64) {
    let added = returned.iter().filter(|inserted| **inserted).count() as u64;
    let changed = returned.len() as u64 - added;
    (added, changed, total as u64 - added - changed)
}

/// Imports a price list: a row for a date that already has a price replaces it; a later date closes the earlier
/// entry from that date. Open periods from the earliest changed date are re-rated.
pub async fn import_prices(
    conn: &mut PgConnection,
    actor: &Actor,
    file: &PriceFile,
) -> Result<ImportSummary, AppError> {
    let rows = &file.rows;
    let returned: Vec<(bool, OffsetDateTime)> = sqlx::query_as(
        "insert into price_list_entries as p (commerce_meter_id, meter_name, region, unit, unit_price, currency, effective_from)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::timestamptz[])
         on conflict (commerce_meter_id, currency, effective_from) do update
           set meter_name = excluded.meter_name, region = excluded.region, unit = excluded.unit,
               unit_price = excluded.unit_price
           where (p.meter_name, p.region, p.unit, p.unit_price)
                 is distinct from (excluded.meter_name, excluded.region, excluded.unit, excluded.unit_price)
         returning (xmax = 0), effective_from",
    )
    .bind(rows.iter().map(|r| r.commerce_meter_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.meter_name.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.region.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.unit.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.unit_price).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.currency.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.effective_from).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.message().contains("cannot affect row a second time") => AppError::Validation(
            "the file has two prices for the same meter, currency and effective date".into(),
        ),
        other => other.into(),
    })?;
    sqlx::query(
        "update price_list_entries p set effective_to = n.next
         from (select id, lead(effective_from) over (partition by commerce_meter_id, currency order by effective_from) as next
               from price_list_entries) n
         where p.id = n.id and p.effective_to is distinct from n.next",
    )
    .execute(&mut *conn)
    .await?;
    let flags: Vec<bool> = returned.iter().map(|r| r.0).collect();
    let (added, changed, unchanged) = counts(&flags, rows.len());
    let summary = ImportSummary { added, changed, unchanged, skipped: file.skipped as u64 };
    let earliest = returned.iter().map(|r| r.1).min();
    if let Some(from) = earliest {
        crate::charges::db::queue_rerate_all(conn, Some(from), "prices.import").await?;
    }
    let event = Event {
        partner_id: None,
        action: "prices.import",
        entity_type: "price_list",
        entity_id: "azure-stack".into(),
        before: None,
        after: Some(serde_json::json!({ "added": added, "changed": changed, "unchanged": unchanged,
                                        "skipped": file.skipped, "earliest_change": earliest.map(|t| t.date().to_string()) })),
    };
    record(conn, actor, event).await?;
    Ok(summary)
}

/// Imports a meter map: each local meter gets its commerce meter and factor (replacing an earlier one); meters not
/// in the file keep theirs. Open periods are re-rated when anything changed.
pub async fn import_meter_map(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: &[MeterMapRow],
) -> Result<ImportSummary, AppError> {
    let returned: Vec<bool> = sqlx::query_scalar(
        "insert into meter_map as m (local_meter_id, commerce_meter_id, factor)
         select * from unnest($1::uuid[], $2::uuid[], $3::numeric[])
         on conflict (local_meter_id) do update
           set commerce_meter_id = excluded.commerce_meter_id, factor = excluded.factor, updated_at = now()
           where (m.commerce_meter_id, m.factor) is distinct from (excluded.commerce_meter_id, excluded.factor)
         returning (xmax = 0)",
    )
    .bind(rows.iter().map(|r| r.local_meter_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.commerce_meter_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.factor).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let (added, changed, unchanged) = counts(&returned, rows.len());
    if added + changed > 0 {
        crate::charges::db::queue_rerate_all(conn, None, "meters.import").await?;
    }
    let event = Event {
        partner_id: None,
        action: "meters.import",
        entity_type: "meter_map",
        entity_id: "meter-map".into(),
        before: None,
        after: Some(serde_json::json!({ "added": added, "changed": changed, "unchanged": unchanged })),
    };
    record(conn, actor, event).await?;
    Ok(ImportSummary { added, changed, unchanged, skipped: 0 })
}

/// A page of the price list, by meter name, newest price first per meter.
pub async fn price_page(
    pool: &sqlx::PgPool,
    of: crate::paging::PageOf,
    order: &crate::sorting::Order,
) -> Result<crate::paging::Paged<super::PriceEntry>, AppError> {
    const SORTS: [(&str, &str); 5] = [
        ("meter", "lower(meter_name)"),
        ("unit", "unit"),
        ("price", "price_list_entries.unit_price"),
        ("from", "effective_from"),
        ("to", "effective_to"),
    ];
    let order_by = order.sql(
        &SORTS,
        "meter_name, currency, effective_from desc, commerce_meter_id",
        "meter_name, currency, effective_from desc, commerce_meter_id",
    );
    Ok(of.of(sqlx::query_as(&format!(
        "select commerce_meter_id, meter_name, unit, trim_scale(unit_price)::text as unit_price, currency::text,
                effective_from, effective_to
         from price_list_entries order by {order_by} limit $1 offset $2"
    ))
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?))
}

/// A page of the meter map, by local meter name (unknown meters last).
pub async fn meter_map_page(
    pool: &sqlx::PgPool,
    of: crate::paging::PageOf,
    order: &crate::sorting::Order,
) -> Result<crate::paging::Paged<super::MeterMapEntry>, AppError> {
    const SORTS: [(&str, &str); 3] =
        [("local", "lower(l.name)"), ("commerce", "m.commerce_meter_id::text"), ("factor", "m.factor")];
    let order_by = order.sql(&SORTS, "l.name nulls last, m.local_meter_id", "m.local_meter_id");
    Ok(of.of(sqlx::query_as(&format!(
        "select m.local_meter_id, l.name as local_name, m.commerce_meter_id, trim_scale(m.factor)::text as factor
         from meter_map m left join local_meters l on l.meter_id = m.local_meter_id
         order by {order_by} limit $1 offset $2"
    ))
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?))
}
