//! A partner probing another's subscriptions or stacks through the forms learns nothing from the refusals: another
//! partner's subscription, whatever its type or status, is refused exactly like one that does not exist, and another
//! partner's cloud ID "cannot be added" without saying that it exists; the operator sees the conflict.
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{directory_subscription, seed_partner, spawn_app};

fn flash(page: &str) -> String {
    let at = page.find("role=\"alert\"").expect("a refusal on the page");
    let text = &page[at..];
    text[text.find('>').unwrap() + 1..text.find("</").unwrap()].to_string()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn another_partners_subscriptions_and_stacks_are_refused_like_unknown_ones(pool: PgPool) {
    let (contoso, contoso_tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let cloud: Uuid =
        sqlx::query_scalar("select cloud_id from stacks where name = 'ams-01'").fetch_one(&pool).await.unwrap();
    let theirs_cloud: Uuid =
        sqlx::query_scalar("select cloud_id from stacks where name = 'sea-01'").fetch_one(&pool).await.unwrap();
    let own_default = directory_subscription(&pool, contoso, Uuid::new_v4(), "APSS").await;
    let customer = Uuid::new_v4();
    let their_ea = directory_subscription(&pool, fabrikam, customer, "EA").await;
    let their_suspended = directory_subscription(&pool, fabrikam, customer, "CSP").await;
    sqlx::query("update commerce_subscriptions set status = 'suspended' where subscription_id = $1")
        .bind(their_suspended)
        .execute(&pool)
        .await
        .unwrap();
    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            app.client.post(app.url(&path)).header("origin", &app.base).form(&form).send().await.unwrap();
            app.page(&format!("/stacks/{cloud}")).await
        }
    };
    post(
        format!("/stacks/{cloud}/registration"),
        vec![("default_subscription", own_default.to_string()), ("billing_model", "PayAsYouUse".into())],
    )
    .await;

    let mut refusals = Vec::new();
    for sub in [their_ea, their_suspended, Uuid::new_v4()] {
        let form = vec![("subscription_id", sub.to_string()), ("tenant", customer.to_string())];
        let page = post(format!("/stacks/{cloud}/mappings"), form).await;
        refusals.push(flash(&page).replace(&sub.to_string(), "SUB"));
    }
    let form = [("name", "probe".to_string()), ("cloud_id", theirs_cloud.to_string())];
    app.client.post(app.url("/stacks")).header("origin", &app.base).form(&form).send().await.unwrap();
    let home = app.page("/").await;
    let contoso_audit = app.page("/audit").await;

    assert!(refusals[0].contains("not found in your commerce directory"), "{refusals:?}");
    assert!(refusals.iter().all(|r| *r == refusals[0]), "one answer for theirs and unknown: {refusals:?}");
    assert!(!refusals[0].contains("EA") && !refusals[0].contains("suspended"));
    assert!(home.contains("cannot be added; if this stack is yours, contact the operator"), "{home}");
    assert!(!home.contains("Fabrikam") && !home.contains("already registered"));
    assert!(!contoso_audit.contains("stack.conflict"), "partners do not see the conflict");
    let seen_by_operator: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'stack.conflict' and partner_id is null")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(seen_by_operator, 1, "the operator sees the conflict");
    let stacks: i64 = sqlx::query_scalar("select count(*) from stacks").fetch_one(&pool).await.unwrap();
    assert_eq!(stacks, 2, "nothing added");
}
