//! A large upload must not stop the stack's ingest: the file is staged first (nothing of the stack's usage or charges
//! locked while it is read) and stored by one statement at the end. The upload here reads from a pipe the test
//! writes, so the test decides when the file ends.
use std::io::Write;
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::registrations::db::stack_by_cloud_id;
use server::usage_files::{upload_file, Target};

use crate::ingest::{page, record, send, stack_with_key};

const HEADER: &str = "\"UsageStartTime\",\"UsageEndTime\",\"MeterName\",\"Quantity\",\"resourceType\",\"location\",\"resourceGroup\",\"resourceName\",\"subowner\",\"tags\",\"MeterId\",\"additionalInfo\",\"subscription\",\"resourceUri\"";

/// A Usagesummary row of `sub` for hour `hour` of 1 October 2026 (US culture, as PowerShell prints it).
fn row(sub: Uuid, hour: u32) -> String {
    let (h, h2) = (hour % 12 + 1, (hour + 1) % 12 + 1);
    let half = if hour < 11 { "AM" } else { "PM" };
    let half2 = if hour + 1 < 11 { "AM" } else { "PM" };
    format!(
        "\"10/1/2026 {h}:00:00 {half}\",\"10/1/2026 {h2}:00:00 {half2}\",\"Base VM Size Hours\",\"1\",\"virtualMachines\",\"local\",\"rg1\",\"vm1\",\"a@contoso.com\",\"\",\"FAB6EB84-500B-4A09-A8CA-7358F8BBAEA5\",\"\",\"{sub}\",\"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1\""
    )
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_api_page_goes_through_while_an_upload_of_the_same_day_is_being_read(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = crate::helpers::spawn_app(pool.clone()).await;
    let mut tx = pool.begin().await.unwrap();
    let stack = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
    tx.commit().await.unwrap();
    let subs: Vec<Uuid> = (0..1000).map(|n| Uuid::from_u128(0xc5f0_0000 + n)).collect();
    let dir = std::env::temp_dir().join(format!("stackbill-fifo-{}", Uuid::new_v4()));
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("usage.csv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());

    // The first 6,000 rows (more than one chunk of 5,000), then the rest when told.
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let (path, rows) = (fifo.clone(), subs.clone());
    let writer = std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        writeln!(file, "{HEADER}").unwrap();
        let all: Vec<String> = rows.iter().flat_map(|s| (0..12).map(move |h| row(*s, h))).collect();
        for line in &all[..6000] {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
        wait.recv().unwrap();
        for line in &all[6000..] {
            writeln!(file, "{line}").unwrap();
        }
    });
    let upload = {
        let (pool, stack, fifo) = (pool.clone(), stack.clone(), fifo.clone());
        tokio::spawn(async move {
            let target = Target { stack: &stack, reported: None };
            upload_file(&pool, &Actor::command_line(), target, &fifo, "usage.csv", |_| {}).await
        })
    };
    // Until the upload has written its first chunk (to staging now; to usage_records, in an open transaction, before).
    let first_chunk_written = async {
        loop {
            let written: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity where datname = current_database()
                   and state in ('idle', 'idle in transaction')
                   and (query like 'insert into upload_stage%' or query like 'insert into usage_records%')",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if written > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), first_chunk_written).await.expect("the upload started");

    // Same stack, subscription, meter and day as the upload: the same charge row.
    let api =
        tokio::time::timeout(Duration::from_secs(10), send(&app, cloud, &key, page(&[record(subs[0], 5, "1")]))).await;

    go.send(()).unwrap();
    writer.join().unwrap();
    let outcome = upload.await.unwrap().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let (status, _) = api.expect("the API page waited for the upload to finish");
    assert_eq!(status, StatusCode::OK);
    assert_eq!((outcome.records, outcome.stored.new), (12_000, 12_000), "{outcome:?}");
    let (stored, charged): (i64, rust_decimal::Decimal) =
        sqlx::query_as("select (select count(*) from usage_records), (select sum(quantity) from charges)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((stored, charged), (12_001, rust_decimal::Decimal::from(12_001)), "everything stored and charged once");
}
