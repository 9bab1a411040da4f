//! Storing a usage page: one transaction, so a page is stored whole or not at all. The dedupe key is the table's
//! primary key; a resend with another quantity replaces it and the old value goes to `usage_record_history`
//! (written by the table's update trigger).
use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
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

type Key<'a> = (Uuid, Uuid, OffsetDateTime, OffsetDateTime, &'a str);

/// A page's records as rows of `usage_records`: $1 the partner, $2 the stack, $3–$11 the columns, $12 the reported
/// hour (none: totals).
macro_rules! page_rows {
    () => {
        "insert into usage_records (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                    resource_uri, quantity, location, tags, additional_info, reported_at)
         select $1, $2, *, coalesce($12, '-infinity'::timestamptz)
         from unnest($3::uuid[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::numeric[],
                     $9::text[], $10::jsonb[], $11::jsonb[])"
    };
}
/// Records none of which is stored yet.
const INSERT_NEW: &str = page_rows!();
/// Any records: new ones come back as `true`, corrections as `false`, records stored identically not at all.
const UPSERT: &str = concat!(
    page_rows!(),
    " on conflict (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri, reported_at)
      do update set quantity = excluded.quantity, location = excluded.location, tags = excluded.tags,
                    additional_info = excluded.additional_info, ingested_at = now()
        where usage_records.quantity <> excluded.quantity
      returning (xmax = 0)"
);

/// Stores a page for a stack inside the caller's transaction: totals that replace (no reported hour).
pub async fn store_page(
    conn: &mut PgConnection,
    partner: Uuid,
    stack: Uuid,
    records: &[UsageRecord],
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
    records: &[UsageRecord],
    reported: Option<OffsetDateTime>,
) -> Result<PageSummary, AppError> {
    // The same record twice in one page: the last one wins, as a resend would. Rows go in hash order, not key order:
    // measured with `bash .ci/bench-ingest 50000`, key order made 4 concurrent pages march through the same index
    // pages in step and cut ingest from 25,533 to 5,949 records/s. Two pages that share records may then deadlock;
    // the ingest API tries such a page again (`AppError::Busy`), so no client sees it.
    let mut unique: HashMap<Key, &UsageRecord> = HashMap::with_capacity(records.len());
    for r in records {
        unique.insert((r.local_subscription_id, r.meter_id, r.start, r.end, &r.resource_uri), r);
    }
    let rows: Vec<&UsageRecord> = unique.into_values().collect();
    let total = rows.len() as u64;
    let col = |f: fn(&&UsageRecord) -> Uuid| rows.iter().map(f).collect::<Vec<_>>();
    let (subs, meters) = (col(|r| r.local_subscription_id), col(|r| r.meter_id));
    let starts: Vec<OffsetDateTime> = rows.iter().map(|r| r.start).collect();
    let ends: Vec<OffsetDateTime> = rows.iter().map(|r| r.end).collect();
    let uris: Vec<&str> = rows.iter().map(|r| r.resource_uri.as_str()).collect();
    let qs: Vec<Decimal> = rows.iter().map(|r| r.quantity).collect();
    let locs: Vec<&str> = rows.iter().map(|r| r.location.as_str()).collect();
    let tags: Vec<Option<serde_json::Value>> = rows.iter().map(|r| r.tags.clone()).collect();
    let infos: Vec<Option<serde_json::Value>> = rows.iter().map(|r| r.additional_info.clone()).collect();
    let insert = |sql: &'static str| {
        // Corrections are written to `usage_record_history`, and charges updated, by the table's triggers
        // (migrations `create_charges`, `faster_ingest`): they see each row's old and new quantity exactly, even
        // under concurrency.
        sqlx::query(sql)
            .bind(partner)
            .bind(stack)
            .bind(&subs[..])
            .bind(&meters[..])
            .bind(&starts[..])
            .bind(&ends[..])
            .bind(&uris[..])
            .bind(&qs[..])
            .bind(&locs[..])
            .bind(&tags[..])
            .bind(&infos[..])
            .bind(reported)
    };
    // Most pages bring only records never seen: a plain insert stores them with a quarter less work than the upsert
    // (which looks each key up before inserting it; BENCHMARKS.md, issue 15 item 4). A page that repeats a stored
    // record fails that insert on the key, which undoes it (a savepoint), and is stored by the upsert instead.
    let mut attempt = sqlx::Acquire::begin(&mut *conn).await?;
    let (new, changed) = match insert(INSERT_NEW).execute(&mut *attempt).await {
        Ok(done) => {
            attempt.commit().await?;
            (done.rows_affected(), 0)
        }
        Err(e) if e.as_database_error().and_then(|d| d.constraint()) == Some("usage_records_pkey") => {
            attempt.rollback().await?;
            let rows = insert(UPSERT).fetch_all(&mut *conn).await?;
            let new = rows.iter().filter(|r| r.get::<bool, _>(0)).count() as u64;
            (new, rows.len() as u64 - new)
        }
        Err(e) => return Err(e.into()),
    };
    Ok(PageSummary { new, changed, unchanged: total - new - changed })
}

