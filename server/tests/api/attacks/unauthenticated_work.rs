//! Strangers must not make the server work: the ingest API checks the key before it reads (or inflates) a byte of
//! the body, every route has a body limit (small for forms), refused ingests after the key check are audited, and
//! the database ends runaway statements and abandoned transactions.
use std::io::Write as _;
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{seed_partner, spawn_app, TestApp};
use crate::ingest::stack_with_key;

/// Sends the head of a POST declaring `length` bytes and only the first few of them, then reads the answer's status
/// line; `None` if no answer came within 10 seconds (the server is waiting for the body).
async fn post_and_stall(app: &TestApp, path: &str, key: &str, length: usize) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{\"value\":["
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await.ok()?.unwrap();
    Some(String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or_default().to_string())
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_stranger_is_refused_before_the_body_is_read(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let path = format!("/api/v1/stacks/{cloud}/usage");

    let stranger = post_and_stall(&app, &path, "sbk_wrong_key", 1_000_000).await;
    let too_long = post_and_stall(&app, &path, &key, 100_000_000).await;

    assert_eq!(stranger.as_deref(), Some("HTTP/1.1 401 Unauthorized"), "the key is checked first");
    assert_eq!(too_long.as_deref(), Some("HTTP/1.1 413 Payload Too Large"), "a declared length over the limit");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn refused_ingests_are_audited_a_gzip_bomb_included(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let url = app.url(&format!("/api/v1/stacks/{cloud}/usage"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 20 * 1024 * 1024]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 100 * 1024, "20 MiB inflated from {} bytes", bomb.len());

    let inflated = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    let wrong_type = app.client.post(&url).bearer_auth(&key).body("{}").send().await.unwrap();

    assert_eq!(inflated.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(inflated.text().await.unwrap().contains("larger than 16 MiB"));
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let audited: Vec<i32> = sqlx::query_scalar(
        "select (after->>'status')::int from audit_events where action = 'ingest.refused' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, [413, 415]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_form_post_larger_than_a_form_is_refused_and_changes_nothing(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud: uuid::Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;

    let huge = app
        .client
        .post(app.url(&format!("/stacks/{cloud}/rename")))
        .header("origin", &app.base)
        .form(&[("name", "x".repeat(1024 * 1024))])
        .send()
        .await
        .unwrap();

    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let name: String = sqlx::query_scalar("select name from stacks").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "ams-01");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_portals_connections_end_runaway_statements_and_abandoned_transactions(pool: PgPool) {
    let options = server::database::with_deadlines((*pool.connect_options()).clone());
    let mut conn: sqlx::PgConnection = sqlx::Connection::connect_with(&options).await.unwrap();

    let statement: String = sqlx::query_scalar("show statement_timeout").fetch_one(&mut conn).await.unwrap();
    let idle: String =
        sqlx::query_scalar("show idle_in_transaction_session_timeout").fetch_one(&mut conn).await.unwrap();

    assert_eq!((statement.as_str(), idle.as_str()), ("5min", "1min"));
}
