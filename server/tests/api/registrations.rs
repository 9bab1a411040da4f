//! Registrations and tenant mappings against the database: the rules, history, concurrency and the audit trail.
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::domain::BillingModel;
use app::registrations::db::{set_registration, stack_by_cloud_id, StackRef};
use app::registrations::mappings::{map_tenant, unmap_tenant, Expect};
use app::stacks::NewStack;
use app::AppError;

use crate::helpers::{directory_subscription, seed_partner};

struct World {
    pool: PgPool,
    partner: Uuid,
    other_partner: Uuid,
    stack: StackRef,
    tenant: Uuid,
}

async fn world(pool: PgPool) -> World {
    let (partner, _) = seed_partner(&pool, "Contoso", "seed").await;
    let (other_partner, _) = seed_partner(&pool, "Fabrikam", "seed2").await;
    let stack = NewStack::parse("ams-01", &Uuid::new_v4().to_string(), "Amsterdam", "").unwrap();
    let mut conn = pool.acquire().await.unwrap();
    app::stacks::db::add_stack(&mut conn, &Actor::command_line(), partner, &stack).await.unwrap();
    let cloud: Uuid =
        sqlx::query_scalar("select cloud_id from stacks where name = 'ams-01'").fetch_one(&pool).await.unwrap();
    let stack = stack_by_cloud_id(&mut conn, Scope::Partner(partner), cloud).await.unwrap();
    World { pool, partner, other_partner, stack, tenant: Uuid::new_v4() }
}

impl World {
    async fn register(&self, offer: &str, model: BillingModel) -> Result<(), AppError> {
        self.register_from(offer, model, None).await.map(|_| ())
    }

    /// Registers with a new default subscription of `offer` from `from`; returns the subscription.
    async fn register_from(
        &self,
        offer: &str,
        model: BillingModel,
        from: Option<OffsetDateTime>,
    ) -> Result<Uuid, AppError> {
        let sub = directory_subscription(&self.pool, self.partner, Uuid::new_v4(), offer).await;
        let mut tx = self.pool.begin().await.unwrap();
        set_registration(&mut tx, &Actor::command_line(), &self.stack, model, sub, from).await?;
        tx.commit().await.unwrap();
        Ok(sub)
    }

