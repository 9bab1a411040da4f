//! The ingest API: idempotent, all or nothing, keys that reveal nothing.
use std::io::Write;

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::registrations::db::stack_by_cloud_id;

use crate::helpers::{seed_partner, spawn_app, TestApp};

pub(crate) fn record(sub: Uuid, hour: u32, qty: &str) -> String {
    format!(
        r#"{{"id":"i","name":"n","type":"Microsoft.Commerce.Admin/UsageAggregate","properties":{{"subscriptionId":"{sub}","usageStartTime":"2026-10-01T{hour:02}:00:00+00:00","usageEndTime":"2026-10-01T{:02}:00:00+00:00","instanceData":"{{\"Microsoft.Resources\":{{\"resourceUri\":\"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1\",\"location\":\"local\",\"tags\":null,\"additionalInfo\":null}}}}","quantity":{qty},"meterId":"FAB6EB84500B4A09A8CA7358F8BBAEA5"}}}}"#,
        hour + 1
    )
}

pub(crate) fn page(records: &[String]) -> String {
    format!("{{\"value\":[{}]}}", records.join(","))
}

/// A stack of a new partner with a key; returns (cloud ID, key).
pub(crate) async fn stack_with_key(pool: &PgPool, name: &str) -> (Uuid, String) {
    seed_partner(pool, name, &format!("{name}-stack")).await;
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks where name = $1")
        .bind(format!("{name}-stack"))
        .fetch_one(pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let stack = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
    let key = app::keys::db::create_key(&mut tx, &Actor::command_line(), &stack, "test").await.unwrap();
    tx.commit().await.unwrap();
    (cloud, key)
}

pub(crate) async fn send(app: &TestApp, cloud: impl std::fmt::Display, key: &str, body: String) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/stacks/{cloud}/usage")))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn stored(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from usage_records").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_same_page_twice_is_stored_once_and_a_correction_keeps_history(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let body = page(&[record(sub, 0, "4"), record(sub, 1, "4.0000000001")]);

    let first = send(&app, cloud, &key, body.clone()).await;
    let again = send(&app, cloud, &key, body).await;
    let corrected = send(&app, cloud, &key, page(&[record(sub, 0, "3.5")])).await;

    assert_eq!(first, (StatusCode::OK, serde_json::json!({"new": 2, "changed": 0, "unchanged": 0})));
    assert_eq!(again.1, serde_json::json!({"new": 0, "changed": 0, "unchanged": 2}));
    assert_eq!(corrected.1, serde_json::json!({"new": 0, "changed": 1, "unchanged": 0}));
    assert_eq!(stored(&app.pool).await, 2);
    let history: (String, String) =
        sqlx::query_as("select old_quantity::text, new_quantity::text from usage_record_history")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(history, ("4".to_string(), "3.5".to_string()), "kept exactly as sent");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_bad_record_in_the_middle_stores_nothing_and_is_named(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let body = page(&[record(sub, 0, "1"), record(sub, 1, "-2"), record(sub, 2, "1")]);

    let (status, json) = send(&app, cloud, &key, body).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json["records"][0]["index"], 1);
    assert_eq!(json["records"][0]["field"], "properties.quantity");
    assert_eq!(stored(&app.pool).await, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn wrong_other_and_unknown_keys_get_the_same_answer(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let (other_cloud, other_key) = stack_with_key(&pool, "Fabrikam").await;
    let app = spawn_app(pool).await;
    let body = page(&[record(Uuid::new_v4(), 0, "1")]);

    let answers = [
        send(&app, cloud, &other_key, body.clone()).await,
        send(&app, cloud, &format!("{key}x"), body.clone()).await,
        send(&app, Uuid::new_v4(), &key, body.clone()).await,
        send(&app, "not-a-guid", &key, body.clone()).await,
        send(&app, other_cloud, &key, body).await,
    ];

    for a in &answers {
        assert_eq!(a, &answers[0]);
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&app.pool).await, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn gzip_bodies_are_accepted_and_overlapping_concurrent_pages_store_each_record_once(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let a = page(&(0..12).map(|h| record(sub, h, "2")).collect::<Vec<_>>());
    let b = page(&(6..18).map(|h| record(sub, h, "2")).collect::<Vec<_>>());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(a.as_bytes()).unwrap();
    let gzipped = app
        .client
        .post(app.url(&format!("/api/v1/stacks/{cloud}/usage")))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap());

    let (r1, r2) = tokio::join!(gzipped.send(), send(&app, cloud, &key, b));

    assert_eq!(r1.unwrap().status(), StatusCode::OK);
    assert_eq!(r2.0, StatusCode::OK);
    assert_eq!(stored(&app.pool).await, 18);
    let (usage, charged): (rust_decimal::Decimal, rust_decimal::Decimal) =
        sqlx::query_as("select (select sum(quantity) from usage_records), (select sum(quantity) from charges)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(charged, usage, "the charges rollup counts each record once under concurrency too");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn quantities_keep_every_decimal_and_a_quantity_too_large_to_hold_is_named(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let exact = "0.1234567890123456789012345678";

    let (ok, _) = send(&app, cloud, &key, page(&[record(sub, 0, exact)])).await;
    let (huge, json) = send(&app, cloud, &key, page(&[record(sub, 1, "1"), record(sub, 2, "1e25")])).await;

    assert_eq!(ok, StatusCode::OK);
    let kept: rust_decimal::Decimal =
        sqlx::query_scalar("select quantity from usage_records").fetch_one(&app.pool).await.unwrap();
    assert_eq!(kept.to_string(), exact, "all 28 significant digits are kept");
    assert_eq!(huge, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert_eq!(
        (json["records"][0]["index"].as_u64(), json["records"][0]["field"].as_str()),
        (Some(1), Some("properties.quantity"))
    );
    assert_eq!(stored(&app.pool).await, 1, "nothing of the refused page");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn meter_map_factors_keep_eighteen_decimals_and_prices_out_of_range_are_named(pool: PgPool) {
    let map = "Local Meter ID,Commerce Meter ID,Factor\n\
               09F8879E-87E9-4305-A572-4B7BE209F857,d46f21e1-527d-5562-b071-8da7069bec9b,0.001369863013698630\n";
    let rows = app::pricing::import::parse_meter_map(map).unwrap();
    let mut tx = pool.begin().await.unwrap();
    app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &rows).await.unwrap();
    tx.commit().await.unwrap();
    let prices = "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n\
                  d46f21e1-527d-5562-b071-8da7069bec9b,Blob Storage,Azure Stack Hub,1 GB/Month,123456789012345,USD,2017-07-01\n";

    let factor: rust_decimal::Decimal =
        sqlx::query_scalar("select factor from meter_map").fetch_one(&pool).await.unwrap();
    let refused = app::pricing::import::parse_prices(prices).unwrap_err();

    assert_eq!(factor.normalize().to_string(), "0.00136986301369863", "every decimal of the sample's factor");
    assert!(
        refused.iter().any(|e| e.to_string().contains("line 2") && e.to_string().contains("Unit Price")),
        "{refused:?}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn pages_of_one_reported_hour_add_up_and_replace_only_their_own_part(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let send_reported = |query: &'static str, qty: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let res = app
                .client
                .post(app.url(&format!("/api/v1/stacks/{cloud}/usage{query}")))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(page(&[record(sub, 0, qty)]))
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let eleven = "?reportedStartTime=2026-10-01T11:00:00Z&reportedEndTime=2026-10-01T12:00:00Z";
    let fourteen = "?reportedStartTime=2026-10-01T14:00:00Z&reportedEndTime=2026-10-01T15:00:00Z";
    let total = async || -> rust_decimal::Decimal {
        sqlx::query_scalar("select sum(quantity) from usage_records").fetch_one(&app.pool).await.unwrap()
    };

    send_reported(eleven, "3").await;
    send_reported(fourteen, "2").await;
    let both = total().await;
    send_reported(fourteen, "2.5").await;
    let resent = total().await;
    let (bad, json) =
        send_reported("?reportedStartTime=2026-10-01T11:30:00Z&reportedEndTime=2026-10-01T12:30:00Z", "9").await;
    let (half, _) = send_reported("?reportedStartTime=2026-10-01T11:00:00Z", "9").await;

    assert_eq!(both, rust_decimal::Decimal::from(5), "the parts of one usage hour add up");
    assert_eq!(resent.to_string(), "5.5", "a resent reported hour replaces only its own part");
    assert_eq!(bad, StatusCode::UNPROCESSABLE_ENTITY, "{json}");
    assert!(json.to_string().contains("one whole reported hour"), "{json}");
    assert_eq!(half, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(total().await.to_string(), "5.5", "refused pages change nothing");
}
