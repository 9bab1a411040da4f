//! A customer name (from the directory upload) or a meter name (from a price list) that a spreadsheet would run as a
//! formula is neutralised in every CSV export; numbers, negative ones included, stay numbers.
use sqlx::PgPool;

use crate::bills::month;
use crate::helpers::{partner_tenant, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_formula_in_a_name_is_written_as_text(pool: PgPool) {
    let m = month(pool.clone()).await;
    sqlx::query("update commerce_subscriptions set customer_name = '=HYPERLINK(\"http://evil.example\",\"open\")' where subscription_id = $1")
        .bind(m.b)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("update price_list_entries set meter_name = '@SUM(1+1)*cmd|calc' where meter_name = 'Blob Storage'")
        .execute(&pool)
        .await
        .unwrap();
    let tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let bill = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await.text().await.unwrap();
    let usage = app.get("/exports/usage?from=2026-10-01&to=2026-10-31&group=meter").await.text().await.unwrap();

    assert!(bill.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"open\"\")\","), "{bill}");
    assert!(bill.contains(",'@SUM(1+1)*cmd|calc,"), "{bill}");
    assert!(!bill.lines().skip(1).any(|l| l.split(',').any(|c| c.starts_with('=') || c.starts_with('@'))), "{bill}");
    assert!(!usage.lines().any(|l| l.starts_with('=') || l.contains(",=")), "{usage}");
}
