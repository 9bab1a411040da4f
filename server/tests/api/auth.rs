//! Sign-in through OpenID Connect, against the fake provider.
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_partner, spawn_app, spec, TestApp};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_authorize_request_carries_pkce_state_nonce_and_our_client(pool: PgPool) {
    let app = spawn_app(pool).await;
    let auth = app.start_sign_in().await;
    assert_eq!(auth.params["response_type"], "code");
    assert_eq!(auth.params["client_id"], crate::fake_idp::CLIENT_ID);
    assert_eq!(auth.params["code_challenge_method"], "S256");
    assert_eq!(auth.params["redirect_uri"], app.url("/auth/callback"));
    assert!(auth.params["scope"].split(' ').any(|s| s == "openid"));
    assert!(auth.state.len() >= 16 && auth.nonce.len() >= 16);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_partner_admin_signs_in_and_sees_their_partner_and_stacks(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    seed_partner(&pool, "Fabrikam", "sea-01").await;
    let app = spawn_app(pool).await;

    let res = app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/");
    let home = app.page("/").await;
    assert!(home.contains("User adele"), "{home}");
    assert!(home.contains("Partner admin"));
    assert!(home.contains("ams-01"));
    assert!(!home.contains("sea-01"), "another partner's stack leaked into the page");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signing_in_replaces_the_session_cookie(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let before = TestApp::session_cookie(app.get("/auth/login").await.headers()).expect("a session before sign-in");
    let auth = app.start_sign_in().await;
    app.idp.will_issue(spec(&auth, "adele", Some(tenant), &["Partner.Admin"]));

    let res = app.callback(&auth.state).await;

    let after = TestApp::session_cookie(res.headers()).expect("a new session cookie at sign-in");
    assert_ne!(before, after);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_forged_state_is_refused(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let auth = app.start_sign_in().await;
    app.idp.will_issue(spec(&auth, "adele", Some(tenant), &["Partner.Admin"]));

    let res = app.callback("forged-state").await;

    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("state mismatch"));
    assert!(!app.page("/").await.contains("User adele"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_forged_nonce_is_refused(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let auth = app.start_sign_in().await;
    let mut forged = spec(&auth, "adele", Some(tenant), &["Partner.Admin"]);
    forged.nonce = "a-nonce-from-another-sign-in".into();
    app.idp.will_issue(forged);

    let res = app.callback(&auth.state).await;

    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(!app.page("/").await.contains("User adele"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_token_for_another_client_is_refused(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let auth = app.start_sign_in().await;
    let mut forged = spec(&auth, "adele", Some(tenant), &["Partner.Admin"]);
    forged.audience = "some-other-app".into();
    app.idp.will_issue(forged);

    assert_eq!(app.callback(&auth.state).await.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_callback_cannot_be_replayed(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    let auth = app.start_sign_in().await;
    app.idp.will_issue(spec(&auth, "adele", Some(tenant), &["Partner.Admin"]));
    assert_eq!(app.callback(&auth.state).await.status(), StatusCode::SEE_OTHER);

    let replay = app.callback(&auth.state).await;

    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("No sign-in is in progress"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_user_matching_no_partner_gets_no_access_and_no_data(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;

    let res = app.sign_in("nora", Some(Uuid::new_v4()), &["Partner.Admin"]).await;

    assert_eq!(res.headers()[LOCATION], "/no-access");
    let home = app.page("/").await;
    assert!(home.contains("No access"));
    assert!(!home.contains("ams-01") && !home.contains("Contoso"), "{home}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn signing_out_ends_the_session(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Reader"]).await;
    assert!(app.page("/").await.contains("User adele"));

    let res = app.post("/auth/logout", Some(&app.base.clone())).await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!app.page("/").await.contains("User adele"));
    let sessions: i64 =
        sqlx::query_scalar("select count(*) from tower_sessions.session").fetch_one(&app.pool).await.unwrap();
    assert_eq!(sessions, 0, "the session row is deleted, not just forgotten by the browser");
}
