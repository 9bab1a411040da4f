//! The stack page's forms over HTTP, with tries to reach another partner's stack by URL, tampered fields and replays.
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{directory_subscription, seed_partner, spawn_app, TestApp};

struct Setup {
    app: TestApp,
    contoso: Uuid,
    cloud: Uuid,
    apss: Uuid,
    csp: Uuid,
    customer: Uuid,
    theirs: Uuid,
    contoso_tenant: Uuid,
    fabrikam_tenant: Uuid,
}

async fn setup(pool: PgPool) -> Setup {
    let (contoso, contoso_tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (fabrikam, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let customer = Uuid::new_v4();
    let apss = directory_subscription(&pool, contoso, contoso_tenant, "APSS").await;
    let csp = directory_subscription(&pool, contoso, customer, "CSP").await;
    let theirs = directory_subscription(&pool, fabrikam, customer, "CSP").await;
    let cloud = sqlx::query_scalar("select cloud_id from stacks where name = 'ams-01'").fetch_one(&pool).await.unwrap();
    let app = spawn_app(pool).await;
    Setup { app, contoso, cloud, apss, csp, customer, theirs, contoso_tenant, fabrikam_tenant }
}

impl Setup {
    async fn post(&self, path: &str, form: &[(&str, String)]) -> reqwest::Response {
        self.app.client.post(self.app.url(path)).header("origin", &self.app.base).form(form).send().await.unwrap()
    }
    async fn register(&self, sub: Uuid) -> reqwest::Response {
        let path = format!("/stacks/{}/registration", self.cloud);
        self.post(&path, &[("default_subscription", sub.to_string()), ("billing_model", "PayAsYouUse".into())]).await
    }
    async fn map(&self, sub: Uuid) -> reqwest::Response {
        self.post(&format!("/stacks/{}/mappings", self.cloud), &[("subscription", sub.to_string())]).await
    }
    async fn page(&self) -> String {
        self.app.page(&format!("/stacks/{}", self.cloud)).await
    }
    async fn current_mappings(&self) -> Vec<Uuid> {
        sqlx::query_scalar("select subscription_id from tenant_mappings where valid_to is null")
            .fetch_all(&self.app.pool)
            .await
            .unwrap()
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_admin_registers_and_maps_a_tenant_through_the_forms(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;

    let r = s.register(s.apss).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], format!("/stacks/{}#outcome", s.cloud), "back at the outcome");
    let m = s.map(s.csp).await;

    assert_eq!(m.status(), StatusCode::SEE_OTHER);
    let page = s.page().await;
    assert!(page.contains("Tenant subscription saved."), "{page}");
    assert!(page.contains(&s.customer.to_string()) && page.contains(&s.apss.to_string()));
    assert_eq!(s.current_mappings().await, [s.csp]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn another_partners_subscription_is_refused_on_the_page_with_the_rule_named(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;

    s.map(s.theirs).await;

    let page = s.page().await;
    assert!(page.contains("R5") && page.contains(&s.theirs.to_string()), "{page}");
    assert!(s.current_mappings().await.is_empty());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_ea_default_is_refused_with_mappings_and_the_refusal_changes_nothing(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    s.map(s.csp).await;
    let partner = s.contoso;
    let ea = directory_subscription(&s.app.pool, partner, s.contoso_tenant, "EA").await;

    s.register(ea).await;

    assert!(s.page().await.contains("R3"));
    let default: Uuid = sqlx::query_scalar("select subscription_id from registration_defaults where valid_to is null")
        .fetch_one(&s.app.pool)
        .await
        .unwrap();
    assert_eq!(default, s.apss);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_reader_sees_no_forms_and_the_server_refuses_their_posts(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("reza", Some(s.contoso_tenant), &["Partner.Reader"]).await;

    let page = s.page().await;
    let r = s.register(s.apss).await;

    assert!(page.contains("ams-01") && !page.contains("Save registration"));
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let registrations: i64 =
        sqlx::query_scalar("select count(*) from registrations").fetch_one(&s.app.pool).await.unwrap();
    assert_eq!(registrations, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn another_partners_admin_cannot_see_or_change_the_stack_by_url(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("farah", Some(s.fabrikam_tenant), &["Partner.Admin"]).await;

    let page = s.app.get(&format!("/stacks/{}", s.cloud)).await;
    let post = s.register(s.apss).await;

    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!page.text().await.unwrap().contains("ams-01"), "nothing revealed");
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    let registrations: i64 =
        sqlx::query_scalar("select count(*) from registrations").fetch_one(&s.app.pool).await.unwrap();
    assert_eq!(registrations, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_tampered_or_replayed_remove_changes_nothing(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    s.map(s.csp).await;
    let remove = format!("/stacks/{}/mappings/remove", s.cloud);

    let stale = [
        ("tenant", s.customer.to_string()),
        ("expected_current", Uuid::new_v4().to_string()),
        ("confirmed", "yes".to_string()),
    ];
    s.post(&remove, &stale).await;
    assert!(s.page().await.contains("someone changed"));
    assert_eq!(s.current_mappings().await, [s.csp]);

    let form =
        [("tenant", s.customer.to_string()), ("expected_current", s.csp.to_string()), ("confirmed", "yes".into())];
    s.post(&remove, &form).await;
    assert!(s.current_mappings().await.is_empty());
    let events_before: i64 =
        sqlx::query_scalar("select count(*) from audit_events").fetch_one(&s.app.pool).await.unwrap();
    s.post(&remove, &form).await;
    let events_after: i64 =
        sqlx::query_scalar("select count(*) from audit_events").fetch_one(&s.app.pool).await.unwrap();
    assert_eq!(events_before, events_after, "the replay was refused");
    assert!(s.page().await.contains("someone changed"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_audit_log_shows_a_partner_its_own_changes_only_and_filters_by_stack(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    s.map(s.csp).await;

    let all = s.app.page("/audit").await;
    let by_stack = s.app.page(&format!("/audit?stack={}", s.cloud)).await;
    let by_other_stack = s.app.page(&format!("/audit?stack={}", Uuid::new_v4())).await;

    assert!(all.contains("mapping.add") && all.contains("registration.set") && all.contains("User adele"), "{all}");
    assert!(!all.contains("Fabrikam"), "another partner's events leaked");
    assert!(by_stack.contains("mapping.add") && !by_stack.contains("partner.add"));
    assert!(!by_other_stack.contains("mapping.add"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_customers_page_shows_mapped_and_fallback_tenants(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    let before = s.app.page("/customers").await;
    s.map(s.csp).await;

    let after = s.app.page("/customers").await;

    assert!(before.contains("falls back to the default subscription"));
    let csp = s.csp.to_string();
    assert!(after.contains(&format!("mapped to {}…{}", &csp[..4], &csp[32..])), "{after}");
    assert!(
        after.contains(&format!("<span title=\"{csp}\" class=\"badge ok\">mapped to")),
        "the whole ID is the badge's title: {after}"
    );
    let theirs = s.theirs.to_string();
    assert!(
        !after.contains(&theirs) && !after.contains(&format!("{}…{}", &theirs[..4], &theirs[32..])),
        "Fabrikam's subscription of the same customer is not shown, in full or short"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_admin_renames_a_stack_and_the_rename_is_audited(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;

    s.post(&format!("/stacks/{}/rename", s.cloud), &[("name", "ams-primary".to_string())]).await;

    let page = s.page().await;
    assert!(page.contains("Stack renamed.") && page.contains("ams-primary"));
    assert!(s.app.page("/audit").await.contains("stack.rename"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_mapping_form_rendered_before_another_admins_change_is_refused(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    let stale = [("subscription", s.csp.to_string()), ("version", "0".to_string())];
    s.map(s.csp).await;
    let answered = [("tenant", s.customer.to_string()), ("confirmed", "yes".to_string())];
    s.post(&format!("/stacks/{}/mappings/remove", s.cloud), &answered).await;

    s.post(&format!("/stacks/{}/mappings", s.cloud), &stale).await;

    assert!(s.page().await.contains("someone changed this stack"));
    assert!(s.current_mappings().await.is_empty(), "the stale form changed nothing");
}

/// The element whose `id` is `outcome` (the message a post returns to): its tag, and its text without markup.
fn outcome(page: &str) -> Option<(String, String)> {
    let at = page.find("id=\"outcome\"")?;
    let open = page[..at].rfind('<')?;
    let tag = page[open + 1..].split([' ', '>']).next()?.to_string();
    let body = &page[page[at..].find('>')? + at + 1..];
    let body = &body[..body.find(&format!("</{tag}>"))?];
    let (mut text, mut in_tag) = (String::new(), false);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some((tag, text))
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_refused_typed_subscription_is_named_beside_its_input_which_keeps_what_was_typed(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    s.register(s.apss).await;
    let path = format!("/stacks/{}/mappings", s.cloud);

    let typed = [("subscription_id", s.theirs.to_string()), ("effective_from", "2026-11-01T00:00".to_string())];
    let r = s.post(&path, &typed).await;
    let page = s.page().await;

    assert_eq!(r.headers()[LOCATION], format!("/stacks/{}#outcome", s.cloud), "back at the outcome");
    let (tag, message) = outcome(&page).expect("the refusal is the page's outcome");
    assert_eq!(tag, "span", "beside a field, not at the top of the form");
    assert!(message.starts_with(&format!("Subscription {} was not found", s.theirs)), "plain words first: {message}");
    assert!(message.ends_with("(R5, BadCustomerSubscriptionId)"), "the rule in small print: {message}");
    let input = &page[page.find("id=\"outcome\"").unwrap()..];
    let input = &input[input.find("<input").unwrap()..];
    assert!(input.starts_with("<input name=\"subscription_id\""), "beside the typed ID, not the picker: {input:.120}");
    assert!(input[..input.find('>').unwrap()].contains(&format!("value=\"{}\"", s.theirs)), "kept: {input:.200}");
    assert!(page.contains("value=\"2026-11-01T00:00\""), "the effective time is kept too");
    assert!(s.current_mappings().await.is_empty());

    let r = s.post(&path, &[("subscription_id", "5b5c-not-a-guid".to_string())]).await;
    let page = s.page().await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (tag, message) = outcome(&page).unwrap();
    assert_eq!((tag.as_str(), message.contains("“5b5c-not-a-guid” is not a GUID")), ("span", true), "{message}");
    assert!(page.contains("value=\"5b5c-not-a-guid\""), "the unreadable ID is kept to be corrected");

    s.map(s.csp).await;
    let page = s.page().await;
    let (tag, message) = outcome(&page).unwrap();
    assert_eq!((tag.as_str(), message.as_str()), ("p", "Tenant subscription saved."), "a success is the form's status");
    assert!(!page.contains("value=\"5b5c-not-a-guid\""), "nothing typed is kept after a success");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_audit_log_reads_like_a_history_and_its_stack_filter_takes_names(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let partner = s.contoso;
    let replacement = directory_subscription(&s.app.pool, partner, s.customer, "CSP").await;
    s.register(s.apss).await;
    s.post(
        &format!("/stacks/{}/mappings", s.cloud),
        &[("subscription", s.csp.to_string()), ("effective_from", "2026-10-02T00:00".into())],
    )
    .await;
    s.post(
        &format!("/stacks/{}/mappings", s.cloud),
        &[("subscription", replacement.to_string()), ("effective_from", "2026-10-05T06:00".into())],
    )
    .await;

    let log = s.app.page("/audit?stack=AMS-01").await;
    let elsewhere = s.app.page("/audit?stack=sea-01").await;

    assert!(
        log.contains("User adele replaced Northwind&#x27;s subscription on ams-01 from 5 October 2026, 06:00 UTC")
            || log.contains("User adele replaced Northwind's subscription on ams-01 from 5 October 2026, 06:00 UTC"),
        "{log}"
    );
    assert!(log.contains("User adele gave Northwind a subscription on ams-01 from 2 October 2026, 00:00 UTC"), "{log}");
    assert!(log.contains("User adele registered ams-01"), "{log}");
    let short = |id: Uuid| format!("Northwind · {}…{}", &id.to_string()[..4], &id.to_string()[32..]);
    assert!(log.contains(&short(s.csp)) && log.contains(&short(replacement)), "the diff names both subscriptions");
    assert!(log.contains("<summary>Logged data</summary>"), "the logged JSON is there on demand");
    assert!(!elsewhere.contains("mapping.add"), "the filter by name keeps to that stack");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_not_found_page_knows_who_is_signed_in(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;

    let res = s.app.get("/no-such-page").await;
    let status = res.status();
    let html = res.text().await.unwrap();

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found") && html.contains("data-testid=\"who\""), "{html}");
    assert!(html.contains("Sign out") && !html.contains(">Sign in<"), "signed in, not asked to sign in: {html}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn forms_that_cannot_succeed_are_not_offered_and_a_customers_default_is_asked_about(pool: PgPool) {
    let s = setup(pool).await;
    s.app.sign_in("adele", Some(s.contoso_tenant), &["Partner.Admin"]).await;
    let partner = s.contoso;
    let suspended = directory_subscription(&s.app.pool, partner, Uuid::new_v4(), "CSP").await;
    sqlx::query("update commerce_subscriptions set status = 'suspended' where subscription_id = $1")
        .bind(suspended)
        .execute(&s.app.pool)
        .await
        .unwrap();

    let unregistered = s.page().await;
    let path = format!("/stacks/{}/registration", s.cloud);
    let asked =
        s.post(&path, &[("default_subscription", s.csp.to_string()), ("billing_model", "PayAsYouUse".into())]).await;
    let status = asked.status();
    let question = asked.text().await.unwrap();
    let still_unregistered = s.page().await;
    s.register(s.apss).await;
    let registered = s.page().await;

    assert!(
        unregistered.contains("Register the stack first (above)") && !unregistered.contains("Save tenant subscription")
    );
    assert_eq!(status, StatusCode::OK, "a customer's CSP subscription as the default is asked about");
    assert!(question.contains("Make Northwind&#39;s subscription the default of ams-01?"), "{question}");
    assert!(question.contains("billed to Northwind") && question.contains("name=\"confirmed\" value=\"yes\""));
    assert!(still_unregistered.contains("Register the stack first"), "nothing registered before the answer");
    assert!(registered.contains("Save tenant subscription"), "registered: the form is offered");
    assert!(!registered.contains(&format!("value=\"{suspended}\"")), "a suspended subscription is not offered (R9)");

    let answered = [
        ("default_subscription", s.csp.to_string()),
        ("billing_model", "PayAsYouUse".to_string()),
        ("confirmed", "yes".to_string()),
    ];
    s.post(&path, &answered).await;
    assert!(s.page().await.contains("Registration saved."), "answered: saved");

    let ea = directory_subscription(&s.app.pool, partner, s.contoso_tenant, "EA").await;
    s.register(ea).await;
    let with_ea = s.page().await;
    assert!(with_ea.contains("The default subscription is EA: tenant subscriptions need a CSP or APSS default (R3)"));
    assert!(!with_ea.contains("Save tenant subscription"), "{with_ea}");
}
