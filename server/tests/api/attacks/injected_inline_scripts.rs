//! Should anything ever slip a `<script>` or an `onclick=` into a page, the browser must refuse to run it: the
//! Content-Security-Policy allows inline scripts only with the nonce of that one response (Leptos' hydration script
//! carries it), never `'unsafe-inline'`, and no development websocket outside development.
use sqlx::PgPool;

use crate::helpers::{seed_partner, spawn_app};

fn script_src(policy: &str) -> String {
    policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_default().to_string()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_allow_inline_scripts_only_with_their_own_nonce(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let mut nonces = Vec::new();
    for path in ["/", "/", "/bills", "/no-access"] {
        let res = app.get(path).await;
        let policy = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        let html = res.text().await.unwrap();
        let src = script_src(&policy);
        assert!(!src.contains("unsafe-inline") && !policy.contains("ws://"), "{path}: {policy}");
        let nonce = src.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce").to_string();
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{path}: the hydration script carries the nonce");
        assert!(!html.contains(" onclick="), "{path}: no inline event handlers");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a new nonce for every response");

    let other = app.get("/healthz").await;
    let policy = other.headers()["content-security-policy"].to_str().unwrap();
    assert!(!script_src(policy).contains("unsafe-inline") && !script_src(policy).contains("nonce"), "{policy}");
}
