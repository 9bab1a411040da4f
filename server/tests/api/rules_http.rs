//! Every registration rule through HTTP: the refusal (rule named on the page, nothing changed) and the allowed case.
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{directory_subscription, seed_partner, spawn_app, TestApp};

struct S {
    app: TestApp,
    partner: Uuid,
    cloud: Uuid,
}

async fn setup(pool: PgPool) -> S {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let cloud = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(tenant), &["Partner.Admin"]).await;
    S { app, partner, cloud }
}

impl S {
    async fn post(&self, path: &str, form: &[(&str, String)]) -> String {
        let url = self.app.url(&path.replace("{cloud}", &self.cloud.to_string()));
        self.app.client.post(url).header("origin", &self.app.base).form(form).send().await.unwrap();
        self.app.page(&format!("/stacks/{}", self.cloud)).await
    }
    async fn sub(&self, tenant: Uuid, offer: &str) -> Uuid {
        directory_subscription(&self.app.pool, self.partner, tenant, offer).await
    }
    async fn register(&self, sub: Uuid, model: &str) -> String {
        self.post(
            "/stacks/{cloud}/registration",
            // Answered: a customer's CSP subscription as the default is asked about first (stack_pages tests that).
            &[("default_subscription", sub.to_string()), ("billing_model", model.into()), ("confirmed", "yes".into())],
        )
        .await
    }
    async fn map(&self, sub: Uuid, tenant: Option<Uuid>, from: &str) -> String {
        let tenant = tenant.map(|t| t.to_string()).unwrap_or_default();
        self.post(
            "/stacks/{cloud}/mappings",
            &[("subscription", sub.to_string()), ("tenant", tenant), ("effective_from", from.into())],
        )
        .await
    }
    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.app.pool).await.unwrap()
    }
}

const SAVED: &str = "Tenant subscription saved.";

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r1_a_cloud_id_is_added_once(pool: PgPool) {
    let s = setup(pool).await;
    let add = |name: &str, cloud: String| {
        let form = [("name", name.to_string()), ("cloud_id", cloud)];
        s.app.client.post(s.app.url("/stacks")).header("origin", &s.app.base).form(&form).send()
    };
    add("copy", s.cloud.to_string()).await.unwrap();
    assert!(s.app.page("/").await.contains("R1"), "the refusal is shown on the stacks page");
    add("new-one", Uuid::new_v4().to_string()).await.unwrap();
    assert_eq!(s.count("select count(*) from stacks").await, 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r2_r4_r6_r9_tenant_subscriptions_refused_then_allowed(pool: PgPool) {
    let s = setup(pool).await;
    let customer = Uuid::new_v4();
    let csp = s.sub(customer, "CSP").await;
    assert!(s.map(csp, None, "").await.contains("R2"), "no mapping before the default subscription");
    assert!(s.register(s.sub(Uuid::new_v4(), "APSS").await, "PayAsYouUse").await.contains("Registration saved."));
    assert!(s.map(s.sub(customer, "EA").await, None, "").await.contains("R4"));
    let stranger = Uuid::new_v4();
    let r6 = s.map(csp, Some(stranger), "").await;
    let short = |id: Uuid| format!("{}…{}", &id.to_string()[..4], &id.to_string()[32..]);
    let words = format!(
        "Northwind's subscription {} is a CSP subscription of another tenant ({}), not of tenant {}",
        short(csp),
        short(customer),
        short(stranger)
    );
    assert!(r6.contains(&words) && r6.contains("R6, BadCustomerSubscriptionId"), "named in plain words: {r6}");
    assert!(
        s.map(Uuid::new_v4(), Some(customer), "").await.contains("not found in your commerce directory"),
        "R5/R9: an unknown subscription"
    );
    assert_eq!(s.count("select count(*) from tenant_mappings").await, 0);
    assert!(s.map(csp, None, "").await.contains(SAVED));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r7_effective_times_in_the_future_are_refused_and_earlier_ones_allowed(pool: PgPool) {
    let s = setup(pool).await;
    let customer = Uuid::new_v4();
    s.register(s.sub(Uuid::new_v4(), "APSS").await, "PayAsYouUse").await;
    let csp = s.sub(customer, "CSP").await;
    assert!(s.map(csp, None, "2999-01-01T00:00").await.contains("R7"));
    assert!(s.map(csp, None, "2026-01-01T00:00").await.contains(SAVED));
    let from: String =
        sqlx::query_scalar("select to_char(valid_from at time zone 'utc', 'YYYY-MM-DD') from tenant_mappings")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(from, "2026-01-01");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r8_capacity_registrations_refuse_tenants_and_r10_the_default_can_change(pool: PgPool) {
    let s = setup(pool).await;
    let (apss, customer) = (s.sub(Uuid::new_v4(), "APSS").await, Uuid::new_v4());
    s.register(apss, "Capacity").await;
    assert!(s.map(s.sub(customer, "CSP").await, None, "").await.contains("R8"));
    s.register(apss, "PayAsYouUse").await;
    assert!(s.map(s.sub(customer, "CSP").await, None, "").await.contains(SAVED));
    assert!(s.register(apss, "Capacity").await.contains("R8"), "Capacity refused while a tenant is mapped");
    let csp_default = s.sub(Uuid::new_v4(), "CSP").await;
    assert!(s.register(csp_default, "PayAsYouUse").await.contains("Registration saved."), "R10: CSP default allowed");
    assert_eq!(s.count("select count(*) from registration_defaults").await, 2, "the old default keeps the past");
}
