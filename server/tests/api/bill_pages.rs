//! Bills over HTTP: the pages and CSVs of a partner's bills, for that partner and nobody else.
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::bills::{month, M1, M2};
use crate::helpers::{partner_tenant, seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn bills_are_pages_and_csv_for_their_partner_and_nobody_else(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;

    let page = app.page(&format!("/bills/2026-10/{}", m.b)).await;
    let list = app.page("/bills?period=2026-10").await;
    let csv = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await.text().await.unwrap();
    let all = app.get(&format!("/exports/bills/2026-10?partner={}", m.partner)).await.text().await.unwrap();

    assert!(page.contains("0.32 USD") && page.contains("0.35 USD"), "total cost and customer price are shown");
    assert!(list.contains("Total") && list.contains("0.59 USD"), "0.08 + 0.10 + 0.32 + 0.09 = 0.59: {list}");
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), app::bills::csv::HEADER);
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[5], M1);
    assert_eq!(
        (row[9], row[10], row[11], row[12], row[13], row[14], row[15]),
        ("3.3333", "0.008", "0.0266664", "0.02", "0.02", "0.00", "USD")
    );
    assert_eq!((row[16], row[17], row[18]), ("2026-10-01", "2026-10-31", "usage"));
    assert_eq!(csv.lines().count(), 3);
    assert_eq!(all.lines().count(), 1 + 1 + 1 + 2 + 1, "header and every line of the four bills");
    assert!(all.contains(M2));

    app.sign_in("farah", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    let theirs = app.get(&format!("/bills/2026-10/{}", m.b)).await;
    let their_csv = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await;
    let their_all = app.get(&format!("/exports/bills/2026-10?partner={}", m.partner)).await;
    let finalise = app
        .client
        .post(app.url(&format!("/bills/2026-10/{}/finalise", m.b)))
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    let own_list = app.page("/bills?period=2026-10").await;

    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(their_csv.status(), StatusCode::NOT_FOUND);
    assert_eq!(their_all.status(), StatusCode::NOT_FOUND);
    assert_eq!(finalise.status(), StatusCode::NOT_FOUND);
    assert!(
        !own_list.contains(&m.b.to_string()) && !own_list.contains("0.32"),
        "nothing of Contoso in Fabrikam's list"
    );
    let status: Option<String> =
        sqlx::query_scalar("select status from bills").fetch_optional(&app.pool).await.unwrap();
    assert_eq!(status, None);
}
