//! The stack page's usage side over HTTP: ingestion keys, uploads and the collector form, with tries to reach
//! another partner's stack.
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{seed_partner, spawn_app, TestApp};
use crate::ingest::{page, record, send};

struct Setup {
    app: TestApp,
    cloud: Uuid,
    contoso_tenant: Uuid,
    fabrikam_tenant: Uuid,
}

async fn setup(pool: PgPool) -> Setup {
    let (_, contoso_tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let cloud = sqlx::query_scalar("select cloud_id from stacks where name = 'ams-01'").fetch_one(&pool).await.unwrap();
    Setup { app: spawn_app(pool).await, cloud, contoso_tenant, fabrikam_tenant }
}

impl Setup {
    async fn post(&self, path: &str, form: &[(&str, String)]) -> reqwest::Response {
        self.app.client.post(self.app.url(path)).header("origin", &self.app.base).form(form).send().await.unwrap()
    }
    async fn page(&self) -> String {
        self.app.page(&format!("/stacks/{}", self.cloud)).await
    }
    async fn upload(&self, files: &[(&str, String)]) -> reqwest::Response {
        let mut form = Form::new();
        for (name, body) in files {
            form = form.part("files", Part::text(body.clone()).file_name(name.to_string()));
        }
        let path = format!("/stacks/{}/usage/upload", self.cloud);
        self.app.client.post(self.app.url(&path)).header("origin", &self.app.base).multipart(form).send().await.unwrap()
    }
    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.app.pool).await.unwrap()
    }
}

fn shown_key(html: &str) -> Option<String> {
    let at = html.find("sbk_")?;
    let key: String = html[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (key.len() > 40).then_some(key)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_key_is_shown_once_works_and_stops_working_when_revoked(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;

    let created = s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "forwarder".into())]).await;
    let first = s.page().await;
    let second = s.page().await;
    let key = shown_key(&first).expect("the new key is on the page");
    let works = send(&s.app, s.cloud, &key, page(&[record(Uuid::new_v4(), 0, "1")])).await;
    let key_id: Uuid = sqlx::query_scalar("select key_id from ingestion_keys").fetch_one(&s.app.pool).await.unwrap();
    let answered = [("key_id", key_id.to_string()), ("confirmed", "yes".to_string())];
    let revoked = s.post(&format!("/stacks/{}/keys/revoke", s.cloud), &answered).await;
    let after = send(&s.app, s.cloud, &key, page(&[record(Uuid::new_v4(), 1, "1")])).await;

    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(first.contains("forwarder") && first.contains(&key[..12]), "listed by name and prefix");
    assert_eq!(shown_key(&second), None, "the secret is shown only once");
    assert_eq!(works.0, StatusCode::OK);
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert!(s.page().await.contains("revoked"));
    assert_eq!(after.0, StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'key.%' or action like 'usage.%' order by id",
    )
    .fetch_all(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["key.create", "usage.ingest", "key.revoke"]);
    let secret_in_log =
        s.count(&format!("select count(*) from audit_events where after::text like '%{}%'", &key[13..])).await;
    assert_eq!(secret_in_log, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn readers_and_other_partners_cannot_create_or_revoke_keys(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "mine".into())]).await;
    let key_id: Uuid = sqlx::query_scalar("select key_id from ingestion_keys").fetch_one(&s.app.pool).await.unwrap();
    let sea: Uuid =
        sqlx::query_scalar("select cloud_id from stacks where name = 'sea-01'").fetch_one(&s.app.pool).await.unwrap();

    s.app.sign_in("farah", Some(s.fabrikam_tenant), &["Partner.Admin"]).await;
    let by_url = s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "theirs".into())]).await;
    let answered = [("key_id", key_id.to_string()), ("confirmed", "yes".to_string())];
    let revoke_by_url = s.post(&format!("/stacks/{}/keys/revoke", s.cloud), &answered).await;
    let revoke_by_field = s.post(&format!("/stacks/{sea}/keys/revoke"), &answered).await;
    let asked_by_url = s.post(&format!("/stacks/{}/keys/revoke", s.cloud), &answered[..1]).await;
    s.app.sign_in("reza", Some(s.contoso_tenant), &["Partner.Reader"]).await;
    let reader = s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "reader".into())]).await;
    let reader_page = s.page().await;

    assert_eq!(by_url.status(), StatusCode::NOT_FOUND);
    assert_eq!(revoke_by_url.status(), StatusCode::NOT_FOUND);
    assert_eq!(asked_by_url.status(), StatusCode::NOT_FOUND, "another partner is not even asked");
    assert_eq!(revoke_by_field.status(), StatusCode::SEE_OTHER, "refused on their own stack's page");
    assert_eq!(reader.status(), StatusCode::FORBIDDEN);
    assert!(!reader_page.contains("Create key"), "readers get no key form");
    assert_eq!(s.count("select count(*) from ingestion_keys").await, 1);
    assert_eq!(s.count("select count(*) from ingestion_keys where revoked_at is not null").await, 0);
}

