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
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::domain::Period;

mod common;
#[allow(dead_code)]
#[path = "../tests/api/standin_usage_api.rs"]
mod standin;

const CUSTOMERS: u32 = 10;
const METERS: [&str; 3] = [
    "fab6eb84-500b-4a09-a8ca-7358f8bbaea5",
    "9cd92d4c-bafd-4492-b278-bedc2de8232a",
    "09f8879e-87e9-4305-a572-4b7be209f857",
];
/// The API clients' October records, sent in overlapping blocks (each half of the next).
const API_RECORDS: u32 = 100_000;
const BLOCK: u32 = 500;
/// The API stack's September records, billed and final before the soak starts.
const SEPTEMBER_RECORDS: u32 = 2_000;
/// The uploaded file's records.
const UPLOAD_RECORDS: u32 = 5_000;

/// IDs of the fixture: `kind` 0 commerce subscriptions, 1 tenants, 2-4 the stacks' local subscriptions.
fn fixed(kind: u32, i: u32) -> Uuid {
    Uuid::from_u128(((kind as u128) << 96) | i as u128)
}

/// The quantity of the `r`th record: exact decimals, never zero.
fn quantity(r: u32) -> Decimal {
    Decimal::new(i64::from(1 + r % 7) * 100 + 25, 2)
}

/// The API clients' record `r` as the usage API writes it.
fn api_record(r: u32) -> String {
    let sub = fixed(2, 1 + r % CUSTOMERS);
    let meter = METERS[(r % 3) as usize];
    let start = time::macros::datetime!(2026-10-01 00:00 UTC) + time::Duration::hours(i64::from(r / BLOCK));
    usage_json(sub, meter, start, &format!("vm{}", r % BLOCK), quantity(r))
}

fn usage_json(sub: Uuid, meter: &str, start: time::OffsetDateTime, vm: &str, q: Decimal) -> String {
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
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// One route's answers: their latencies, and how many of each status.
type Answers = (Vec<Duration>, BTreeMap<u16, u64>);

/// Answers per route.
#[derive(Default)]
struct Stats {
    routes: Mutex<BTreeMap<&'static str, Answers>>,
}

impl Stats {
    fn note(&self, route: &'static str, took: Duration, status: u16) {
        let mut routes = self.routes.lock().unwrap();
        let (times, statuses) = routes.entry(route).or_default();
        times.push(took);
        *statuses.entry(status).or_default() += 1;
    }

    /// Sends the request, reads the whole answer and notes it; its status.
    async fn send(&self, route: &'static str, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::StatusCode> {
        let t = Instant::now();
        let res = request.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        self.note(route, t.elapsed(), status.as_u16());
        anyhow::ensure!(!status.is_server_error(), "{route} answered {status}: {}", String::from_utf8_lossy(&body));
        Ok(status)
    }

    fn print(&self) -> bool {
        let routes = self.routes.lock().unwrap();
        let mut clean = true;
        println!("| route | requests | answers | p50 | p99 |\n|---|---:|---|---:|---:|");
        for (route, (times, statuses)) in routes.iter() {
            let mut t = times.clone();
            t.sort();
            let at = |q: f64| t[((t.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
            let answers: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
            clean &= statuses.keys().all(|s| *s < 500);
            println!("| {route} | {} | {} | {:.1} ms | {:.1} ms |", t.len(), answers.join(", "), at(0.5), at(0.99));
        }
        clean
    }
}

struct Fixture {
    partner: Uuid,
    stacks: [(Uuid, Uuid); 3],
    key: String,
    user: Uuid,
    cookie: String,
}

async fn setup(
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
    let map = app::pricing::import::parse_meter_map(include_str!("../data/meter-map-sample.csv"))
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
async fn import_prices(conn: &mut sqlx::PgConnection, turn: u32) -> anyhow::Result<()> {
    let sample = include_str!("../data/price-list-sample.csv");
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
async fn final_month(pool: &PgPool, f: &Fixture) -> anyhow::Result<Vec<app::bills::Bill>> {
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
    app::usage::db::store_page(&mut tx, f.partner, f.stacks[0].0, page).await?;
    tx.commit().await?;
    app::charges::db::run_queued(pool).await?;
    let september = Period::parse("2026-09")?;
    let mut conn = pool.acquire().await?;
    for b in app::bills::db::bills(&mut conn, f.partner, september).await? {
        app::bills::lifecycle::finalise(&mut conn, &Actor::command_line(), f.partner, b.subscription_id, september)
            .await?;
    }
    Ok(app::bills::db::bills(&mut conn, f.partner, september).await?)
}

/// The stand-in's records: thirty resources of three subscriptions for each of the last 24 reported hours.
fn collected_records() -> Vec<standin::Record> {
    let now = app::domain::clock::now();
    let hour = now.replace_time(time::Time::from_hms(now.hour(), 0, 0).unwrap());
    (1..=24).flat_map(|h| (0..30).map(move |n| standin::Record::on_time(hour - time::Duration::hours(h), n))).collect()
}

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
    let mut conn = pool.acquire().await?;
    let now_final = app::bills::db::bills(&mut conn, f.partner, Period::parse("2026-09")?).await?;
    let unchanged = now_final == sent.september;
    checks.push((format!("September's {} final bills unchanged", sent.september.len()), unchanged));
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