/// Makes (or empties) this connection's staging table for an upload: records staged there lock nothing, so the
/// stack's ingest goes on while a large file is read; [`apply_staged`] then stores them in one statement.
pub async fn begin_staging(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("drop table if exists pg_temp.upload_stage").execute(&mut *conn).await?;
    sqlx::query(
        "create temp table upload_stage (
             ord bigint generated always as identity, local_subscription_id uuid not null, meter_id uuid not null,
             usage_start timestamptz not null, usage_end timestamptz not null, resource_uri text not null,
             quantity numeric not null, location text not null, tags jsonb, additional_info jsonb)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds records to the staging table, in file order (a later row with the same key wins, as in a page).
pub async fn stage(conn: &mut PgConnection, records: Vec<UsageRecord>) -> Result<(), AppError> {
    let col = |f: fn(&UsageRecord) -> Uuid| records.iter().map(f).collect::<Vec<_>>();
    let (subs, meters) = (col(|r| r.local_subscription_id), col(|r| r.meter_id));
    sqlx::query(
        "insert into upload_stage (local_subscription_id, meter_id, usage_start, usage_end, resource_uri, quantity,
                                   location, tags, additional_info)
         select * from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::numeric[],
                              $7::text[], $8::jsonb[], $9::jsonb[])",
    )
    .bind(subs)
    .bind(meters)
    .bind(records.iter().map(|r| r.start).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.end).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.resource_uri.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.quantity).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.location.as_str()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.tags.clone()).collect::<Vec<_>>())
    .bind(records.iter().map(|r| r.additional_info.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stores the staged records in one statement (in the caller's transaction), each key once (the last staged wins),
/// in key order like [`store_reported_page`].
pub async fn apply_staged(
    conn: &mut PgConnection,
    partner: Uuid,
    stack: Uuid,
    reported: Option<OffsetDateTime>,
) -> Result<PageSummary, AppError> {
    // One statement for the whole file: bounded by the upload's own deadline (an hour), not a page's.
    sqlx::query("set local statement_timeout = '1h'").execute(&mut *conn).await?;
    // Byte order (`collate "C"`), the order a page's records are written in: the same lock order for both.
    let (total, new, changed): (i64, i64, i64) = sqlx::query_as(
        "with staged as (
             select distinct on (local_subscription_id, meter_id, usage_start, usage_end, resource_uri collate \"C\") *
             from upload_stage
             order by local_subscription_id, meter_id, usage_start, usage_end, resource_uri collate \"C\", ord desc),
         written as (
             insert into usage_records (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                        resource_uri, quantity, location, tags, additional_info, reported_at)
             select $1, $2, local_subscription_id, meter_id, usage_start, usage_end, resource_uri, quantity, location,
                    tags, additional_info, coalesce($3, '-infinity'::timestamptz)
             from staged order by local_subscription_id, meter_id, usage_start, usage_end, resource_uri collate \"C\"
             on conflict (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri,
                          reported_at)
             do update set quantity = excluded.quantity, location = excluded.location, tags = excluded.tags,
                           additional_info = excluded.additional_info, ingested_at = now()
               where usage_records.quantity <> excluded.quantity
             returning (xmax = 0) as inserted)
         select (select count(*) from staged), count(*) filter (where inserted), count(*) filter (where not inserted)
         from written",
    )
    .bind(partner)
    .bind(stack)
    .bind(reported)
    .fetch_one(&mut *conn)
    .await?;
    let (total, new, changed) = (total as u64, new as u64, changed as u64);
    Ok(PageSummary { new, changed, unchanged: total - new - changed })
}

/// Drops this connection's staging table.
pub async fn end_staging(conn: &mut PgConnection) -> Result<(), AppError> {
    sqlx::query("drop table if exists pg_temp.upload_stage").execute(&mut *conn).await?;
    Ok(())
}
