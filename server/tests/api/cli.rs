//! The `stackbill` binary: same rules and messages as the pages; refusals exit non-zero and name the rule.
use std::process::Output;

use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{database_url, directory_subscription, seed_partner};

pub(crate) fn stackbill(pool: &PgPool, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_stackbill"))
        .args(args)
        .env("DATABASE_URL", database_url(pool))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn sub(pool: &PgPool, partner: Uuid, tenant: Uuid, offer: &str) -> String {
    directory_subscription(pool, partner, tenant, offer).await.to_string().to_uppercase()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_command_line_registers_maps_and_refuses_with_the_rule_named(pool: PgPool) {
    let (contoso, _) = seed_partner(&pool, "Contoso", "seed").await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "seed2").await;
    let (customer, cloud) = (Uuid::new_v4(), Uuid::new_v4().to_string());
    let (apss, csp, ea) = (
        sub(&pool, contoso, Uuid::new_v4(), "APSS").await,
        sub(&pool, contoso, customer, "CSP").await,
        sub(&pool, contoso, Uuid::new_v4(), "EA").await,
    );
    let theirs = sub(&pool, fabrikam, customer, "CSP").await;
    let (p, t) = (contoso.to_string(), customer.to_string());

    let add = stackbill(&pool, &["stack", "add", "--partner", &p, "--name", "ams-01", "--cloud-id", &cloud]);
    let reg = stackbill(&pool, &["registration", "set", "--stack", &cloud, "--default", &apss]);
    let map = stackbill(&pool, &["tenant", "map", "--stack", &cloud, "--tenant", &t, "--subscription", &csp]);
    let foreign = stackbill(&pool, &["tenant", "map", "--stack", &cloud, "--tenant", &t, "--subscription", &theirs]);
    let ea_default = stackbill(&pool, &["registration", "set", "--stack", &cloud, "--default", &ea]);
    let unmap = stackbill(&pool, &["tenant", "unmap", "--stack", &cloud, "--tenant", &t]);

    for ok in [&add, &reg, &map, &unmap] {
        assert!(ok.status.success(), "{}", stderr(ok));
    }
    assert!(!foreign.status.success() && stderr(&foreign).contains("R5"), "{}", stderr(&foreign));
    assert!(!ea_default.status.success() && stderr(&ea_default).contains("R3"), "{}", stderr(&ea_default));
    let labels: Vec<String> =
        sqlx::query_scalar("select distinct actor_label from audit_events where action like 'mapping.%'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(labels, ["command line"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_bad_directory_file_is_refused_by_line_and_column(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "seed").await;
    let file = std::env::temp_dir().join(format!("directory-{}.csv", Uuid::new_v4()));
    let header = "SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status";
    std::fs::write(&file, format!("{header}\n{},Sponsored,{partner},{},N,active\n", Uuid::new_v4(), Uuid::new_v4()))
        .unwrap();

    let out = stackbill(&pool, &["directory", "import", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();

    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 2, OfferType") && stderr(&out).contains("Sponsored"), "{}", stderr(&out));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn usage_and_subscription_files_upload_from_the_command_line_with_refusals_named(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let (sub, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let dir = std::env::temp_dir().join(format!("stackbill-cli-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (good, bad, subs) = (dir.join("good.json"), dir.join("bad.json"), dir.join("subs.json"));
    std::fs::write(
        &good,
        crate::ingest::page(&[crate::ingest::record(sub, 0, "1"), crate::ingest::record(sub, 1, "2")]),
    )
    .unwrap();
    std::fs::write(
        &bad,
        crate::ingest::page(&[crate::ingest::record(sub, 2, "1"), crate::ingest::record(sub, 3, "-1")]),
    )
    .unwrap();
    let list = serde_json::json!({"value": [{"subscriptionId": sub, "tenantId": tenant, "displayName": "Prod"}]});
    std::fs::write(&subs, list.to_string()).unwrap();
    let c = cloud.to_string();

    let usage = stackbill(&pool, &["usage", "upload", "--stack", &c, good.to_str().unwrap(), bad.to_str().unwrap()]);
    let subscriptions = stackbill(&pool, &["subscriptions", "upload", "--stack", &c, subs.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();

    let stdout = String::from_utf8_lossy(&usage.stdout);
    assert!(!usage.status.success(), "a refused file makes the command fail");
    assert!(stdout.contains("good.json (usage API page, JSON): 2 records: 2 new, 0 changed, 0 unchanged"), "{stdout}");
    assert!(stderr(&usage).contains("record 1, properties.quantity"), "{}", stderr(&usage));
    assert!(subscriptions.status.success(), "{}", stderr(&subscriptions));
    let stored: i64 = sqlx::query_scalar("select count(*) from usage_records").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 2);
    let owner: Uuid =
        sqlx::query_scalar("select owner_tenant_id from local_subscriptions").fetch_one(&pool).await.unwrap();
    assert_eq!(owner, tenant);
    let actors: Vec<String> = sqlx::query_scalar(
        "select actor_label from audit_events where action in ('usage.upload', 'subscriptions.sync')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(actors, ["command line", "command line"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn meters_and_prices_import_and_bills_export_from_the_command_line(pool: PgPool) {
    let m = crate::bills::month(pool.clone()).await;
    let dir = std::env::temp_dir().join(format!("stackbill-cli-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (prices, bad, map) = (dir.join("prices.csv"), dir.join("bad.csv"), dir.join("map.csv"));
    std::fs::write(
        &prices,
        "meter_id,meter name,REGION,unit,unit price,currency,effective date\n\
         d46f21e1-527d-5562-b071-8da7069bec9b,Blob Storage,Azure Stack Hub,1 GB/Month,0.012,USD,2026-10-01\n\
         c70df2d5-a62e-5ade-b348-f536792f2e49,D2 v3,EU West,1 Hour,0.096,USD,2017-07-01\n",
    )
    .unwrap();
    std::fs::write(&bad, "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\nx,a,Azure Stack,u,1,USD,2026-10-01\n")
        .unwrap();
    std::fs::write(&map, "Local Meter ID,Commerce Meter ID,Factor\n09F8879E-87E9-4305-A572-4B7BE209F857,d46f21e1-527d-5562-b071-8da7069bec9b,1\n")
        .unwrap();
    let partner = m.partner.to_string();

    let imported = stackbill(&pool, &["prices", "import", prices.to_str().unwrap()]);
    let refused = stackbill(&pool, &["prices", "import", bad.to_str().unwrap()]);
    let mapped = stackbill(&pool, &["meters", "import", map.to_str().unwrap()]);
    let export = stackbill(
        &pool,
        &["bills", "export", "--partner", &partner, "--period", "2026-10", "--customer", &m.b.to_string()],
    );
    let unknown =
        stackbill(&pool, &["bills", "export", "--partner", &Uuid::new_v4().to_string(), "--period", "2026-10"]);
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        String::from_utf8_lossy(&imported.stdout)
            .contains("1 added, 0 changed, 0 unchanged, 1 row of other regions left out"),
        "not \"1 rows\""
    );
    assert!(!refused.status.success() && stderr(&refused).contains("line 2, Meter ID"), "{}", stderr(&refused));
    assert!(mapped.status.success(), "{}", stderr(&mapped));
    let csv = String::from_utf8(export.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], app::bills::csv::HEADER);
    // Re-rated: storage now 100 × 1 × 0.012 = 1.20 (factor and price both changed from 16 October's view).
    let storage: Vec<&str> = lines.iter().find(|l| l.contains("Blob Storage")).unwrap().split(',').collect();
    assert_eq!((storage[9], storage[10], storage[12]), ("100", "0.012", "1.20"), "{csv}");
    assert!(!unknown.status.success() && stderr(&unknown).contains("--partner"), "{}", stderr(&unknown));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn month_end_close_lists_and_finalises_bills_from_the_command_line(pool: PgPool) {
    let m = crate::bills::month(pool.clone()).await;
    let (partner, b, default) = (m.partner.to_string(), m.b.to_string(), m.default.to_string());
    let this_month = app::domain::Period::of(app::domain::clock::now()).to_string();
    fn month<'a>(partner: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        [&["--partner", partner, "--period", "2026-10"][..], extra].concat()
    }

    let listed = stackbill(&pool, &[&["bills", "list"][..], &month(&partner, &[])].concat());
    let one = stackbill(&pool, &[&["bills", "finalise"][..], &month(&partner, &["--customer", &b])].concat());
    let again = stackbill(&pool, &[&["bills", "finalise"][..], &month(&partner, &["--customer", &b])].concat());
    let early = stackbill(
        &pool,
        &["bills", "finalise", "--partner", &partner, "--period", &this_month, "--customer", &default],
    );
    let rest = stackbill(&pool, &[&["bills", "finalise"][..], &month(&partner, &[])].concat());
    let after = stackbill(&pool, &[&["bills", "list"][..], &month(&partner, &[])].concat());

    let listed = String::from_utf8(listed.stdout).unwrap();
    let row = |text: &str, sub: &str| text.lines().find(|l| l.contains(sub)).unwrap_or_default().to_string();
    assert_eq!(listed.lines().count(), 5, "a header and four bills: {listed}");
    assert!(row(&listed, &b).contains("\topen\t0.32\t0.35\tUSD\t"), "{listed}");
    assert!(row(&listed, &default).contains("fell through"), "the default bill warns: {listed}");
    assert!(one.status.success(), "{}", stderr(&one));
    assert!(String::from_utf8_lossy(&one.stdout).contains("finalised 2026-10"));
    assert!(!again.status.success() && stderr(&again).contains("already final"), "{}", stderr(&again));
    assert!(!early.status.success() && stderr(&early).contains("has not ended yet"), "{}", stderr(&early));
    assert!(rest.status.success(), "{}", stderr(&rest));
    let after = String::from_utf8(after.stdout).unwrap();
    assert_eq!(after.lines().skip(1).filter(|l| l.contains("\tfinal\t")).count(), 4, "{after}");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_events where action = 'bill.finalise'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audited, 4, "each bill once, the refusals not at all");
}
