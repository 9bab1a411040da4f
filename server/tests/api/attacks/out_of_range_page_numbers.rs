//! Page numbers and periods out of range are refused with a message, never a panic or an overflow.
use sqlx::PgPool;

use crate::helpers::{partner_tenant, seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn huge_page_numbers_and_far_periods_are_refused_by_name(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    for (path, named) in [
        ("/audit?page=9223372036854775807", "page: give a number"),
        ("/audit?page=-5", "page: give a number"),
        ("/bills?period=9999-12", "period:"),
        ("/dashboard?month=0000-01", "period:"),
        ("/usage?from=9999-12-31&to=9999-12-31", "Usage"),
    ] {
        let res = app.get(path).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(!status.is_server_error(), "{path}: {status}");
        assert!(body.contains(named), "{path}: {body}");
    }
}
