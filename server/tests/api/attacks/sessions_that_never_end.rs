//! Sessions end, and only users make them: an anonymous visitor leaves no session row behind (a pending sign-in
//! lives minutes), a session ends after its absolute lifetime however busy it is, and a role changed at the identity
//! provider is the one that counts from the next sign-in.
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{seed_partner, spawn_app, spawn_app_with, TestApp};

async fn session_rows(app: &TestApp) -> Vec<i64> {
    // Seconds from now until each row expires.
    sqlx::query_scalar("select extract(epoch from expiry_date - now())::bigint from tower_sessions.session")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn anonymous_visits_store_nothing_and_a_pending_sign_in_expires_within_minutes(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;

    for path in ["/", "/bills", "/usage", "/no-access", "/healthz", "/stacks/not-a-stack"] {
        app.get(path).await;
    }
    assert!(session_rows(&app).await.is_empty(), "an anonymous page view wrote a session");

    let auth = app.start_sign_in().await;
    let pending = session_rows(&app).await;
    assert_eq!(pending.len(), 1);
    assert!(pending[0] <= 10 * 60, "a pending sign-in lives {} s", pending[0]);

    app.idp.will_issue(crate::helpers::spec(&auth, "adele", Some(tenant), &["Partner.Admin"]));
    app.callback(&auth.state).await;
    let signed_in = session_rows(&app).await;
    assert_eq!(signed_in.len(), 1, "the pending row became the signed-in one (a new ID)");
    assert!(signed_in[0] > 50 * 60, "signed in: the configured idle timeout (60 minutes in tests)");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_session_ends_at_its_absolute_lifetime_however_active(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app_with(pool, |s| s.session.max_hours = 0).await;

    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let home = app.page("/").await;

    assert!(!home.contains("User adele"), "a session past its lifetime still signed in");
    assert!(session_rows(&app).await.is_empty(), "the ended session's row is deleted");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_role_changed_at_the_provider_counts_from_the_next_sign_in(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud: uuid::Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    let rename = |name: &'static str| {
        app.client
            .post(app.url(&format!("/stacks/{cloud}/rename")))
            .header("origin", &app.base)
            .form(&[("name", name)])
            .send()
    };

    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    assert_eq!(rename("ams-02").await.unwrap().status(), StatusCode::SEE_OTHER);
    app.sign_in("adele", Some(tenant), &["Partner.Reader"]).await;
    let as_reader = rename("ams-03").await.unwrap();

    assert_eq!(as_reader.status(), StatusCode::FORBIDDEN);
    let name: String = sqlx::query_scalar("select name from stacks").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "ams-02");
}
