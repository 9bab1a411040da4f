//! Every list sorts by its columns: the order is in the address (so it works without JavaScript), a heading links
//! to its own order, and on a page with several lists each keeps its own.
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_partner, spawn_app};

/// Whether `first` appears before `then` on the page (both must appear).
fn before(page: &str, first: &str, then: &str) -> bool {
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} not on the page: {page}"));
    at(first) < at(then)
}

async fn customer(pool: &PgPool, partner: Uuid, name: &str, subscriptions: usize) {
    let tenant = Uuid::new_v4();
    for _ in 0..subscriptions {
        sqlx::query("insert into commerce_subscriptions values ($1, 'CSP', $2, $3, $4, 'active')")
            .bind(Uuid::new_v4())
            .bind(partner)
            .bind(tenant)
            .bind(name)
            .execute(pool)
            .await
            .unwrap();
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn customers_audit_stacks_and_the_operators_lists_sort_by_their_columns(pool: PgPool) {
    let (contoso, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    seed_partner(&pool, "Fabrikam", "sea-01").await;
    for (name, subscriptions) in [("Bravo Bikes", 3), ("Alpha Air", 1), ("Charlie Cars", 2)] {
        customer(&pool, contoso, name, subscriptions).await;
    }
    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let by_name = app.page("/customers").await;
    assert!(before(&by_name, "Alpha Air", "Bravo Bikes") && before(&by_name, "Bravo Bikes", "Charlie Cars"));
    let z_to_a = app.page("/customers?sort=customer&desc=1").await;
    assert!(before(&z_to_a, "Charlie Cars", "Bravo Bikes") && before(&z_to_a, "Bravo Bikes", "Alpha Air"));
    assert!(z_to_a.contains(r#"aria-sort="descending""#), "the heading says the order in force");
    assert!(by_name.contains(r#"href="/customers?sort=subscriptions""#), "a heading links to its own order");
    let most = app.page("/customers?sort=subscriptions&desc=1").await;
    assert!(before(&most, "Bravo Bikes", "Charlie Cars") && before(&most, "Charlie Cars", "Alpha Air"));

    // The audit log: newest first, or oldest first, chosen in its filter form.
    for name in ["zulu-01", "alpha-01"] {
        let form = [("name", name.to_string()), ("cloud_id", Uuid::new_v4().to_string())];
        app.client.post(app.url("/stacks")).header("origin", &app.base).form(&form).send().await.unwrap();
    }
    assert!(before(&app.page("/audit").await, "the stack alpha-01", "the stack zulu-01"));
    let oldest = app.page("/audit?sort=oldest").await;
    assert!(before(&oldest, "the stack zulu-01", "the stack alpha-01"));
    assert!(oldest.contains(r#"<option value="oldest" selected"#), "the form shows the order in force");

    // The stacks list, by name either way.
    assert!(before(&app.page("/?sort=stack").await, "alpha-01", "zulu-01"));
    assert!(before(&app.page("/?sort=stack&desc=1").await, "zulu-01", "alpha-01"));

    // The operator's page: each list has its own order and keeps it when another is sorted.
    app.sign_in("olivia", None, &["Operator"]).await;
    let page =
        app.page("/operator?partners_sort=partner&partners_desc=1&directory_sort=customer&directory_desc=1").await;
    assert!(before(&page, "Fabrikam", "Contoso"), "partners Z to A");
    assert!(before(&page, "Charlie Cars", "Alpha Air"), "the directory Z to A");
    assert!(
        page.contains("href=\"/operator?partners_sort=partner&amp;partners_desc=1&amp;directory_sort=offer\""),
        "sorting the directory keeps the partners' order: {page}"
    );
    let page = app.page("/operator?partners_sort=stacks").await;
    assert!(before(&page, "Alpha Air", "Charlie Cars"), "the directory by name while the partners are sorted");
}
