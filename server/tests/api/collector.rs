//! The collector end to end against the stand-in usage API: subscriptions and usage stored, continuation followed,
//! 503s retried, the watermark moved only by a complete run, late reports picked up by the overlap, and failures
//! shown on the stack page's data without moving anything.
use std::time::Duration;

use sqlx::PgPool;
use time::{OffsetDateTime, Time};
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::collector::db::save_collector;
use app::collector::forms::CollectorForm;
use app::domain::outbound::Outbound;
use app::registrations::db::stack_by_cloud_id;
use server::collector::client::RetryPolicy;
use server::collector::run::{claim_due, collect_once, Reach, Schedule};

use crate::helpers::{seed_partner, test_key};
use crate::standin_usage_api::{subscription, Config, Record, StandIn};

fn this_hour() -> OffsetDateTime {
    let now = app::domain::clock::now();
    now.replace_time(Time::from_hms(now.hour(), 0, 0).unwrap())
}

fn schedule() -> Schedule {
    Schedule {
        retry: RetryPolicy { attempts: 4, base: Duration::from_millis(10), max: Duration::from_millis(50) },
        ..Schedule::default()
    }
}

/// A stack with a collector pointed at `standin`, collecting from two days back; returns its stack ID.
async fn collector_for(pool: &PgPool, standin: &StandIn, token: &str) -> Uuid {
    seed_partner(pool, "Contoso", "ams-01").await;
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(pool).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let stack = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
    let form = CollectorForm {
        endpoint: standin.base.to_string(),
        provider_subscription: standin.provider_subscription.to_string(),
        auth_kind: "bearer".into(),
        bearer_token: token.into(),
        collect_from: (app::domain::clock::now() - time::Duration::days(2)).date().to_string(),
        enabled: Some("on".into()),
        ..CollectorForm::default()
    };
    save_collector(&mut tx, &Actor::command_line(), &stack, &form, &Outbound::lab(), &test_key()).await.unwrap();
    tx.commit().await.unwrap();
    stack.stack_id
}

/// The stand-in listens on loopback over http: a lab's outbound rules.
fn reach() -> Reach {
    Reach::new(Outbound::lab(), std::sync::Arc::new(test_key())).unwrap()
}

