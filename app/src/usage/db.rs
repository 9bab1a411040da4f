//! Storing a usage page: one transaction, so a page is stored whole or not at all. The dedupe key is the table's
//! primary key; a resend with another quantity replaces it and the old value goes to `usage_record_history`
//! (written by the table's update trigger).
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::parse::UsageRecord;
use crate::AppError;

/// What a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSummary {
    /// Records not seen before.
    pub new: u64,
    /// Records seen before with another quantity (corrections).
    pub changed: u64,
    /// Records seen before, identical.
    pub unchanged: u64,
}

type Key = (Uuid, Uuid, OffsetDateTime, OffsetDateTime, String);

/// Stores a page for a stack inside the caller's transaction: totals that replace (no reported hour).
pub async fn store_page(
    conn: &mut PgConnection,
    partner: Uuid,
    stack: Uuid,
    records: Vec<UsageRecord>,
) -> Result<PageSummary, AppError> {
    store_reported_page(conn, partner, stack, records, None).await
}

/// Stores a page of the usage reported in one reported hour (its start, `reported`), or totals when `None`
/// (PRODUCT §4 R10): the reported hour is part of the dedupe key, so a usage window's quantity is the sum of its
/// parts and storing the same reported hour again replaces only that hour's part.
pub async fn store_reported_page(
    conn: &mut PgConnection,
    partner: Uuid,
    stack: Uuid,
    records: Vec<UsageRecord>,
    reported: Option<OffsetDateTime>,
) -> Result<PageSummary, AppError> {
    // The same record twice in one page: the last one wins, as a resend would. Rows go in key order (the primary
    // key's), so two pages sharing records lock them in the same order and cannot deadlock on them.
    let mut unique: BTreeMap<Key, UsageRecord> = BTreeMap::new();
    for r in records {
        unique.insert((r.local_subscription_id, r.meter_id, r.start, r.end, r.resource_uri.clone()), r);
    }
    let rows: Vec<UsageRecord> = unique.into_values().collect();
    let total = rows.len() as u64;
    let col = |f: fn(&UsageRecord) -> Uuid| rows.iter().map(f).collect::<Vec<_>>();
    let (subs, meters) = (col(|r| r.local_subscription_id), col(|r| r.meter_id));
    let starts: Vec<OffsetDateTime> = rows.iter().map(|r| r.start).collect();
    let ends: Vec<OffsetDateTime> = rows.iter().map(|r| r.end).collect();
    let uris: Vec<&str> = rows.iter().map(|r| r.resource_uri.as_str()).collect();
    let qs: Vec<Decimal> = rows.iter().map(|r| r.quantity).collect();
    let locs: Vec<&str> = rows.iter().map(|r| r.location.as_str()).collect();
    let tags: Vec<Option<serde_json::Value>> = rows.iter().map(|r| r.tags.clone()).collect();
    let infos: Vec<Option<serde_json::Value>> = rows.iter().map(|r| r.additional_info.clone()).collect();
    let returned: Vec<bool> = sqlx::query_scalar(
        // Corrections are written to `usage_record_history`, and charges updated, by the table's triggers
        // (migration `create_charges`): they see each row's old and new quantity exactly, even under concurrency.
        "insert into usage_records (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri,
                                    quantity, location, tags, additional_info, reported_at)
         select $1, $2, *, coalesce($12, '-infinity'::timestamptz)
         from unnest($3::uuid[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::numeric[],
                     $9::text[], $10::jsonb[], $11::jsonb[])
         on conflict (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri, reported_at)
         do update set quantity = excluded.quantity, location = excluded.location, tags = excluded.tags,
                       additional_info = excluded.additional_info, ingested_at = now()
           where usage_records.quantity <> excluded.quantity
         returning (xmax = 0)",
    )
    .bind(partner)
    .bind(stack)
    .bind(subs)
    .bind(meters)
    .bind(starts)
    .bind(ends)
    .bind(uris)
    .bind(qs)
    .bind(locs)
    .bind(tags)
    .bind(infos)
    .bind(reported)
    .fetch_all(&mut *conn)
    .await?;
    let new = returned.iter().filter(|inserted| **inserted).count() as u64;
    let changed = returned.len() as u64 - new;
    Ok(PageSummary { new, changed, unchanged: total - new - changed })
}
