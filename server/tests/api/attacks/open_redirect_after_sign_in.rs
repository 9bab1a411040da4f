//! A sign-in link whose `next` points elsewhere must land the user on the portal, not on the attacker's site.
use reqwest::header::LOCATION;
use sqlx::PgPool;

use crate::helpers::{partner_tenant, seed_partner, spawn_app, spec};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn next_targets_off_the_portal_land_on_the_home_page(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;

    for next in
        ["/%09/evil.example", "/%0a/evil.example", "/%5Cevil.example", "//evil.example", "https://evil.example/"]
    {
        let login = app.get(&format!("/auth/login?next={next}")).await;
        let location = url::Url::parse(login.headers()[LOCATION].to_str().unwrap()).unwrap();
        let state = location.query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string();
        let auth = app.start_sign_in_from(location);
        app.idp.will_issue(spec(&auth, "adele", Some(tenant), &["Partner.Admin"]));

        let back = app.callback(&state).await;

        assert_eq!(back.headers()[LOCATION].to_str().unwrap(), "/", "next={next} must not leave the portal");
    }
    let login = app.get("/auth/login?next=/bills%3Fperiod%3D2026-10").await;
    let location = url::Url::parse(login.headers()[LOCATION].to_str().unwrap()).unwrap();
    let state = location.query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string();
    app.idp.will_issue(spec(&app.start_sign_in_from(location), "adele", Some(tenant), &["Partner.Admin"]));
    let back = app.callback(&state).await;
    assert_eq!(back.headers()[LOCATION].to_str().unwrap(), "/bills?period=2026-10", "a local path is kept");
}
