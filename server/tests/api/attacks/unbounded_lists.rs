//! A partner with a great many stacks or customers, or an address with an absurd page or period, must not make one
//! request read without bound: every list is read a page at a time, and page numbers and periods out of range are
//! refused by name with a 4xx, never a 5xx, a panic or an overflow.
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn long_lists_come_a_page_at_a_time(pool: PgPool) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "stack-000").await;
    sqlx::query(
        "insert into stacks (partner_id, name, cloud_id, region)
         select $1, 'stack-' || lpad(n::text, 3, '0'), gen_random_uuid(), 'r' from generate_series(1, 149) n",
    )
    .bind(partner)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into commerce_subscriptions
         select gen_random_uuid(), 'CSP', $1, gen_random_uuid(), 'Customer ' || lpad(n::text, 3, '0'), 'active'
         from generate_series(1, 60) n",
    )
    .bind(partner)
    .execute(&pool)
    .await
    .unwrap();
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let first = app.page("/").await;
    let second = app.page("/?page=2").await;
    let customers = app.page("/customers").await;
    let more_customers = app.page("/customers?page=2").await;

    assert!(first.contains("stack-099") && !first.contains("stack-100"), "100 stacks on the first page");
    assert!(first.contains("?page=2") && first.contains("Next"), "a link to the next page (pages count from 1)");
    assert!(second.contains("stack-100") && second.contains("stack-149") && !second.contains("stack-099"));
    assert!(customers.contains("Customer 050") && !customers.contains("Customer 051"), "50 customers a page");
    assert!(more_customers.contains("Customer 060") && !more_customers.contains("Customer 050"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn absurd_pages_and_periods_are_refused_by_name(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let huge = i64::MAX;

    for (path, says) in [
        (format!("/?page={huge}"), "page: give a page number"),
        ("/?partners_page=-1".to_string(), "partners_page: give a page number"),
        (format!("/customers?page={huge}"), "page: give a page number"),
        ("/customers?page=0".to_string(), "page: give a page number from 1 to 10000"),
        (format!("/bills?page={huge}"), "page: give a page number"),
        (format!("/audit?page={huge}"), "page: give a page number"),
        (format!("/stacks/{cloud}?mappings_page={huge}"), "mappings_page: give a page number"),
        (format!("/stacks/{cloud}?subs_page=10001"), "subs_page: give a page number"),
        ("/bills?period=9999-12".to_string(), "period"),
        ("/dashboard?month=9999-12".to_string(), "month"),
        ("/usage?from=2026-01-01&to=2026-06-30&group=resource".to_string(), "at most 92 days"),
        ("/usage?from=2020-01-01&to=2026-06-30".to_string(), "at most 366 days"),
    ] {
        let res = app.get(&path).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(status.is_client_error(), "{path}: {status}: {}", body.chars().take(600).collect::<String>());
        assert!(body.contains(says), "{path}: expected “{says}”");
    }
    let export = app.get("/exports/usage?from=2026-01-01&to=2026-06-30&group=resource").await;
    assert_eq!(export.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
