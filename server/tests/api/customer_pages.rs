//! The customers page: each customer once, with links to its usage and bills.
use sqlx::PgPool;
use uuid::Uuid;

/// Issue 10, item 8: the customers page lists a tenant once, even when the directory names its subscriptions
/// differently, and links each customer to its usage and each subscription to this month's bill.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_customers_page_lists_a_tenant_once_and_links_its_usage_and_bills(pool: PgPool) {
    let (partner, tenant) = crate::helpers::seed_partner(&pool, "Contoso", "ams-01").await;
    let (t1, t2) = (Uuid::new_v4(), Uuid::new_v4());
    let (alpha, mike, zulu) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    // By name: Alpha (t1), Mike (t2), Zulu (t1 again).
    for (sub, t, name) in [(alpha, t1, "Alpha Ltd"), (mike, t2, "Mike Co"), (zulu, t1, "Zulu (Alpha's other name)")] {
        sqlx::query("insert into commerce_subscriptions values ($1, 'CSP', $2, $3, $4, 'active')")
            .bind(sub)
            .bind(partner)
            .bind(t)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
    }
    let app = crate::helpers::spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let page = app.page("/customers").await;
    assert_eq!(page.matches(&format!(r#"<span title="{t1}" class="mono">"#)).count(), 1, "{page}");
    assert!(page.contains(&format!("/usage?customer={t1}")) && page.contains(&format!("/usage?customer={t2}")));
    let month = app::domain::Period::of(app::domain::clock::now());
    for sub in [alpha, mike, zulu] {
        assert!(page.contains(&format!(r#"href="/bills/{month}/{sub}""#)), "{sub}: {page}");
    }
}
