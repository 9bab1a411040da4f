//! The demo data set.
use std::collections::HashMap;

use sqlx::PgPool;

async fn counts(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "partners",
        "commerce_subscriptions",
        "stacks",
        "registrations",
        "tenant_mappings",
        "local_subscriptions",
        "local_meters",
        "meter_map",
        "price_list_entries",
        "usage_records",
        "audit_events",
    ] {
        out.push(sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(pool).await.unwrap());
    }
    out
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn loading_the_demo_twice_changes_nothing(pool: PgPool) {
    let first = server::demo::load(&pool).await.unwrap();
    let after_first = counts(&pool).await;

    let second = server::demo::load(&pool).await.unwrap();

    assert!(first.created_configuration && first.usage_records > 50_000, "{first}");
    assert!(!second.created_configuration);
    assert_eq!(second.usage_records, 0);
    assert_eq!(counts(&pool).await, after_first);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_demo_covers_what_the_product_shows(pool: PgPool) {
    server::demo::load(&pool).await.unwrap();
    let offers: Vec<String> = sqlx::query_scalar("select distinct offer_type from commerce_subscriptions order by 1")
        .fetch_all(&pool)
        .await
        .unwrap();
    let closed: i64 = sqlx::query_scalar("select count(*) from tenant_mappings where valid_to is not null")
        .fetch_one(&pool)
        .await
        .unwrap();
    let days: i64 = sqlx::query_scalar("select count(distinct date_trunc('day', usage_start)) from usage_records")
        .fetch_one(&pool)
        .await
        .unwrap();
    let only_azure_stack: bool =
        sqlx::query_scalar("select bool_and(region like 'Azure Stack%') from price_list_entries")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(offers.contains(&"APSS".into()) && offers.contains(&"CSP".into()) && offers.contains(&"EA".into()));
    assert!(closed >= 2, "a replaced and a removed mapping");
    assert_eq!(days, 60);
    assert!(only_azure_stack, "the EU West row of the sample price list is skipped");
}

#[test]
fn demo_sign_ins_match_the_demo_partners() {
    let users: HashMap<String, serde_json::Value> =
        serde_json::from_str(include_str!("../../../end2end/idp/users.json")).unwrap();
    let tid = |login: &str| users[login]["tid"].as_str().unwrap().to_string();
    assert_eq!(tid("admin@contoso.test"), server::demo::CONTOSO.tenant);
    assert_eq!(tid("reader@contoso.test"), server::demo::CONTOSO.tenant);
    assert_eq!(tid("admin@fabrikam.test"), server::demo::FABRIKAM.tenant);
    assert_ne!(tid("nobody@example.test"), server::demo::CONTOSO.tenant);
    assert_ne!(tid("nobody@example.test"), server::demo::FABRIKAM.tenant);
}
