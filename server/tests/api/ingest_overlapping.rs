//! Stacks retry: a client resends a page after a timeout while the next one is on its way, a collector re-reads its
//! overlap while an upload runs. Overlapping pages sent at once, their records in different orders, must all be
//! answered 2xx (429 only as the documented back-pressure, with `Retry-After`) and store each record once.
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::ingest::{page, record, stack_with_key};

/// The same records in another order for every client and round (Fisher–Yates over a xorshift).
fn shuffled(mut items: Vec<String>, seed: u64) -> Vec<String> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..items.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        items.swap(i, (x % (i as u64 + 1)) as usize);
    }
    items
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn eight_clients_sending_overlapping_shuffled_pages_at_once_all_succeed_and_store_each_record_once(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = crate::helpers::spawn_app(pool).await;
    // 2,000 records: 100 local subscriptions × 20 hours, quantity 1 each.
    let subs: Vec<Uuid> = (0..100).map(|n| Uuid::from_u128(0x5000 + n)).collect();
    let all: Vec<String> = subs.iter().flat_map(|s| (0..20).map(move |h| record(*s, h, "1"))).collect();
    let url = app.url(&format!("/api/v1/stacks/{cloud}/usage"));
    let mut answers = Vec::new();

    for round in 0..3u64 {
        let clients = (0..8u64).map(|client| {
            // Client `client` sends 1,000 records starting at its own offset: every record is in four pages.
            let start = (client as usize * 250) % all.len();
            let window: Vec<String> = (0..1000).map(|i| all[(start + i) % all.len()].clone()).collect();
            let body = page(&shuffled(window, round * 8 + client + 1));
            let (http, url, key) = (app.client.clone(), url.clone(), key.clone());
            async move {
                let mut seen = Vec::new();
                loop {
                    let res = http
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
                    seen.push(status);
                    match (status, retry_after) {
                        // The documented back-pressure: wait as told, then send again.
                        (StatusCode::TOO_MANY_REQUESTS, Some(seconds)) => {
                            tokio::time::sleep(Duration::from_secs(seconds)).await
                        }
                        _ => return seen,
                    }
                }
            }
        });
        answers.extend(join_all(clients).await);
    }

    let failed: Vec<&Vec<StatusCode>> = answers.iter().filter(|seen| seen.last() != Some(&StatusCode::OK)).collect();
    assert!(failed.is_empty(), "answers other than 2xx (or 429 with Retry-After, then 2xx): {failed:?}");
    let (stored, total): (i64, rust_decimal::Decimal) =
        sqlx::query_as("select count(*), sum(quantity) from usage_records").fetch_one(&app.pool).await.unwrap();
    assert_eq!((stored, total), (2000, rust_decimal::Decimal::from(2000)), "each record stored once");
}