async fn watermark(pool: &PgPool) -> OffsetDateTime {
    sqlx::query_scalar("select watermark from collectors").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_run_stores_everything_reported_and_the_next_run_picks_up_late_reports(pool: PgPool) {
    let now = this_hour();
    let mut config = Config::new();
    config.page_size = 2;
    config.unavailable_first = 2;
    config.subscriptions = vec![subscription(Uuid::from_u128(0x5ab0_0000), "Prod")];
    config.records = vec![
        Record::on_time(now - time::Duration::hours(2), 1),
        Record::on_time(now - time::Duration::hours(2), 2),
        Record::late(now - time::Duration::hours(2), 30, 3),
    ];
    let standin = StandIn::start(config.clone()).await;
    let stack = collector_for(&pool, &standin, &config.token).await;
    let http = reach();

    let due = claim_due(&pool, schedule(), 20).await.unwrap();
    let first = collect_once(&pool, &http, stack, app::domain::clock::now(), schedule()).await.unwrap();
    let after_first = watermark(&pool).await;
    // A record the usage system only now reports, with a reported time inside the overlap of the next run.
    let mut records = config.records.clone();
    records.push(Record::late(now - time::Duration::hours(1), 5, 4));
    standin.set_records(records);
    let second = collect_once(&pool, &http, stack, app::domain::clock::now(), schedule()).await.unwrap();

    assert_eq!(due, vec![stack], "a new collector is due at once");
    assert_eq!((first.usage.new, first.pages, first.subscriptions), (3, 2, 1), "continuation followed past the 503s");
    assert_eq!((second.usage.new, second.usage.unchanged), (1, 3));
    assert_eq!(after_first, now);
    let hours: Vec<OffsetDateTime> = sqlx::query_scalar("select usage_start from usage_records order by usage_start")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(hours[0], now - time::Duration::hours(32), "late usage lands in its own hour");
    assert_eq!(hours.len(), 4);
    let asked: Vec<String> =
        standin.requests().into_iter().filter(|r| r.contains("subscriberUsageAggregates")).collect();
    assert!(asked.iter().all(|r| r.contains("aggregationGranularity=Hourly")), "{asked:?}");
    let second_start = (now - time::Duration::hours(3)).format(&time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!(
        asked.iter().filter(|r| r.contains(&format!("reportedStartTime={}", &second_start[..13]))).count(),
        2,
        "the second run re-reads the 3 hours before the watermark, one reported hour at a time: {asked:?}"
    );
    let owner: Uuid =
        sqlx::query_scalar("select owner_tenant_id from local_subscriptions").fetch_one(&pool).await.unwrap();
    assert_eq!(owner, Uuid::from_u128(0x7e4a47));
    let status = app::collector::db::status(&pool, stack).await.unwrap().unwrap();
    assert!(status.last_success_at.is_some() && status.last_summary.unwrap().contains("1 new"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_failed_run_keeps_the_watermark_and_says_why(pool: PgPool) {
    let mut config = Config::new();
    config.records = vec![Record::on_time(this_hour() - time::Duration::hours(2), 1)];
    let standin = StandIn::start(config).await;
    let stack = collector_for(&pool, &standin, "a-wrong-token").await;
    let before = watermark(&pool).await;

    let failed = collect_once(&pool, &reach(), stack, app::domain::clock::now(), schedule()).await;

    assert!(failed.unwrap_err().contains("401"));
    assert_eq!(watermark(&pool).await, before);
    let stored: i64 = sqlx::query_scalar("select count(*) from usage_records").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 0);
    let status = app::collector::db::status(&pool, stack).await.unwrap().unwrap();
    assert!(status.last_error.unwrap().contains("401") && status.last_success_at.is_none());
    assert!(claim_due(&pool, schedule(), 20).await.unwrap().is_empty(), "a failed collector waits before retrying");
    let audited: Vec<String> = sqlx::query_scalar("select action from audit_events where action like 'usage.collect%'")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(audited, ["usage.collect.failed"], "a failed run leaves an audit event too");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_usage_hour_reported_in_pieces_across_runs_adds_up(pool: PgPool) {
    // DOMAIN §1.5's example: one usage hour reported partly in one hour (3) and partly three hours later (2).
    let now = this_hour();
    let usage_hour = now - time::Duration::hours(6);
    let piece = |reported_hours_later: i64, quantity: &str| Record {
        reported: usage_hour + time::Duration::hours(reported_hours_later),
        quantity: quantity.into(),
        ..Record::late(usage_hour + time::Duration::hours(reported_hours_later), reported_hours_later, 1)
    };
    let mut config = Config::new();
    config.records = vec![piece(1, "3")];
    let standin = StandIn::start(config.clone()).await;
    let stack = collector_for(&pool, &standin, &config.token).await;
    let http = reach();
    let total = async || -> rust_decimal::Decimal {
        sqlx::query_scalar("select coalesce(sum(quantity), 0) from usage_records").fetch_one(&pool).await.unwrap()
    };

    // The first run, before the second part is reported (the stand-in only has the first).
    let at = |t: OffsetDateTime| t + time::Duration::minutes(5);
    collect_once(&pool, &http, stack, at(usage_hour + time::Duration::hours(3)), schedule()).await.unwrap();
    let first = total().await;
    standin.set_records(vec![piece(1, "3"), piece(4, "2")]);
    collect_once(&pool, &http, stack, at(usage_hour + time::Duration::hours(5)), schedule()).await.unwrap();
    let second = total().await;
    // A later run reads both reported hours again (its overlap reaches them): nothing is counted twice.
    collect_once(&pool, &http, stack, at(now), schedule()).await.unwrap();
    let charged: rust_decimal::Decimal =
        sqlx::query_scalar("select coalesce(sum(quantity), 0) from charges").fetch_one(&pool).await.unwrap();

    assert_eq!(first, rust_decimal::Decimal::from(3));
    assert_eq!(
        second,
        rust_decimal::Decimal::from(5),
        "3 + 2: the parts add up, the second does not replace the first"
    );
    assert_eq!(total().await, rust_decimal::Decimal::from(5));
    assert_eq!(charged, rust_decimal::Decimal::from(5));
    let parts: Vec<OffsetDateTime> = sqlx::query_scalar("select reported_at from usage_records order by reported_at")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(parts, [usage_hour + time::Duration::hours(1), usage_hour + time::Duration::hours(4)]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_collector_of_an_archived_stack_is_not_run_until_it_is_restored(pool: PgPool) {
    let config = Config::new();
    let standin = StandIn::start(config.clone()).await;
    let stack = collector_for(&pool, &standin, &config.token).await;
    let set = |archived: bool| {
        sqlx::query("update stacks set archived_at = case when $2 then now() end where stack_id = $1")
            .bind(stack)
            .bind(archived)
            .execute(&pool)
    };

    set(true).await.unwrap();
    let while_archived = claim_due(&pool, schedule(), 20).await.unwrap();
    set(false).await.unwrap();
    let restored = claim_due(&pool, schedule(), 20).await.unwrap();

    assert!(while_archived.is_empty(), "an archived stack's collector is skipped");
    assert_eq!(restored, vec![stack], "and due again once restored");
}
