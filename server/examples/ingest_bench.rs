//! Ingest benchmark (issue 4, PRODUCT §7): loads N usage records through the HTTP ingest API of an in-process
//! server, then the same records by raw `COPY` into a table of the same shape and indexes in the same PostgreSQL,
//! and prints both rates and their ratio. Run it with `bash .ci/bench-ingest` (release build, throwaway cluster) or
//! `DATABASE_URL=… cargo run --release -p server --example ingest_bench -- [records] [concurrency]`.
//!
//! Each measured phase starts after a checkpoint, so none pays for the WAL of the one before, and prints the CPU
//! seconds it took in this process (server and clients), in the rest of the machine (PostgreSQL) and idle. `BENCH_SQL`, when set,
//! is run on the bench's fresh database first: to measure what a part costs, e.g.
//! `BENCH_SQL='alter table usage_records disable trigger usage_records_charge_insert'` (rating off).
use std::time::Instant;

use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::partners::NewPartner;

/// Records per page, as the usage API pages them.
const PAGE: usize = 1_000;

struct Record {
    sub: Uuid,
    meter: Uuid,
    start: String,
    end: String,
    uri: String,
    quantity: String,
}

fn records(n: usize) -> Vec<Record> {
    let meters = [
        "fab6eb84-500b-4a09-a8ca-7358f8bbaea5",
        "9cd92d4c-bafd-4492-b278-bedc2de8232a",
        "b4438d5d-453b-4ee1-b42a-dc72e377f1e4",
    ];
    let subs: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    (0..n)
        .map(|i| {
            let (hour, vm) = (i / 600, i % 600);
            let sub = subs[vm % subs.len()];
            let day = time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap()
                + time::Duration::hours(hour as i64);
            let start = day.midnight().assume_utc() + time::Duration::hours(hour as i64 % 24);
            let fmt = time::format_description::well_known::Rfc3339;
            Record {
                sub,
                meter: Uuid::parse_str(meters[vm % 3]).unwrap(),
                start: start.format(&fmt).unwrap(),
                end: (start + time::Duration::HOUR).format(&fmt).unwrap(),
                uri: format!(
                    "/subscriptions/{sub}/resourceGroups/rg{}/providers/Microsoft.Compute/virtualMachines/vm{vm}",
                    vm % 7
                ),
                quantity: format!("{}.{:04}", 1 + vm % 8, i % 10_000),
            }
        })
        .collect()
}

fn page_json(rs: &[Record]) -> String {
    let items: Vec<String> = rs
        .iter()
        .map(|r| {
            let instance = serde_json::json!({"Microsoft.Resources": {"resourceUri": r.uri, "location": "local", "tags": null, "additionalInfo": null}}).to_string();
            format!(
                r#"{{"id":"/subscriptions/{s}/providers/Microsoft.Commerce.Admin/UsageAggregate/{s}-{m}","name":"{s}-{m}","type":"Microsoft.Commerce.Admin/UsageAggregate","properties":{{"subscriptionId":"{s}","usageStartTime":"{}","usageEndTime":"{}","instanceData":{},"quantity":{},"meterId":"{m}"}}}}"#,
                r.start,
                r.end,
                serde_json::Value::String(instance),
                r.quantity,
                s = r.sub,
                m = r.meter,
            )
        })
        .collect();
    format!("{{\"value\":[{}]}}", items.join(","))
}

/// `data` (COPY text of the records' columns) by one raw COPY into `table`.
async fn copy(conn: &mut sqlx::PgConnection, table: &str, data: &[u8]) -> anyhow::Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!(
            "copy {table} (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                           resource_uri, quantity, location) from stdin"
        ))
        .await?;
    for chunk in data.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    Ok(())
}

fn copy_text(rs: &[Record], partner: Uuid, stack: Uuid) -> Vec<u8> {
    let mut out = String::with_capacity(rs.len() * 260);
    for r in rs {
        out.push_str(&format!(
            "{partner}\t{stack}\t{}\t{}\t{}\t{}\t{}\t{}\tlocal\n",
            r.sub, r.meter, r.start, r.end, r.uri, r.quantity
        ));
    }
    out.into_bytes()
}

