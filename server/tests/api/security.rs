//! Forgery protection and headers.
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_cross_site_post_is_refused_and_changes_nothing(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let forged = app.post("/auth/logout", Some("https://evil.example")).await;
    let no_origin = app.post("/auth/logout", None).await;

    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);
    assert!(app.page("/").await.contains("User adele"), "still signed in");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_carry_security_headers_and_a_lax_http_only_cookie(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.get("/auth/login").await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_ascii_lowercase();
    assert!(cookie.contains("httponly") && cookie.contains("samesite=lax"), "{cookie}");

    let page = app.get("/").await;

    let h = page.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_unknown_page_is_a_404(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signed_out_visitors_are_offered_sign_in_and_see_no_data(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let home = app.page("/").await;
    assert!(home.contains("/auth/login"));
    assert!(!home.contains("ams-01"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_are_compressed_and_never_kept_in_a_cache(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let fetch = |encoding: &'static str| app.client.get(app.url("/")).header("accept-encoding", encoding).send();

    let br = fetch("br, gzip").await.unwrap();
    let gzip = fetch("gzip").await.unwrap();
    let plain = fetch("identity").await.unwrap();

    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(br.headers()["cache-control"], "no-store", "a partner's page is never stored");
    let missing = app.get("/pkg/stackbill.notbuilt.wasm").await;
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["cache-control"], "no-store", "a missing asset is the not-found page: never kept");
    let (compressed, whole) = (br.bytes().await.unwrap().len(), plain.text().await.unwrap());
    assert!(whole.contains("ams-01"), "the signed-in page");
    assert!(compressed * 2 < whole.len(), "{compressed} bytes for {} of HTML", whole.len());
}