    async fn map(&self, sub: Uuid, at: Option<OffsetDateTime>, expect: Expect) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await.unwrap();
        map_tenant(&mut tx, &Actor::command_line(), &self.stack, self.tenant, sub, at, expect).await?;
        tx.commit().await.unwrap();
        Ok(())
    }

    async fn mappings(&self) -> Vec<(Uuid, bool)> {
        sqlx::query_as("select subscription_id, valid_to is null from tenant_mappings order by valid_from")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

/// The rule a refusal cites in its closing parenthesis: "… (R5, BadCustomerSubscriptionId)" gives `R5`.
fn rule(e: AppError) -> String {
    let text = e.to_string();
    let cited = text.rsplit_once(" (").map(|(_, c)| c).unwrap_or_default();
    cited.trim_end_matches(')').split(',').next().unwrap_or_default().to_string()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r1_a_cloud_id_is_registered_once_without_saying_by_whom(pool: PgPool) {
    let w = world(pool).await;
    let again = NewStack::parse("copy", &w.stack.cloud_id.to_string(), "", "").unwrap();
    let mut conn = w.pool.acquire().await.unwrap();

    let added = app::stacks::db::add_stack(&mut conn, &Actor::command_line(), w.other_partner, &again).await.unwrap();
    let e = added.into_result().unwrap_err();

    assert!(matches!(&e, AppError::Conflict(m) if m.starts_with("R1") && !m.contains("Contoso")), "{e:?}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r2_no_tenant_mapping_before_the_default_subscription(pool: PgPool) {
    let w = world(pool).await;
    let sub = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;
    assert_eq!(rule(w.map(sub, None, Expect::Anything).await.unwrap_err()), "R2");
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    w.map(sub, None, Expect::Anything).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r3_ea_default_is_refused_once_tenants_are_mapped(pool: PgPool) {
    let w = world(pool).await;
    w.register("EA", BillingModel::PayAsYouUse).await.unwrap();
    let sub = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;
    assert_eq!(rule(w.map(sub, None, Expect::Anything).await.unwrap_err()), "R3");
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    w.map(sub, None, Expect::Anything).await.unwrap();
    assert_eq!(rule(w.register("EA", BillingModel::PayAsYouUse).await.unwrap_err()), "R3");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r5_another_partners_subscription_is_refused_and_nothing_changes(pool: PgPool) {
    let w = world(pool).await;
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    let theirs = directory_subscription(&w.pool, w.other_partner, w.tenant, "CSP").await;
    let events_before: i64 = sqlx::query_scalar("select count(*) from audit_events").fetch_one(&w.pool).await.unwrap();

    let e = w.map(theirs, None, Expect::Anything).await.unwrap_err();

    assert!(
        e.to_string().ends_with("(R5, BadCustomerSubscriptionId)") && e.to_string().contains(&theirs.to_string()),
        "{e}"
    );
    assert!(w.mappings().await.is_empty());
    let events_after: i64 = sqlx::query_scalar("select count(*) from audit_events").fetch_one(&w.pool).await.unwrap();
    assert_eq!(events_before, events_after);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r7_replacing_closes_the_old_mapping_and_removing_keeps_history(pool: PgPool) {
    let w = world(pool).await;
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    let (a, b) = (
        directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await,
        directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await,
    );
    let hour = time::Duration::hours(1);
    let now = app::domain::clock::now();
    w.map(a, Some(now - hour * 3), Expect::Anything).await.unwrap();

    w.map(b, Some(now - hour * 2), Expect::Current(Some(a))).await.unwrap();
    let mut tx = w.pool.begin().await.unwrap();
    unmap_tenant(&mut tx, &Actor::command_line(), &w.stack, w.tenant, Some(now - hour), Expect::Current(Some(b)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(w.mappings().await, [(a, false), (b, false)], "both closed, neither deleted");
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_events where action like 'mapping.%' order by id")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(actions, ["mapping.add", "mapping.replace", "mapping.remove"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r7_no_effective_time_inside_a_finalised_period_or_in_the_future(pool: PgPool) {
    let w = world(pool).await;
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    let sub = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;
    sqlx::query("insert into bills (partner_id, period, subscription_id, status, finalized_at, currency) values ($1, '2026-01-01', $2, 'final', now(), 'USD')")
        .bind(w.partner)
        .bind(sub)
        .execute(&w.pool)
        .await
        .unwrap();
    let in_final =
        OffsetDateTime::parse("2026-01-15T00:00:00Z", &time::format_description::well_known::Rfc3339).unwrap();

    assert_eq!(rule(w.map(sub, Some(in_final), Expect::Anything).await.unwrap_err()), "R7");
    let future = app::domain::clock::now() + time::Duration::days(1);
    assert_eq!(rule(w.map(sub, Some(future), Expect::Anything).await.unwrap_err()), "R7");
    assert!(w.mappings().await.is_empty());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r7_a_change_backdated_into_an_open_month_may_not_reach_a_later_final_one(pool: PgPool) {
    let w = world(pool).await;
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    let sub = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;
    // February is open, March is final.
    sqlx::query("insert into bills (partner_id, period, subscription_id, status, finalized_at, currency) values ($1, '2026-03-01', $2, 'final', now(), 'USD')")
        .bind(w.partner)
        .bind(sub)
        .execute(&w.pool)
        .await
        .unwrap();
    let in_february = time::macros::datetime!(2026-02-15 00:00 UTC);
    let in_april = time::macros::datetime!(2026-04-01 00:00 UTC);

    let refused = w.map(sub, Some(in_february), Expect::Anything).await.unwrap_err().to_string();

    assert!(refused.ends_with("(R7)") && refused.contains("March 2026"), "names the final period: {refused}");
    assert!(refused.contains("15 February 2026, 00:00 UTC"), "a date reads as a date: {refused}");
    assert!(w.mappings().await.is_empty(), "nothing changed");
    w.map(sub, Some(in_april), Expect::Anything).await.unwrap();
}

/// A usage record of local subscription `local` at `start`, stored on the world's stack.
async fn usage_at(w: &World, local: Uuid, start: OffsetDateTime) {
    let record = app::usage::parse::UsageRecord {
        local_subscription_id: local,
        meter_id: Uuid::parse_str("fab6eb84-500b-4a09-a8ca-7358f8bbaea5").unwrap(),
        start,
        end: start + time::Duration::HOUR,
        quantity: rust_decimal::Decimal::from(4),
        resource_uri: format!(
            "/subscriptions/{local}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        ),
        location: "local".into(),
        tags: None,
        additional_info: None,
    };
    let mut tx = w.pool.begin().await.unwrap();
    app::usage::db::store_page(&mut tx, w.partner, w.stack.stack_id, &[record]).await.unwrap();
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn onboarding_a_stack_bills_the_history_uploaded_after_registering_it(pool: PgPool) {
    let w = world(pool).await;
    let now = app::domain::clock::now();
    let month_start = app::domain::Period::of(now).start().midnight().assume_utc();
    // Registered today (its first registration), a tenant mapped from the start of this month.
    let default = w.register_from("APSS", BillingModel::PayAsYouUse, None).await.unwrap();
    let csp = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;
    w.map(csp, Some(month_start), Expect::Anything).await.unwrap();
    let (mapped, unmapped_tenant, unknown) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let list = [(mapped, w.tenant), (unmapped_tenant, Uuid::new_v4())].map(|(subscription_id, owner_tenant_id)| {
        app::local_subscriptions::parse::LocalSubscription {
            subscription_id,
            owner_tenant_id,
            display_name: "x".into(),
            offer_name: "basic".into(),
            state: "Enabled".into(),
        }
    });
    let mut tx = w.pool.begin().await.unwrap();
    app::local_subscriptions::db::store_list(&mut tx, w.partner, w.stack.stack_id, list.to_vec()).await.unwrap();
    tx.commit().await.unwrap();
    // Then last weeks' usage is uploaded: before the mapping, and of an unmapped tenant and an unknown subscription.
    let weeks_ago = month_start - time::Duration::days(20);
    for local in [mapped, unmapped_tenant, unknown] {
        usage_at(&w, local, weeks_ago).await;
    }
    usage_at(&w, mapped, month_start).await;

    let billed_to: Vec<(Option<Uuid>, rust_decimal::Decimal)> = sqlx::query_as(
        "select billing_subscription_id, sum(quantity) from charges group by 1 order by 2 desc, 1 nulls first",
    )
    .fetch_all(&w.pool)
    .await
    .unwrap();

    // Three records of 4 before the mapping go to the default subscription; the one after it to the customer.
    assert_eq!(
        billed_to,
        [(Some(default), rust_decimal::Decimal::from(12)), (Some(csp), rust_decimal::Decimal::from(4))],
        "nothing is billed to nobody"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn r2_over_time_no_mapping_before_the_registration_and_r7_for_registrations(pool: PgPool) {
    let w = world(pool).await;
    let since = time::macros::datetime!(2026-06-01 00:00 UTC);
    w.register_from("APSS", BillingModel::PayAsYouUse, Some(since)).await.unwrap();
    let sub = directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await;

    let before = w.map(sub, Some(since - time::Duration::HOUR), Expect::Anything).await.unwrap_err().to_string();
    sqlx::query("insert into bills (partner_id, period, subscription_id, status, finalized_at, currency) values ($1, '2026-08-01', $2, 'final', now(), 'USD')")
        .bind(w.partner)
        .bind(sub)
        .execute(&w.pool)
        .await
        .unwrap();
    let into_final = w.register_from("APSS", BillingModel::PayAsYouUse, Some(since + time::Duration::days(30))).await;
    let after_final =
        w.register_from("APSS", BillingModel::PayAsYouUse, Some(time::macros::datetime!(2026-09-01 00:00 UTC))).await;

    assert!(before.ends_with("(R2)"), "{before}");
    assert!(
        into_final.unwrap_err().to_string().contains("August 2026"),
        "a registration change may not reach a final month"
    );
    let defaults: Vec<(Uuid, bool)> =
        sqlx::query_as("select subscription_id, valid_to is null from registration_defaults order by valid_from")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    assert_eq!(defaults.len(), 2, "{defaults:?}");
    assert_eq!(defaults[1], (after_final.unwrap(), true), "the new default from September, the old one closed");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn two_admins_mapping_one_tenant_at_once_leave_one_mapping_and_tell_the_loser(pool: PgPool) {
    let w = world(pool).await;
    w.register("APSS", BillingModel::PayAsYouUse).await.unwrap();
    let (a, b) = (
        directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await,
        directory_subscription(&w.pool, w.partner, w.tenant, "CSP").await,
    );

    let (r1, r2) = tokio::join!(w.map(a, None, Expect::Current(None)), w.map(b, None, Expect::Current(None)));

    assert!(r1.is_ok() != r2.is_ok(), "exactly one wins: {r1:?} {r2:?}");
    let loser = r1.err().or(r2.err()).unwrap();
    assert!(matches!(&loser, AppError::Conflict(m) if m.contains("someone changed")), "{loser:?}");
    let current: i64 = sqlx::query_scalar("select count(*) from tenant_mappings where valid_to is null")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(current, 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn another_partners_stack_is_not_found(pool: PgPool) {
    let w = world(pool).await;
    let mut conn = w.pool.acquire().await.unwrap();
    let e = stack_by_cloud_id(&mut conn, Scope::Partner(w.other_partner), w.stack.cloud_id).await.unwrap_err();
    assert_eq!(e, AppError::NotFound);
}