mod common;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(200_000);
    let concurrency: usize =
        args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(server::http::ingest::PER_STACK_IN_FLIGHT);
    let bench = common::Bench::start().await?;
    let pool = bench.pool.clone();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        sqlx::raw_sql(&sql).execute(&pool).await?;
    }

    // A partner, a stack and a key, through the domain code.
    let (partner, cloud) = (Uuid::new_v4(), Uuid::new_v4());
    let new = NewPartner::parse("Bench", &partner.to_string(), "1", &Uuid::new_v4().to_string(), "USD")?;
    let mut tx = pool.begin().await?;
    app::partners::db::add_partner(&mut tx, &Actor::command_line(), &new).await?;
    sqlx::query("insert into stacks (partner_id, name, cloud_id) values ($1, 'bench', $2)")
        .bind(partner)
        .bind(cloud)
        .execute(&mut *tx)
        .await?;
    let stack = app::registrations::db::stack_by_cloud_id(&mut tx, Scope::All, cloud).await?;
    let key = app::keys::db::create_key(&mut tx, &Actor::command_line(), &stack, "bench").await?;
    tx.commit().await?;

    let all = records(n);
    let pages: Vec<String> = all.chunks(PAGE).map(page_json).collect();
    let bytes: usize = pages.iter().map(String::len).sum();

    // Where the time goes, part 1: parsing alone, on one core.
    let t = Instant::now();
    for p in &pages {
        app::usage::parse::parse_page(p).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let parse = t.elapsed();

    // A fresh cluster creates (and zero-fills) its WAL files as it first needs them: whichever phase ran first would
    // pay for that. Writing the records once, untimed, leaves files that later phases recycle.
    let mut conn = pool.acquire().await?;
    sqlx::query("create table usage_warm_up (like usage_records including all)").execute(&mut *conn).await?;
    copy(&mut conn, "usage_warm_up", &copy_text(&all, partner, stack.stack_id)).await?;
    sqlx::query("drop table usage_warm_up").execute(&mut *conn).await?;
    drop(conn);

    let base = bench.serve().await?;
    let endpoint = format!("{base}/api/v1/stacks/{cloud}/usage");

    sqlx::query("checkpoint").execute(&pool).await?; // each phase starts with no WAL of the one before
    let (t, cpu) = (Instant::now(), Cpu::now());
    common::send_pages(&endpoint, &key, pages, concurrency).await?;
    let (api, api_cpu) = (t.elapsed(), Cpu::now().since(&cpu));
    let stored: i64 = sqlx::query_scalar("select count(*) from usage_records").fetch_one(&pool).await?;
    anyhow::ensure!(stored as usize == n, "stored {stored} of {n}");

    // Where the time goes, part 2: the same pages parsed and stored without HTTP, into a second stack, same concurrency.
    let second: Uuid = sqlx::query_scalar(
        "insert into stacks (partner_id, name, cloud_id) values ($1, 'bench-2', $2) returning stack_id",
    )
    .bind(partner)
    .bind(Uuid::new_v4())
    .fetch_one(&pool)
    .await?;
    let pages: Vec<String> = all.chunks(PAGE).map(page_json).collect();
    sqlx::query("checkpoint").execute(&pool).await?; // each phase starts with no WAL of the one before
    let (t, cpu) = (Instant::now(), Cpu::now());
    let queue = std::sync::Arc::new(std::sync::Mutex::new(pages.into_iter()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, pool) = (queue.clone(), pool.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(body) = next else { return Ok::<_, anyhow::Error>(()) };
                    let records = app::usage::parse::parse_page(&body).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    let mut tx = pool.begin().await?;
                    app::usage::db::store_page(&mut tx, partner, second, &records).await?;
                    tx.commit().await?;
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    let (direct, direct_cpu) = (t.elapsed(), Cpu::now().since(&cpu));

    // The same records by raw COPY into a table with the same columns, keys and indexes.
    let data = copy_text(&all, partner, stack.stack_id);
    sqlx::query("create table usage_copy (like usage_records including all)").execute(&pool).await?;
    let mut conn = pool.acquire().await?;
    sqlx::query("checkpoint").execute(&pool).await?; // each phase starts with no WAL of the one before
    let (t, cpu) = (Instant::now(), Cpu::now());
    copy(&mut conn, "usage_copy", &data).await?;
    let (raw, raw_cpu) = (t.elapsed(), Cpu::now().since(&cpu));

    let rate = |d: std::time::Duration| n as f64 / d.as_secs_f64();
    println!(
        "records: {n} in {} pages of {PAGE} ({:.1} MiB of JSON), {concurrency} concurrent requests",
        n.div_ceil(PAGE),
        bytes as f64 / 1048576.0
    );
    println!("parse only (1 core): {:>10.0} records/s", rate(parse));
    println!("HTTP ingest API:     {:>10.0} records/s ({:.2} s; {api_cpu})", rate(api), api.as_secs_f64());
    println!("parse + store, no HTTP: {:>7.0} records/s ({:.2} s; {direct_cpu})", rate(direct), direct.as_secs_f64());
    println!("raw COPY:            {:>10.0} records/s ({:.2} s; {raw_cpu})", rate(raw), raw.as_secs_f64());
    println!("API / COPY:          {:>10.0} %", 100.0 * raw.as_secs_f64() / api.as_secs_f64());

    drop(conn);
    bench.finish().await?;
    Ok(())
}

/// CPU seconds used so far: by this process (the server and its clients) and by the whole machine, from `/proc`
/// (Linux); zero elsewhere. Printed beside each rate, to say where a phase's time went.
struct Cpu {
    process: f64,
    machine: f64,
    idle: f64,
}

impl Cpu {
    fn now() -> Self {
        let ticks = |text: &str, skip: usize, take: usize| -> f64 {
            text.split_whitespace().skip(skip).take(take).filter_map(|v| v.parse::<f64>().ok()).sum::<f64>() / 100.0
        };
        let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // After the command name's closing parenthesis, utime and stime are the 12th and 13th fields.
        let own = own.rsplit_once(')').map(|(_, rest)| rest.to_string()).unwrap_or_default();
        let all = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let all = all.lines().next().unwrap_or_default();
        Cpu { process: ticks(&own, 11, 2), machine: ticks(all, 1, 8) - ticks(all, 4, 2), idle: ticks(all, 4, 2) }
    }

    fn since(&self, start: &Cpu) -> String {
        let (process, machine) = (self.process - start.process, self.machine - start.machine);
        format!("CPU s: bench {process:.2}, rest {:.2}, idle {:.2}", machine - process, self.idle - start.idle)
    }
}
