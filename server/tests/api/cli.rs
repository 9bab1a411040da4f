//! The `stackbill` binary: same rules and messages as the pages; refusals exit non-zero and name the rule.
use std::process::Output;

use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{database_url, directory_subscription, seed_partner};

fn stackbill(pool: &PgPool, args: &[&str]) -> Output {
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
    assert!(stdout.contains("good.json: 2 records: 2 new, 0 changed, 0 unchanged"), "{stdout}");
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
