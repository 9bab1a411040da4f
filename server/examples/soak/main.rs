//! Soak (issue 15, item 6): writers and readers at once against the portal served in-process, for N minutes, then
//! checks that nothing answered 5xx, nothing was stored twice or lost, and no final bill changed.
//!
//! Writers: four API clients resending overlapping, shuffled pages of one stack's October usage; a partner uploading
//! the same usage file of a second stack every few seconds; a collector reading a third stack from the stand-in usage
//! API every two seconds (each run re-reads its overlap); a price list import every fifteen seconds, alternating two
//! lists whose Base VM price differs (each queues a re-rate of every stack, which the re-rate worker runs). Readers:
//! three signed-in clients cycling through a bill page, the bills list, the usage explorer, the usage and bill CSVs
//! and a final bill.
//!
//! Run it with `bash .ci/soak [minutes]` (release build, throwaway cluster), or
//! `DATABASE_URL=… cargo run --release -p server --example soak -- [minutes]`.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use app::domain::Period;

#[path = "../common/mod.rs"]
mod common;
mod fixture;
#[allow(dead_code)]
#[path = "../../tests/api/standin_usage_api.rs"]
mod standin;
mod stats;

use fixture::{
    api_record, collected_records, final_month, fixed, import_prices, quantity, setup, usage_json, Fixture,
    API_RECORDS, BLOCK, CUSTOMERS, METERS, SEPTEMBER_RECORDS, UPLOAD_RECORDS,
};
use stats::{Stats, XorShift};

/// What every writer and reader of a run shares.
struct Run {
    base: String,
    f: Arc<Fixture>,
    stats: Arc<Stats>,
    until: Instant,
    client: reqwest::Client,
    pool: PgPool,
}

type Task = tokio::task::JoinHandle<anyhow::Result<()>>;

/// Blocks of `BLOCK` API records, each overlapping half of the next; `sent[b]`: block `b` was stored at least once.
struct Blocks {
    count: u32,
    sent: Arc<Vec<AtomicBool>>,
}

impl Blocks {
    fn new() -> Self {
        let count = (API_RECORDS - BLOCK) / (BLOCK / 2) + 1;
        Self { count, sent: Arc::new((0..count).map(|_| AtomicBool::new(false)).collect()) }
    }

    /// The quantity of the records that a stored block holds (each record once).
    fn stored_quantity(&self) -> Decimal {
        (0..API_RECORDS)
            .filter(|r| {
                let b = r / (BLOCK / 2);
                [b.checked_sub(1), Some(b)]
                    .into_iter()
                    .flatten()
                    .any(|b| b < self.count && self.sent[b as usize].load(Ordering::Relaxed))
            })
            .map(quantity)
            .sum()
    }
}

/// Four API clients: random overlapping blocks, records shuffled, resent again and again.
fn api_clients(run: &Arc<Run>, blocks: &Blocks) -> Vec<Task> {
    (1..=4u64)
        .map(|seed| {
            let (run, sent, count) = (run.clone(), blocks.sent.clone(), blocks.count);
            let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let url = format!("{}/api/v1/stacks/{}/usage", run.base, run.f.stacks[0].1);
            tokio::spawn(async move {
                while Instant::now() < run.until {
                    let b = rng.below(count);
                    let mut records: Vec<u32> = (b * BLOCK / 2..b * BLOCK / 2 + BLOCK).collect();
                    for i in (1..records.len()).rev() {
                        records.swap(i, rng.below(i as u32 + 1) as usize);
                    }
                    let body =
                        format!("{{\"value\":[{}]}}", records.drain(..).map(api_record).collect::<Vec<_>>().join(","));
                    let req = run.client.post(&url).bearer_auth(&run.f.key).header("content-type", "application/json");
                    if run.stats.send("POST /api/v1/…/usage", req.body(body)).await?.is_success() {
                        sent[b as usize].store(true, Ordering::Relaxed);
                    }
                }
                Ok(())
            })
        })
        .collect()
}

