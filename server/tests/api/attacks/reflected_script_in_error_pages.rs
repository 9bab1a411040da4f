//! A link that puts markup in a query parameter must not run it on the portal's origin: the error page escapes it
//! and echoes no more of the input than it needs to name it.
use sqlx::PgPool;

use crate::helpers::{partner_tenant, seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn markup_in_an_export_parameter_is_shown_as_text(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let attack = "%3Cimg%20src%3Dx%20onerror%3Dalert(document.cookie)%3E";

    let export = app.get(&format!("/exports/usage?from={attack}")).await;
    let status = export.status();
    let body = export.text().await.unwrap();
    let long = app.page(&format!("/exports/usage?group={}", "x".repeat(5000))).await;

    assert!(status.is_client_error(), "a 4xx, got {status}");
    assert!(!body.contains("<img"), "the tag is not echoed as markup: {body}");
    assert!(body.contains("&lt;img"), "it is shown as text: {body}");
    assert!(long.len() < 2000, "a long input is not echoed whole ({} bytes)", long.len());
}
