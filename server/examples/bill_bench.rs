//! Bill page benchmark (issues 5 and 15, PRODUCT §7): a partner with N usage records in one month (500 customers,
//! three charged meters), a customer's bill page served by an in-process server (release build), and `wrk` with 32
//! connections measuring its latency; then ten times the records and the same measurement. Run it with
//! `bash .ci/bench-bills` (installs wrk, throwaway cluster) or
//! `DATABASE_URL=… cargo run --release -p server --example bill_bench -- [records] [seconds]`.
use std::process::Command;
use std::time::Instant;

use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;

const CUSTOMERS: i64 = 500;
/// The default subscription of every stack.
const DEFAULT: Uuid = uuid::uuid!("00000000-0000-4000-8000-000000000000");
const MONTH_START: time::OffsetDateTime = time::macros::datetime!(2026-10-01 00:00 UTC);
const HOURS: i64 = 31 * 24;

async fn setup(pool: &PgPool) -> anyhow::Result<(Uuid, Uuid, Uuid)> {
    let (partner, stack) = (Uuid::new_v4(), Uuid::new_v4());
    let mut tx = pool.begin().await?;
    sqlx::query("insert into partners (partner_id, name, mpn_id, directory_tenant_id) values ($1, 'Bench', '1', gen_random_uuid())")
        .bind(partner)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into stacks (stack_id, partner_id, name, cloud_id) values ($1, $2, 'bench', gen_random_uuid())",
    )
    .bind(stack)
    .bind(partner)
    .execute(&mut *tx)
    .await?;
    // The default subscription and 50 customers, each with its CSP subscription mapped and one local subscription.
    sqlx::query(
        "insert into commerce_subscriptions (subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name)
         select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, case when i = 0 then 'APSS' else 'CSP' end, $1,
                ('10000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Customer ' || i
         from generate_series(0, $2) i",
    )
    .bind(partner)
    .bind(CUSTOMERS)
    .execute(&mut *tx)
    .await?;
    common::register(&mut tx, stack, partner, DEFAULT).await?;
    sqlx::query(
        "insert into tenant_mappings (stack_id, partner_id, tenant_id, subscription_id, valid_from)
         select $1, $2, ('10000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
                ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, '2026-01-01'
         from generate_series(1, $3) i",
    )
    .bind(stack)
    .bind(partner)
    .bind(CUSTOMERS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into local_subscriptions (stack_id, partner_id, subscription_id, owner_tenant_id)
         select $1, $2, ('20000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
                ('10000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid
         from generate_series(1, $3) i",
    )
    .bind(stack)
    .bind(partner)
    .bind(CUSTOMERS)
    .execute(&mut *tx)
    .await?;
    let map = app::pricing::import::parse_meter_map(include_str!("../data/meter-map-sample.csv"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &map).await?;
    let prices = app::pricing::import::parse_prices(include_str!("../data/price-list-sample.csv"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await?;
    let user: Uuid = sqlx::query_scalar(
        "insert into users (issuer, subject, partner_id, role) values ('bench', 'bench', $1, 'partner_admin') returning user_id",
    )
    .bind(partner)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((partner, stack, user))
}

/// Adds usage of resources `from..to` for every hour of the month, a day per statement.
async fn load(pool: &PgPool, partner: Uuid, stack: Uuid, from: i64, to: i64) -> anyhow::Result<u64> {
    let mut n = 0;
    for day in 0..31 {
        n += sqlx::query(
            "insert into usage_records (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                        resource_uri, quantity)
             select $1, $2, ('20000000-0000-4000-8000-' || lpad((1 + r % $5)::text, 12, '0'))::uuid,
                    (array['fab6eb84-500b-4a09-a8ca-7358f8bbaea5', '9cd92d4c-bafd-4492-b278-bedc2de8232a',
                           '09f8879e-87e9-4305-a572-4b7be209f857']::uuid[])[1 + r % 3],
                    h, h + interval '1 hour', '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm' || r,
                    1 + (r % 7)
             from generate_series($3::bigint, $4::bigint - 1) r
             cross join generate_series($6::timestamptz + make_interval(days => $7), $6::timestamptz + make_interval(days => $7) + interval '23 hours',
                                        interval '1 hour') h",
        )
        .bind(partner)
        .bind(stack)
        .bind(from)
        .bind(to)
        .bind(CUSTOMERS)
        .bind(MONTH_START)
        .bind(day)
        .execute(pool)
        .await?
        .rows_affected();
    }
    Ok(n)
}

/// Makes every request's address new (`?view=N`): each is a first view, rendered, never a kept page.
const FIRST_VIEWS: &str = r#"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, wrk.path .. "?view=" .. n)
end
"#;

fn wrk_with(url: &str, cookie: &str, seconds: u64, script: Option<&std::path::Path>) -> anyhow::Result<(String, f64)> {
    let mut args = vec!["-t2".to_string(), "-c32".into(), format!("-d{seconds}s"), "--latency".into()];
    if let Some(script) = script {
        args.extend(["-s".into(), script.display().to_string()]);
    }
    args.extend(["-H".into(), format!("Cookie: {cookie}"), url.into()]);
    let out = Command::new("wrk")
        .args(&args)
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run wrk ({e}); install it (bash .ci/bench-bills does)"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(!text.contains("Non-2xx"), "the bill page answered errors:\n{text}");
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| anyhow::anyhow!("no 99% line in wrk's output:\n{text}"))?;
    let ms = if let Some(v) = p99.strip_suffix("ms") {
        v.parse()?
    } else if let Some(v) = p99.strip_suffix("us") {
        v.parse::<f64>()? / 1000.0
    } else if let Some(v) = p99.strip_suffix('s') {
        v.parse::<f64>()? * 1000.0
    } else {
        anyhow::bail!("cannot read {p99}")
    };
    Ok((text, ms))
}

/// A second stack of the partner, registered like the first, with an ingestion key: where the ingest API is measured.
async fn second_stack(pool: &PgPool, partner: Uuid) -> anyhow::Result<(Uuid, String)> {
    let cloud = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    let stack: Uuid = sqlx::query_scalar(
        "insert into stacks (partner_id, name, cloud_id) values ($1, 'bench-2', $2) returning stack_id",
    )
    .bind(partner)
    .bind(cloud)
    .fetch_one(&mut *tx)
    .await?;
    common::register(&mut tx, stack, partner, DEFAULT).await?;
    let stack_ref = app::registrations::db::stack_by_cloud_id(&mut tx, app::auth::Scope::All, cloud).await?;
    let key = app::keys::db::create_key(&mut tx, &Actor::command_line(), &stack_ref, "bench").await?;
    tx.commit().await?;
    Ok((cloud, key))
}

/// `pages` usage pages of 1,000 new records each for the second stack, from page `first` on (November 2026, an
/// hour per page).
fn ingest_pages(first: i64, pages: i64) -> Vec<String> {
    let fmt = time::format_description::well_known::Rfc3339;
    (first..first + pages)
        .map(|p| {
            let start = time::macros::datetime!(2026-11-01 00:00 UTC) + time::Duration::hours(p);
            let (s, e) = (start.format(&fmt).unwrap(), (start + time::Duration::HOUR).format(&fmt).unwrap());
            let records: Vec<String> = (0..1000)
                .map(|r| {
                    let sub = format!("20000000-0000-4000-8000-{:012}", 1 + r % CUSTOMERS);
                    let meter = ["fab6eb84-500b-4a09-a8ca-7358f8bbaea5", "9cd92d4c-bafd-4492-b278-bedc2de8232a"][r as usize % 2];
                    let uri = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm{r}");
                    let instance = serde_json::json!({"Microsoft.Resources": {"resourceUri": uri, "location": "local"}});
                    format!(
                        r#"{{"id":"x","name":"x","type":"Microsoft.Commerce.Admin/UsageAggregate","properties":{{"subscriptionId":"{sub}","usageStartTime":"{s}","usageEndTime":"{e}","instanceData":{},"quantity":1,"meterId":"{meter}"}}}}"#,
                        serde_json::Value::String(instance.to_string())
                    )
                })
                .collect();
            format!("{{\"value\":[{}]}}", records.join(","))
        })
        .collect()
}

/// p50, p99 and the longest of latencies in ms.
fn spread(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99), ms[ms.len() - 1])
}

mod common;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: i64 = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let seconds: u64 = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(20);
    let bench = common::Bench::start().await?;
    let pool = bench.pool.clone();
    let (partner, stack, user) = setup(&pool).await?;
    // The imports queued re-rates (nothing to re-rate yet): done, so no bill says "being re-rated".
    app::charges::db::run_queued(&pool).await?;

    let base = bench.serve().await?;
    let cookie = common::signed_in(&pool, user).await?;
    let page = format!("{base}/bills/2026-10/00000000-0000-4000-8000-000000000001");

    let list = format!("{base}/bills?period=2026-10");
    let (second, key) = second_stack(&pool, partner).await?;
    let ingest_url = format!("{base}/api/v1/stacks/{second}/usage");
    let mut next_page = 0;
    let mut rates = Vec::new();
    let empty = format!("{base}/no-access");
    let first_views = std::env::temp_dir().join(format!("stackbill-first-views-{}.lua", std::process::id()));
    std::fs::write(&first_views, FIRST_VIEWS)?;
    if std::env::var_os("BENCH_HOLD").is_some() {
        // To look at one page under a profiler: N records loaded, then the portal served until interrupted.
        load(&pool, partner, stack, 0, n / HOURS).await?;
        app::charges::db::fold_monthly(&pool).await?;
        println!("serving {page} (cookie: {cookie}); Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    let resources = n / HOURS;
    let mut results = Vec::new();
    for (from, to) in [(0, resources), (resources, resources * 10)] {
        let t = Instant::now();
        load(&pool, partner, stack, from, to).await?;
        // What the server's background fold does every second: the months just loaded become monthly bill lines.
        app::charges::db::fold_monthly(&pool).await?;
        let loaded = t.elapsed();
        // Measure the page, not the load's aftermath: statistics, visibility map and dirty pages settled first.
        sqlx::query("vacuum analyze").execute(&pool).await?;
        sqlx::query("checkpoint").execute(&pool).await?;
        let records: i64 = sqlx::query_scalar("select count(*) from usage_records").fetch_one(&pool).await?;
        let charges: i64 = sqlx::query_scalar("select count(*) from charges").fetch_one(&pool).await?;
        let body = reqwest::Client::new().get(&page).header("cookie", &cookie).send().await?.text().await?;
        anyhow::ensure!(
            body.contains("Customer 1") && body.contains("Total cost"),
            "the bill page did not render:\n{body}"
        );
        println!(
            "== {records} usage records in the month ({charges} charge rows), loaded in {:.1} s ==",
            loaded.as_secs_f64()
        );
        let client = reqwest::Client::new();
        for url in [&page, &list] {
            let served = |r: reqwest::Response| r.headers().get("x-stackbill-page").cloned();
            client.get(url).header("cookie", &cookie).send().await?;
            let again = served(client.get(url).header("cookie", &cookie).send().await?);
            anyhow::ensure!(again.is_some_and(|v| v == "kept"), "{url} is served again as a kept page");
        }
        // The pages in turn, each after a warm-up (connections opened, caches filled), same session: the bill page
        // and the list as kept pages (served again), the bill page rendered for each request (a new address each
        // time), and the empty page.
        let mut measured = Vec::new();
        for (what, url, script) in [
            ("bill page (kept)", &page, None),
            ("bills list (500 customers, kept)", &list, None),
            ("empty page", &empty, None),
            ("bill page (first views)", &page, Some(first_views.as_path())),
        ] {
            wrk_with(url, &cookie, 3, script)?;
            let (text, p99) = wrk_with(url, &cookie, seconds, script)?;
            let rps: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| anyhow::anyhow!("no Requests/sec in wrk's output:\n{text}"))?;
            println!("   {what:<34} {rps:>8.0} requests/s, p99 {p99:>7.2} ms");
            measured.push((rps, p99));
        }
        let [(bill_rps, bill_p99), (_, list_p99), (empty_rps, _), (first_rps, _)] = measured[..] else {
            unreachable!()
        };
        println!(
            "   bill page / empty page: {:.2} of the requests per second (first views {:.2}); bills list p99 / bill page p99: {:.2}",
            bill_rps / empty_rps,
            first_rps / empty_rps,
            list_p99 / bill_p99
        );
        results.push((records, bill_p99));
        // The ingest API at this size: 20,000 new records of the second stack, 4 pages at a time.
        let t = Instant::now();
        common::send_pages(&ingest_url, &key, ingest_pages(next_page, 20), 4).await?;
        next_page += 20;
        let rate = 20_000.0 / t.elapsed().as_secs_f64();
        println!("   ingest API (another stack, 4 at a time): {rate:>8.0} records/s");
        rates.push(rate);
    }
    // Issue 15, item 3: ingest latency of the second stack while the first (all its records) is re-rated.
    let idle = spread(common::send_pages(&ingest_url, &key, ingest_pages(next_page, 30), 1).await?);
    next_page += 30;
    sqlx::query(
        "insert into rerate_jobs (stack_id, partner_id, from_day, reason) values ($1, $2, '-infinity', 'bench')
         on conflict (stack_id) do update set from_day = '-infinity', next_try_at = now()",
    )
    .bind(stack)
    .bind(partner)
    .execute(&pool)
    .await?;
    let t = Instant::now();
    let rerate = tokio::spawn({
        let pool = pool.clone();
        async move { app::charges::db::run_queued(&pool).await }
    });
    let mut during = Vec::new();
    while !rerate.is_finished() {
        during.extend(common::send_pages(&ingest_url, &key, ingest_pages(next_page, 1), 1).await?);
        next_page += 1;
    }
    rerate.await??;
    let rerated = t.elapsed().as_secs_f64();
    let busy = spread(during.clone());
    println!(
        "ingest page latency of another stack (1,000 records, one at a time): idle p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms;",
        idle.0, idle.1, idle.2
    );
    println!(
        "  while the {} records of the first stack were re-rated ({rerated:.1} s, {} pages): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        results[1].0,
        during.len(),
        busy.0,
        busy.1,
        busy.2
    );
    println!(
        "ingest API rate: {:.0} and {:.0} records/s; cost per 10× growth {:.2}×",
        rates[0],
        rates[1],
        rates[0] / rates[1]
    );
    println!("p99 of a customer's bill page at 32 connections:");
    for (records, p99) in &results {
        println!("  {records:>10} records: {p99:.2} ms");
    }
    println!("growth for 10× the records: {:.2}×", results[1].1 / results[0].1);
    bench.finish().await?;
    Ok(())
}