const CSV_HEADER: &str = "\"UsageStartTime\",\"UsageEndTime\",\"MeterName\",\"Quantity\",\"resourceType\",\"location\",\"resourceGroup\",\"resourceName\",\"subowner\",\"tags\",\"MeterId\",\"additionalInfo\",\"subscription\",\"resourceUri\"";

fn csv_row(sub: Uuid, hour: u32, qty: &str) -> String {
    format!(
        "\"9/6/2017 {h}:00:00 AM\",\"9/6/2017 {h2}:00:00 AM\",\"Base VM Size Hours\",\"{qty}\",\"virtualMachines\",\"local\",\"rg1\",\"vm1\",\"a@contoso.com\",\"\",\"FAB6EB84-500B-4A09-A8CA-7358F8BBAEA5\",\"\",\"{sub}\",\"/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1\"",
        h = hour,
        h2 = hour + 1
    )
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn uploads_store_each_file_whole_or_refuse_it_with_the_bad_rows_named(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let sub = Uuid::new_v4();
    let json_page = page(&[record(sub, 0, "1"), record(sub, 1, "2")]);
    let good_csv =
        [CSV_HEADER.to_string(), csv_row(sub, 1, "2"), csv_row(sub, 2, "0.25"), csv_row(sub, 1, "2")].join("\r\n");
    let bad_csv = [CSV_HEADER.to_string(), csv_row(sub, 3, "1"), csv_row(sub, 4, "lots")].join("\r\n");

    let subs =
        serde_json::json!({"value": [{"subscriptionId": sub, "tenantId": Uuid::new_v4(), "displayName": "Prod"}]});
    let res = s
        .upload(&[
            ("page.json", json_page),
            ("summary.csv", good_csv),
            ("bad.csv", bad_csv),
            ("subs.json", subs.to_string()),
        ])
        .await;
    let html = s.page().await;

    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(html.contains("page.json (usage API page, JSON): 2 records: 2 new, 0 changed, 0 unchanged"), "{html}");
    assert!(html.contains("summary.csv (Usagesummary CSV): 3 records: 2 new, 0 changed, 0 unchanged"), "{html}");
    assert!(html.contains("bad.csv (Usagesummary CSV): refused, nothing stored"), "{html}");
    assert!(html.contains("line 3, Quantity"), "the bad row is named by line and column: {html}");
    assert!(html.contains("subs.json (local subscription list, JSON): 1 new, 0 changed, 0 unchanged"), "{html}");
    assert!(html.contains("Prod"), "the stack page lists the uploaded subscription");
    assert_eq!(s.count("select count(*) from usage_records").await, 4);
    assert_eq!(s.count("select count(*) from audit_events where action = 'usage.upload'").await, 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_collector_form_saves_settings_without_echoing_secrets_and_names_missing_fields(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let path = format!("/stacks/{}/collector", s.cloud);
    let provider = Uuid::new_v4().to_string();
    let form = |token: &str| {
        vec![
            ("endpoint", "https://adminmanagement.local.azurestack.external/".to_string()),
            ("provider_subscription", provider.clone()),
            ("auth_kind", "bearer".into()),
            ("bearer_token", token.into()),
            ("enabled", "on".into()),
        ]
    };

    s.post(&path, &form("")).await;
    let missing = s.page().await;
    s.post(&path, &form("s3cret-token-value")).await;
    let saved = s.page().await;
    s.post(&path, &form("")).await;

    assert!(missing.contains("Give the bearer token."), "the missing field is named");
    assert!(saved.contains("https://adminmanagement.local.azurestack.external") && saved.contains("on, hourly"));
    assert!(!saved.contains("s3cret-token-value"), "the token is never shown");
    let token: String = sqlx::query_scalar("select bearer_token from collectors").fetch_one(&s.app.pool).await.unwrap();
    assert_eq!(crate::helpers::test_key().open(&token).unwrap(), "s3cret-token-value", "an empty field keeps it");
    assert_eq!(s.count("select count(*) from audit_events where after::text like '%s3cret%'").await, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn uploads_of_reported_hours_add_up_and_a_half_hour_is_refused(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let sub = Uuid::new_v4();
    let upload = |hour: &'static str, qty: &'static str| {
        let form = Form::new()
            .text("reported_hour", hour)
            .part("files", Part::text(page(&[record(sub, 0, qty)])).file_name("usage.json"));
        let path = format!("/stacks/{}/usage/upload", s.cloud);
        s.app.client.post(s.app.url(&path)).header("origin", &s.app.base).multipart(form).send()
    };

    upload("2026-10-01T11:00", "3").await.unwrap();
    upload("2026-10-01T14:00", "2").await.unwrap();
    upload("2026-10-01T14:30", "7").await.unwrap();
    let page = s.page().await;

    let total: rust_decimal::Decimal =
        sqlx::query_scalar("select sum(quantity) from usage_records").fetch_one(&s.app.pool).await.unwrap();
    assert_eq!(total, rust_decimal::Decimal::from(5), "two reported hours' parts of one usage hour add up");
    assert_eq!(s.count("select count(*) from usage_records").await, 2);
    assert!(page.contains("reported hour: give the start of one whole reported hour"), "{page}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn uploads_say_what_each_file_was_an_empty_file_or_json_that_is_not_usage(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let sub = Uuid::new_v4();
    let one = [CSV_HEADER.to_string(), csv_row(sub, 1, "2")].join("\r\n");

    s.upload(&[("one.csv", one), ("page.json", page(&[record(sub, 0, "1")]))]).await;
    let html = s.page().await;
    assert!(html.contains("one.csv (Usagesummary CSV): 1 record: 1 new, 0 changed, 0 unchanged"), "{html}");
    assert!(html.contains("page.json (usage API page, JSON): 1 record: 1 new"), "{html}");

    for (name, body, says) in [
        ("empty.csv", "", "empty.csv: the file is empty; nothing stored"),
        ("blank.csv", " \r\n", "blank.csv: the file is empty; nothing stored"),
        ("records.json", r#"[{"quantity": 1}]"#, "records.json: a JSON file, but neither a usage API page"),
        ("other.json", r#"{"hello": 1}"#, "other.json: a JSON file, but neither a usage API page"),
    ] {
        s.upload(&[(name, body.to_string())]).await;
        let html = s.page().await;
        assert!(html.contains(says), "{name}: {html}");
        assert!(!html.contains("UsageStartTime"), "{name} is not read as a CSV: {html}");
    }
    assert_eq!(s.count("select count(*) from usage_records").await, 2, "the refused files stored nothing");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_upload_sent_by_the_pages_script_is_told_where_to_go_and_its_outcome_waits_there(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let form = Form::new().part("files", Part::text(page(&[record(Uuid::new_v4(), 0, "1")])).file_name("p.json"));
    let path = format!("/stacks/{}/usage/upload", s.cloud);

    let res = s
        .app
        .client
        .post(s.app.url(&path))
        .header("origin", &s.app.base)
        .header("x-stackbill-upload", "1")
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK, "not a redirect the script would follow unseen");
    assert_eq!(res.headers()["x-stackbill-then"], format!("/stacks/{}#outcome", s.cloud));
    let html = s.page().await;
    assert!(html.contains("p.json (usage API page, JSON): 1 record: 1 new"), "the outcome waits on the page: {html}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_archived_stack_keeps_its_history_refuses_usage_and_leaves_the_list_until_restored(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "forwarder".into())]).await;
    let key = shown_key(&s.page().await).unwrap();
    let sub = Uuid::new_v4();
    assert_eq!(send(&s.app, s.cloud, &key, page(&[record(sub, 0, "1")])).await.0, StatusCode::OK);

    s.app.sign_in("rita", Some(s.contoso_tenant), &["Partner.Reader"]).await;
    let by_reader = s.post(&format!("/stacks/{}/archive", s.cloud), &[]).await;
    s.app.sign_in("frank", Some(s.fabrikam_tenant), &["Partner.Admin"]).await;
    let by_other_partner = s.post(&format!("/stacks/{}/archive", s.cloud), &[]).await;
    assert_eq!((by_reader.status(), by_other_partner.status()), (StatusCode::FORBIDDEN, StatusCode::NOT_FOUND));

    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let archived = s.post(&format!("/stacks/{}/archive", s.cloud), &[]).await;
    let (status, body) = send(&s.app, s.cloud, &key, page(&[record(sub, 1, "1")])).await;
    let upload = s.upload(&[("p.json", page(&[record(sub, 2, "1")]))]).await;
    let stack_page = s.page().await;
    let home = s.app.page("/").await;
    let with_archived = s.app.page("/?archived=1").await;

    assert_eq!(archived.status(), StatusCode::SEE_OTHER);
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("ams-01 is archived"), "the key holder is told why: {body}");
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    assert!(stack_page.contains("ams-01 is archived: Stackbill takes no usage for it"), "{stack_page}");
    assert!(stack_page.contains("data-testid=\"archived\""), "the page says it is archived");
    assert!(!stack_page.contains("aria-label=\"Upload usage files\""), "no upload form for an archived stack");
    assert_eq!(s.count("select count(*) from usage_records").await, 1, "history kept, nothing new taken");
    assert!(!home.contains(&format!("/stacks/{}", s.cloud)) && home.contains("Show 1 archived stack"), "{home}");
    assert!(with_archived.contains(&format!("/stacks/{}", s.cloud)) && with_archived.contains("archived</span>"));
    assert!(s.app.page("/audit").await.contains("User adele archived ams-01"));

    s.post(&format!("/stacks/{}/restore", s.cloud), &[]).await;
    assert_eq!(send(&s.app, s.cloud, &key, page(&[record(sub, 3, "1")])).await.0, StatusCode::OK);
    assert!(s.app.page("/").await.contains(&format!("/stacks/{}", s.cloud)), "listed again");
}

/// Without JavaScript nothing irreversible happens on the first post: the answer is a page that asks, whose button
/// posts the same fields answered. Revoking a key and removing a tenant subscription (finalising: bill_pages).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn irreversible_posts_are_asked_about_first_and_change_nothing_until_answered(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.post(&format!("/stacks/{}/keys", s.cloud), &[("name", "forwarder".into())]).await;
    let key_id: Uuid = sqlx::query_scalar("select key_id from ingestion_keys").fetch_one(&s.app.pool).await.unwrap();
    let revoke = format!("/stacks/{}/keys/revoke", s.cloud);

    let asked = s.post(&revoke, &[("key_id", key_id.to_string()), ("confirmed", String::new())]).await;
    let status = asked.status();
    let page = asked.text().await.unwrap();
    let still_active = s.count("select count(*) from ingestion_keys where revoked_at is null").await;
    let answered = s.post(&revoke, &[("key_id", key_id.to_string()), ("confirmed", "yes".into())]).await;

    assert_eq!((status, still_active), (StatusCode::OK, 1), "asked, nothing revoked yet");
    assert!(page.contains("Revoke the ingestion key forwarder of ams-01?"), "{page}");
    assert!(page.contains(&format!("name=\"key_id\" value=\"{key_id}\"")) && page.contains("value=\"yes\""));
    assert!(page.contains(&format!("href=\"/stacks/{}\">Cancel</a>", s.cloud)), "a way back");
    assert_eq!(answered.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.count("select count(*) from ingestion_keys where revoked_at is null").await, 0);
}