/// A partner uploading the same file of the second stack every five seconds; `uploaded`: one was stored.
fn uploader(run: &Arc<Run>, uploaded: Arc<AtomicBool>) -> anyhow::Result<Task> {
    let records: Vec<String> = (0..UPLOAD_RECORDS)
        .map(|r| {
            let start = time::macros::datetime!(2026-10-10 00:00 UTC) + time::Duration::hours(i64::from(r / 250));
            let vm = format!("up{}", r % 250);
            usage_json(fixed(3, 1 + r % CUSTOMERS), METERS[(r % 3) as usize], start, &vm, quantity(r))
        })
        .collect();
    let file = format!("{{\"value\":[{}]}}", records.join(","));
    let run = run.clone();
    let url = format!("{}/stacks/{}/usage/upload", run.base, run.f.stacks[1].1);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    Ok(tokio::spawn(async move {
        while Instant::now() < run.until {
            let form = reqwest::multipart::Form::new()
                .part("files", reqwest::multipart::Part::text(file.clone()).file_name("usage.json"));
            let req = no_redirects.post(&url).header("cookie", &run.f.cookie).header("origin", &run.base);
            if run.stats.send("POST /stacks/…/usage/upload", req.multipart(form)).await? == 303 {
                uploaded.store(true, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok(())
    }))
}

/// The collector of the third stack every two seconds, a price list import every fifteen, and the re-rate worker
/// every second.
fn background(run: &Arc<Run>, reach: &server::collector::run::Reach) -> Vec<Task> {
    let (collector_run, reach) = (run.clone(), reach.clone());
    let collector = tokio::spawn(async move {
        let run = collector_run;
        while Instant::now() < run.until {
            let (t, now) = (Instant::now(), app::domain::clock::now());
            let done =
                server::collector::run::collect_once(&run.pool, &reach, run.f.stacks[2].0, now, Default::default())
                    .await;
            run.stats.note("collector run", t.elapsed(), if done.is_ok() { 200 } else { 500 });
            done.map_err(|e| anyhow::anyhow!("a collector run failed: {e}"))?;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Ok(())
    });
    let import_run = run.clone();
    let imports = tokio::spawn(async move {
        let run = import_run;
        let mut turn = 1;
        while Instant::now() < run.until {
            tokio::time::sleep(Duration::from_secs(15)).await;
            let t = Instant::now();
            let mut tx = run.pool.begin().await?;
            import_prices(&mut tx, turn).await?;
            tx.commit().await?;
            run.stats.note("price list import", t.elapsed(), 200);
            turn += 1;
        }
        Ok(())
    });
    let worker_run = run.clone();
    let worker = tokio::spawn(async move {
        let run = worker_run;
        while Instant::now() < run.until {
            let t = Instant::now();
            if app::charges::db::run_queued(&run.pool).await? > 0 {
                run.stats.note("re-rate (worker)", t.elapsed(), 200);
            }
            // What the server does each second after the re-rates: fold changed months into the monthly lines.
            let t = Instant::now();
            if app::charges::db::fold_monthly(&run.pool).await? > 0 {
                run.stats.note("fold of the monthly lines (worker)", t.elapsed(), 200);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Ok(())
    });
    vec![collector, imports, worker]
}

/// Three signed-in readers cycling through the pages and exports.
fn readers(run: &Arc<Run>) -> Vec<Task> {
    let customer = fixed(0, 1);
    let october = "from=2026-10-01&to=2026-10-31";
    let pages: Vec<(&'static str, String)> = vec![
        ("GET /bills/{period}/{sub}", format!("/bills/2026-10/{customer}")),
        ("GET /bills", "/bills?period=2026-10".into()),
        ("GET /usage (explorer)", format!("/usage?{october}&group=day")),
        ("GET /exports/usage", format!("/exports/usage?{october}&group=meter")),
        ("GET /exports/bills/{period}/{sub}", format!("/exports/bills/2026-10/{customer}")),
        ("GET /bills/{period}/{sub} (final)", format!("/bills/2026-09/{customer}")),
    ];
    (0..3)
        .map(|n| {
            let (run, pages) = (run.clone(), pages.clone());
            tokio::spawn(async move {
                let mut i = n;
                while Instant::now() < run.until {
                    let (route, path) = &pages[i % pages.len()];
                    let req = run.client.get(format!("{}{path}", run.base)).header("cookie", &run.f.cookie);
                    let status = run.stats.send(route, req).await?;
                    // A reader that is refused (401, 403, 404) is not reading anything: the soak would prove nothing.
                    anyhow::ensure!(status == 200, "{route} answered {status}");
                    i += 1;
                }
                Ok(())
            })
        })
        .collect()
}

/// What was sent, to check against what was stored.
struct Sent<'a> {
    blocks: &'a Blocks,
    uploaded: bool,
    collected: Decimal,
    september: Vec<app::bills::Bill>,
}

/// Once the writers stopped and queued re-rates and one more collector run are done: each stack's stored and charged
/// quantities against what was sent, and September's final bills against what they were.
async fn checks(
    run: &Run,
    reach: &server::collector::run::Reach,
    sent: Sent<'_>,
) -> anyhow::Result<Vec<(String, bool)>> {
    let (pool, f) = (&run.pool, &run.f);
    while app::charges::db::run_queued(pool).await? > 0 {}
    server::collector::run::collect_once(pool, reach, f.stacks[2].0, app::domain::clock::now(), Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("the last collector run failed: {e}"))?;
    let total = |stack: Uuid, table: &'static str| async move {
        let q = format!("select coalesce(sum(quantity), 0) from {table} where stack_id = $1");
        sqlx::query_scalar::<_, Decimal>(&q).bind(stack).fetch_one(pool).await
    };
    let upload = if sent.uploaded { (0..UPLOAD_RECORDS).map(quantity).sum() } else { Decimal::ZERO };
    let september_records: Decimal = (0..SEPTEMBER_RECORDS).map(quantity).sum();
    let mut checks = vec![
        ("API pages were stored".to_string(), sent.blocks.sent.iter().any(|b| b.load(Ordering::Relaxed))),
        ("an upload was stored".to_string(), sent.uploaded),
    ];
    for (name, stack, expected) in [
        ("API stack", f.stacks[0].0, sent.blocks.stored_quantity() + september_records),
        ("upload stack", f.stacks[1].0, upload),
        ("collected stack", f.stacks[2].0, sent.collected),
    ] {
        let (usage, charged) = (total(stack, "usage_records").await?, total(stack, "charges").await?);
        let ok = usage == expected && charged == expected;
        checks.push((format!("{name}: stored {usage}, charged {charged}, sent {expected}"), ok));
    }
    app::charges::db::fold_monthly(pool).await?;
    let differing = app::charges::db::monthly_differences(pool).await?;
    checks.push((format!("monthly bill lines equal their day rows ({differing} differ)"), differing == 0));
    let mut conn = pool.acquire().await?;
    let now_final = app::bills::list::bills(&mut conn, f.partner, Period::parse("2026-09")?).await?;
    let unchanged = now_final == sent.september;
    checks.push((format!("September's {} final bills unchanged", sent.september.len()), unchanged));
    // The bill pages the readers saw, as served now (kept pages included: http::page_cache): their totals are the
    // bills' as they now are.
    let customer = fixed(0, 1);
    for period in ["2026-10", "2026-09"] {
        let bill = app::bills::db::bill(&mut conn, f.partner, customer, Period::parse(period)?).await?;
        let expected =
            format!("data-testid=\"bill-total\">{}<", app::domain::money::show(bill.total_amount, &bill.currency));
        for view in ["first", "second"] {
            let res = run
                .client
                .get(format!("{}/bills/{period}/{customer}", run.base))
                .header("cookie", &f.cookie)
                .send()
                .await?;
            let served = res.headers().get("x-stackbill-page").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let shown = res.text().await?.contains(&expected);
            checks.push((format!("the {period} bill page ({view} view, {served}) shows the bill's total now"), shown));
        }
    }
    Ok(checks)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let minutes: f64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(10.0);
    let bench = common::Bench::start().await?;
    let pool = bench.pool.clone();
    let mut config = standin::Config::new();
    config.records = collected_records();
    let collected: Decimal = config.records.iter().map(|r| r.quantity.parse::<Decimal>().unwrap()).sum();
    let standin = standin::StandIn::start(config).await;
    let secret = Arc::new(app::domain::secrets::SecretKey::generate());
    let mut f = setup(&pool, &standin, &secret).await?;
    let september = final_month(&pool, &f).await?;
    let base = bench.serve().await?;
    f.cookie = common::signed_in(&pool, f.user).await?;
    let until = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let stats = Arc::new(Stats::default());
    let run = Arc::new(Run { base, f: Arc::new(f), stats: stats.clone(), until, client: reqwest::Client::new(), pool });
    let reach = server::collector::run::Reach::new(app::domain::outbound::Outbound::lab(), secret.clone())?;
    let (blocks, uploaded) = (Blocks::new(), Arc::new(AtomicBool::new(false)));

    let mut tasks = api_clients(&run, &blocks);
    tasks.push(uploader(&run, uploaded.clone())?);
    tasks.extend(background(&run, &reach));
    tasks.extend(readers(&run));
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await? {
            failures.push(e.to_string());
        }
    }

    let sent = Sent { blocks: &blocks, uploaded: uploaded.load(Ordering::Relaxed), collected, september };
    let checks = checks(&run, &reach, sent).await?;
    let clean = stats.print();
    for (what, ok) in &checks {
        println!("{} {what}", if *ok { "ok  " } else { "FAIL" });
    }
    for e in &failures {
        println!("FAIL {e}");
    }
    drop(run);
    bench.finish().await?;
    anyhow::ensure!(
        clean && failures.is_empty() && checks.iter().all(|(_, ok)| *ok),
        "the soak found problems (above)"
    );
    Ok(())
}
