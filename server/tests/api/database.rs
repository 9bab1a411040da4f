//! Database code and invariants, each test on its own fresh database.
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::db::{load_user, upsert_user, SignIn};
use app::auth::Scope;
use app::domain::Role;
use app::partners::NewPartner;
use app::AppError;

use crate::helpers::seed_partner;

fn sign_in(subject: &str, tenant: Option<Uuid>, roles: &[&str]) -> SignIn {
    SignIn {
        issuer: "https://idp.test".into(),
        subject: subject.into(),
        email: None,
        display_name: None,
        partner_tenant: tenant,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_partner_comes_from_the_tenant_claim(pool: PgPool) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (id, role) = upsert_user(&pool, &sign_in("a", Some(tenant), &["Partner.Reader"])).await.unwrap();
    assert_eq!(role, Role::PartnerReader);
    let user = load_user(&pool, id).await.unwrap().unwrap();
    assert_eq!(user.partner.unwrap().partner_id, partner);
    assert_eq!(user.display_name, "a", "falls back to the subject when no name is given");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_unknown_tenant_gets_no_access_whatever_its_roles(pool: PgPool) {
    seed_partner(&pool, "Contoso", "ams-01").await;
    let (id, role) = upsert_user(&pool, &sign_in("b", Some(Uuid::new_v4()), &["Partner.Admin"])).await.unwrap();
    assert_eq!(role, Role::NoAccess);
    let user = load_user(&pool, id).await.unwrap().unwrap();
    assert_eq!(user.scope(), Err(AppError::Forbidden));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn roles_follow_the_latest_sign_in(pool: PgPool) {
    let (_, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (first, _) = upsert_user(&pool, &sign_in("c", Some(tenant), &["Partner.Admin"])).await.unwrap();
    let (second, role) = upsert_user(&pool, &sign_in("c", Some(tenant), &["Partner.Reader"])).await.unwrap();
    assert_eq!(first, second, "same issuer and subject: same user");
    assert_eq!(role, Role::PartnerReader);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn stacks_are_scoped_to_the_partner(pool: PgPool) {
    let (contoso, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    seed_partner(&pool, "Fabrikam", "sea-01").await;
    let first = app::paging::PageOf::new("page", 0, 100).unwrap();
    let mine =
        app::stacks::db::list_stacks(&pool, Scope::Partner(contoso), false, first, &Default::default()).await.unwrap();
    let all = app::stacks::db::list_stacks(&pool, Scope::All, false, first, &Default::default()).await.unwrap();
    assert_eq!(mine.rows.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["ams-01"]);
    assert_eq!(all.rows.len(), 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_partner_id_or_tenant_cannot_be_added_twice_and_additions_are_audited(pool: PgPool) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let again = NewPartner::parse("Other", &partner.to_string(), "1", &Uuid::new_v4().to_string(), "USD").unwrap();
    let same_tenant = NewPartner::parse("Other", &Uuid::new_v4().to_string(), "1", &tenant.to_string(), "USD").unwrap();
    let mut conn = pool.acquire().await.unwrap();

    let e1 = app::partners::db::add_partner(&mut conn, &Actor::command_line(), &again).await.unwrap_err();
    let e2 = app::partners::db::add_partner(&mut conn, &Actor::command_line(), &same_tenant).await.unwrap_err();

    assert!(matches!(&e1, AppError::Conflict(m) if m.contains("Partner ID") && m.contains("Contoso")), "{e1:?}");
    assert!(matches!(&e2, AppError::Conflict(m) if m.contains("directory tenant")), "{e2:?}");
    let events: Vec<(String, String)> =
        sqlx::query_as("select action, actor_label from audit_events").fetch_all(&pool).await.unwrap();
    assert_eq!(events, [("partner.add".to_string(), "command line".to_string())]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn guids_are_stored_lowercase_whatever_the_input(pool: PgPool) {
    let upper = "DA41BC5F-0000-4000-8000-00000000ABCD";
    let new = NewPartner::parse("Upper", upper, "1", "B5F0A1C2-1111-4222-8333-444455556666", "usd").unwrap();
    let mut conn = pool.acquire().await.unwrap();
    app::partners::db::add_partner(&mut conn, &Actor::command_line(), &new).await.unwrap();
    let stored: String = sqlx::query_scalar("select partner_id::text from partners").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, upper.to_lowercase());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_database_refuses_two_mappings_of_one_tenant_at_the_same_time(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let stack: Uuid = sqlx::query_scalar("select stack_id from stacks").fetch_one(&pool).await.unwrap();
    let (sub_a, sub_b, customer) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for sub in [sub_a, sub_b] {
        sqlx::query("insert into commerce_subscriptions values ($1, 'CSP', $2, $3, 'Customer', 'active')")
            .bind(sub)
            .bind(partner)
            .bind(customer)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("insert into registrations (stack_id, partner_id, billing_model) values ($1, $2, 'PayAsYouUse')")
        .bind(stack)
        .bind(partner)
        .execute(&pool)
        .await
        .unwrap();
    let map = |sub: Uuid, from: &'static str, to: Option<&'static str>| {
        sqlx::query("insert into tenant_mappings (stack_id, partner_id, tenant_id, subscription_id, valid_from, valid_to) values ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)")
            .bind(stack)
            .bind(partner)
            .bind(customer)
            .bind(sub)
            .bind(from)
            .bind(to)
    };
    map(sub_a, "2026-01-01Z", Some("2026-02-01Z")).execute(&pool).await.unwrap();

    let overlapping = map(sub_b, "2026-01-15Z", None).execute(&pool).await;
    let after = map(sub_b, "2026-02-01Z", None).execute(&pool).await;

    assert!(overlapping.is_err(), "an overlapping mapping must be refused by the database");
    assert!(after.is_ok(), "a mapping that starts where the previous one ends is fine");
}

/// The rule the foreign key from usage to stacks kept, now checked once a statement (migration `faster_ingest`):
/// usage names a stack of its partner, and a stack with usage is neither deleted nor given another key.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn usage_belongs_to_an_existing_stack_of_its_partner_and_keeps_it(pool: PgPool) {
    let (contoso, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let stack_of = |partner: Uuid| {
        sqlx::query_scalar::<_, Uuid>("select stack_id from stacks where partner_id = $1")
            .bind(partner)
            .fetch_one(&pool)
    };
    let (ams, sea) = (stack_of(contoso).await.unwrap(), stack_of(fabrikam).await.unwrap());
    let hour = time::macros::datetime!(2026-11-02 10:00 UTC);
    let record = |sub: Uuid| app::usage::parse::UsageRecord {
        local_subscription_id: sub,
        meter_id: Uuid::new_v4(),
        start: hour,
        end: hour + time::Duration::HOUR,
        quantity: rust_decimal::Decimal::ONE,
        resource_uri: "/subscriptions/x/vm1".into(),
        location: "local".into(),
        tags: None,
        additional_info: None,
    };
    let store = |partner: Uuid, stack: Uuid, records: Vec<app::usage::parse::UsageRecord>| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let stored = app::usage::db::store_page(&mut tx, partner, stack, &records).await;
            tx.commit().await.unwrap();
            stored
        }
    };
    let count = || sqlx::query_scalar::<_, i64>("select count(*) from usage_records").fetch_one(&pool);

    // Another partner's stack, and a stack that does not exist: refused, nothing stored.
    assert!(store(contoso, sea, vec![record(Uuid::new_v4())]).await.is_err());
    assert!(store(contoso, Uuid::new_v4(), vec![record(Uuid::new_v4())]).await.is_err());
    assert_eq!(count().await.unwrap(), 0);

    // Its own stack: stored, once; the same page again stores nothing new.
    let page = vec![record(Uuid::new_v4()), record(Uuid::new_v4())];
    let first = store(contoso, ams, page.clone()).await.unwrap();
    let again = store(contoso, ams, page).await.unwrap();
    assert_eq!((first.new, again.new, again.unchanged), (2, 0, 2));
    assert_eq!(count().await.unwrap(), 2);

    // A stack with usage stays, with its key; one without can go.
    for statement in
        ["delete from stacks where stack_id = $1", "update stacks set stack_id = gen_random_uuid() where stack_id = $1"]
    {
        let refused = sqlx::query(statement).bind(ams).execute(&pool).await.unwrap_err();
        assert_eq!(refused.as_database_error().and_then(|d| d.code()).as_deref(), Some("23503"), "{statement}");
    }
    sqlx::query("update stacks set name = 'ams-02' where stack_id = $1").bind(ams).execute(&pool).await.unwrap();
    sqlx::query("delete from stacks where stack_id = $1").bind(sea).execute(&pool).await.unwrap();
}
