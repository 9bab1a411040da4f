//! The operator page: directory upload (all or nothing, errors by line and column), status changes, partners.
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_partner, spawn_app, TestApp};

async fn upload(app: &TestApp, text: String) -> reqwest::Response {
    let form = Form::new().part("file", Part::text(text).file_name("directory.csv"));
    app.client
        .post(app.url("/operator/directory/import"))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_operator_uploads_a_directory_and_a_bad_row_stores_nothing(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("olivia", None, &["Operator"]).await;
    let header = "SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status";
    let (good, t) = (Uuid::new_v4(), Uuid::new_v4());

    let bad = upload(
        &app,
        format!("{header}\n{good},CSP,{partner},{t},Northwind,active\nnot-a-guid,CSP,{partner},{t},X,active\n"),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::SEE_OTHER);
    let page = app.page("/operator").await;
    assert!(page.contains("line 3, SubscriptionId") && page.contains("not-a-guid"), "{page}");
    let count: i64 =
        sqlx::query_scalar("select count(*) from commerce_subscriptions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);

    upload(&app, format!("{header}\n{good},CSPSS,{partner},{t},Northwind,active\n")).await;
    let page = app.page("/operator").await;
    assert!(page.contains("1 added") && page.contains(&good.to_string()) && page.contains("APSS"), "{page}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_partner_admin_cannot_use_the_operator_forms(pool: PgPool) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let upload = upload(&app, format!("SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status\n{},CSP,{partner},{},N,active\n", Uuid::new_v4(), Uuid::new_v4())).await;
    let page = app.get("/operator").await.text().await.unwrap();

    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    assert!(page.contains("Your role does not allow this") && !page.contains("Add a partner"));
    let count: i64 =
        sqlx::query_scalar("select count(*) from commerce_subscriptions").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_operator_adds_a_partner_and_a_duplicate_is_refused_by_name(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.sign_in("olivia", None, &["Operator"]).await;
    let (id, tenant) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    let form = [
        ("name", "Tailwind"),
        ("partner_id", id.as_str()),
        ("mpn_id", "12345"),
        ("tenant", tenant.as_str()),
        ("currency", "EUR"),
    ];
    let post = || app.client.post(app.url("/operator/partners")).header("origin", &app.base).form(&form).send();

    post().await.unwrap();
    assert!(app.page("/operator").await.contains("Partner Tailwind added."));
    post().await.unwrap();

    assert!(app.page("/operator").await.contains("already used by partner “Tailwind”"));
    let n: i64 = sqlx::query_scalar("select count(*) from partners").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_operator_link_is_for_operators_and_the_page_answers_403_to_others(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;

    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let partners_home = app.page("/").await;
    let partners_visit = app.get("/operator").await;
    app.sign_in("olga", None, &["Operator"]).await;
    let operators_home = app.page("/").await;

    assert!(!partners_home.contains("href=\"/operator\""), "no Operator link for a partner admin");
    assert_eq!(partners_visit.status(), StatusCode::FORBIDDEN);
    assert!(operators_home.contains("href=\"/operator\""), "the operator has the link");
}
