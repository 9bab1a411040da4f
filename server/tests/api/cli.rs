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
