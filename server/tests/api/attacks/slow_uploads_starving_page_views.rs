//! A partner user (or a stolen session) starts uploads and never finishes sending them. Each must hold nothing but
//! its own request: the files are spooled before a database connection or transaction is taken, so page views of
//! everyone else still get a connection.
use std::time::Duration;

use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{seed_partner, spawn_app, TestApp};

/// Starts an upload, waits until the server reads its body (`100 Continue`), sends part of a file and stalls; or,
/// when the server turns the upload away before reading it, its answer's status line.
async fn stalled_upload(app: &TestApp, cloud: uuid::Uuid, cookie: &str) -> Result<TcpStream, String> {
    let host = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /stacks/{cloud}/usage/upload HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    if !answer.starts_with("HTTP/1.1 100 Continue") {
        return Err(answer.lines().next().unwrap_or_default().to_string());
    }
    let part = "--XYZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"usage.csv\"\r\n\r\nSubscriptionId,";
    stream.write_all(part.as_bytes()).await.unwrap();
    Ok(stream)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn uploads_that_never_finish_leave_connections_for_page_views(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud: uuid::Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    let signed_in = app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    let cookie = TestApp::session_cookie(signed_in.headers()).unwrap();

    // More stalled uploads than the server's pool has connections (8): 4 are received at once, the rest turned away.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        stalled.push(stalled_upload(&app, cloud, &cookie).await);
    }
    let home = tokio::time::timeout(Duration::from_secs(10), app.page("/")).await;
    let receiving = stalled.iter().filter(|s| s.is_ok()).count();
    let turned_away: Vec<&String> = stalled.iter().filter_map(|s| s.as_ref().err()).collect();
    assert_eq!(receiving, 4, "uploads received at once (their spool files are bounded)");
    assert!(turned_away.iter().all(|s| s.starts_with("HTTP/1.1 303")), "{turned_away:?}");

    assert!(home.expect("a page view waited for a connection held by a stalled upload").contains("ams-01"));
    let waiting: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity where datname = current_database() and state = 'idle in transaction'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(waiting, 0, "a transaction waits on an upload's body");
    drop(stalled);
}
