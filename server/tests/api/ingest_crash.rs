//! A `stackbill serve` process killed (SIGKILL) while pages are being ingested: every acknowledged page is stored
//! whole, and no page is stored in part.
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use sqlx::PgPool;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::helpers::database_url;
use crate::ingest::{page, record, stack_with_key};

/// Records per page; each page has its own local subscription so its records can be counted.
const PER_PAGE: u32 = 24 * 20;

fn serve(pool: &PgPool, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stackbill"))
        .arg("serve")
        .env("DATABASE_URL", database_url(pool))
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("STACKBILL_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("OIDC_ISSUER_URL", "http://127.0.0.1:9/unused")
        .env("OIDC_CLIENT_ID", "unused")
        .env("OIDC_CLIENT_SECRET", "unused")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn page_of(sub: Uuid) -> String {
    // 20 days × 24 hours: usage_start varies by day through the resource URI's VM name.
    let records: Vec<String> = (0..PER_PAGE)
        .map(|i| record(sub, i % 23, "1.5").replace("virtualMachines/vm1", &format!("virtualMachines/vm{}", i / 23)))
        .collect();
    page(&records)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_killed_server_keeps_every_acknowledged_page_and_no_half_page(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = serve(&pool, port);
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/v1/stacks/{cloud}/usage");
    // Wait until it answers (its start-up runs migrations); the loop ends on the first answer, not after a delay.
    loop {
        if client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::task::yield_now().await;
        assert!(child.try_wait().unwrap().is_none(), "stackbill serve exited early");
    }
    let acknowledged = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let sent = Arc::new(Mutex::new(Vec::<Uuid>::new()));
    let enough = Arc::new(Notify::new());
    // Four senders keep pages in flight; the server is killed after the tenth acknowledgement.
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            let (acknowledged, sent, enough) = (acknowledged.clone(), sent.clone(), enough.clone());
            tokio::spawn(async move {
                loop {
                    let sub = Uuid::new_v4();
                    sent.lock().unwrap().push(sub);
                    let res = client
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(page_of(sub))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == StatusCode::OK => {
                            let mut acks = acknowledged.lock().unwrap();
                            acks.push(sub);
                            if acks.len() == 10 {
                                enough.notify_one();
                            }
                        }
                        Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS => {}
                        _ => return,
                    }
                }
            })
        })
        .collect();
    enough.notified().await;
    child.kill().unwrap();
    child.wait().unwrap();
    for s in senders {
        s.await.unwrap();
    }

    let counts: Vec<(Uuid, i64)> =
        sqlx::query_as("select local_subscription_id, count(*) from usage_records group by local_subscription_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    assert!(sent.len() > acknowledged.len(), "some pages were in flight when the server died");
    for (sub, n) in &counts {
        assert_eq!(*n, PER_PAGE as i64, "page {sub} is stored whole");
    }
    for sub in &acknowledged {
        assert!(counts.iter().any(|(s, _)| s == sub), "acknowledged page {sub} is stored");
    }
}
