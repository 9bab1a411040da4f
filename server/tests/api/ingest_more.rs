//! The ingest API's edges: revoked keys, bodies too large or of the wrong kind, audit of every key use, local
//! subscriptions, late usage, and a process killed in the middle of ingesting.
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::spawn_app;
use crate::ingest::{page, record, send, stack_with_key, stored};

async fn post(app: &crate::helpers::TestApp, path: String, key: &str, ct: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let res =
        app.client.post(app.url(&path)).bearer_auth(key).header("content-type", ct).body(body).send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_revoked_key_is_refused_like_a_wrong_one_and_every_use_is_audited(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();

    let accepted = send(&app, cloud, &key, page(&[record(sub, 0, "1")])).await;
    let refused = send(&app, cloud, &key, page(&[record(sub, 1, "x")])).await;
    sqlx::query("update ingestion_keys set revoked_at = now()").execute(&app.pool).await.unwrap();
    let revoked = send(&app, cloud, &key, page(&[record(sub, 2, "1")])).await;
    let wrong = send(&app, cloud, "sbk_00000000_nope", page(&[record(sub, 2, "1")])).await;

    assert_eq!(accepted.0, StatusCode::OK);
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(revoked, wrong);
    assert_eq!(revoked.0, StatusCode::UNAUTHORIZED);
    let uses: Vec<(String, String)> = sqlx::query_as(
        "select action, actor_label from audit_events where action in ('usage.ingest', 'ingest.refused') order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let prefix = &key[4..12];
    assert_eq!(uses.len(), 2, "{uses:?}");
    assert_eq!(uses[0].0, "usage.ingest");
    assert_eq!(uses[1].0, "ingest.refused");
    assert!(uses.iter().all(|(_, label)| label == &format!("ingestion key sbk_{prefix} (test)")), "{uses:?}");
    assert_eq!(stored(&app.pool).await, 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn oversize_wrong_type_and_malformed_bodies_get_json_errors_and_store_nothing(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let path = format!("/api/v1/stacks/{cloud}/usage");
    let huge = format!("{{\"value\":[\"{}\"]}}", "x".repeat(17 * 1024 * 1024)).into_bytes();

    let too_large = post(&app, path.clone(), &key, "application/json", huge).await;
    let wrong_type = post(&app, path.clone(), &key, "text/csv", b"a,b".to_vec()).await;
    let not_json = post(&app, path.clone(), &key, "application/json", b"{\"value\":[".to_vec()).await;
    let not_utf8 = post(&app, path.clone(), &key, "application/json", vec![0xff, 0xfe, 0x00]).await;
    let not_a_page = post(&app, path, &key, "application/json", b"[1,2,3]".to_vec()).await;

    assert_eq!(too_large.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.1["error"].as_str().unwrap().contains("16 MiB"), "{}", too_large.1);
    assert_eq!(wrong_type.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_json.1["records"][0]["field"], "value");
    assert_eq!(not_utf8.0, StatusCode::BAD_REQUEST);
    assert!(not_utf8.1["error"].is_string());
    assert_eq!(not_a_page.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&app.pool).await, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn late_usage_is_accepted_into_its_own_hour(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let sub = Uuid::new_v4();
    let late = record(sub, 3, "1").replace("2026-10-01", "2026-08-15");

    let (status, _) = send(&app, cloud, &key, page(&[record(sub, 3, "1"), late])).await;

    assert_eq!(status, StatusCode::OK);
    let hours: Vec<String> = sqlx::query_scalar(
        "select to_char(usage_start at time zone 'utc', 'YYYY-MM-DD HH24:MI') from usage_records order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(hours, ["2026-08-15 03:00", "2026-10-01 03:00"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn local_subscriptions_arrive_whole_or_not_at_all_and_resends_update_them(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let path = format!("/api/v1/stacks/{cloud}/subscriptions");
    let (a, b, tenant) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let list = |name: &str| {
        json!({"value": [
            {"subscriptionId": a, "tenantId": tenant, "displayName": name, "offerId": "basic", "state": "Enabled"},
            {"subscriptionId": b.to_string().to_uppercase(), "tenantId": tenant, "displayName": "Test"},
        ]})
        .to_string()
        .into_bytes()
    };
    let bad = json!([{"subscriptionId": Uuid::new_v4(), "tenantId": tenant}, {"subscriptionId": "nope"}]);

    let first = post(&app, path.clone(), &key, "application/json", list("Prod")).await;
    let refused = post(&app, path.clone(), &key, "application/json", bad.to_string().into_bytes()).await;
    let renamed = post(&app, path, &key, "application/json", list("Production")).await;

    assert_eq!(first, (StatusCode::OK, json!({"new": 2, "changed": 0, "unchanged": 0})));
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<(Value, Value)> =
        refused.1["records"].as_array().unwrap().iter().map(|e| (e["index"].clone(), e["field"].clone())).collect();
    assert_eq!(fields, [(json!(1), json!("subscriptionId")), (json!(1), json!("tenantId"))]);
    assert_eq!(renamed.1, json!({"new": 0, "changed": 1, "unchanged": 1}));
    let names: Vec<String> = sqlx::query_scalar("select display_name from local_subscriptions order by display_name")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(names, ["Production", "Test"]);
}

#[tokio::test]
async fn the_openapi_document_describes_both_endpoints() {
    let doc: Value = serde_json::from_str(server::http::ingest::OPENAPI).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/api/v1/stacks/{stack}/usage", "/api/v1/stacks/{stack}/subscriptions"] {
        let post = &doc["paths"][path]["post"];
        assert!(post.is_object(), "{path} is described");
        for status in ["200", "401", "413", "415", "422", "429"] {
            assert!(post["responses"][status].is_object(), "{path} documents {status}");
        }
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn errors_answered_before_the_handler_are_json_too(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    let url = app.url(&format!("/api/v1/stacks/{cloud}/usage"));

    let brotli = app
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body("{\"value\":[]}")
        .send()
        .await
        .unwrap();
    let wrong_method = app.client.get(&url).bearer_auth(&key).send().await.unwrap();

    assert_eq!(brotli.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(brotli.headers()["content-type"], "application/json");
    let body: Value = brotli.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Content-Encoding “br” is not supported"), "{body}");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.headers().contains_key("allow"));
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["error"], "method not allowed");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_refusal_lists_at_most_the_hundred_problems_the_document_promises(pool: PgPool) {
    let (cloud, key) = stack_with_key(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    // Three problems in each record (subscription, meter, quantity): the parser stops after the record that passes
    // 100, so it finds 102.
    let bad: Vec<String> = (0..75)
        .map(|h| {
            let sub = Uuid::new_v4();
            let r = record(sub, h % 23, "\"one\"").replace(&sub.to_string(), "nope");
            r.replace("FAB6EB84500B4A09A8CA7358F8BBAEA5", "no-meter")
        })
        .collect();

    let (status, body) = send(&app, cloud, &key, page(&bad)).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["records"].as_array().unwrap().len(), 100, "the document promises at most 100");
    assert!(body["error"].as_str().unwrap().contains("more than 100 problems, the first 100 listed"), "{body}");
}
