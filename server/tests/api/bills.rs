//! Bills computed by hand for a small month: a mapping replaced mid-month, an unregistered tenant and an unknown local
//! subscription falling through to the default subscription, an unmapped meter, a price change mid-month, a
//! correction, markup, finalising, and a late record after finalising becoming an adjustment on the next bill.
//! Then the bills over HTTP: the CSV, and another partner trying to reach them.
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::PgPool;
use time::macros::datetime;
use time::OffsetDateTime;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::bills::db::bill;
use app::bills::lifecycle::{finalise, set_markup};
use app::bills::Bill;
use app::domain::BillingModel;
use app::domain::Period;
use app::local_subscriptions::parse::LocalSubscription;
use app::registrations::db::{set_registration, stack_by_cloud_id, StackRef};
use app::registrations::mappings::{map_tenant, Expect};
use app::usage::parse::UsageRecord;

use crate::helpers::{directory_subscription, seed_partner};

pub(crate) const BASE_VM: &str = "fab6eb84-500b-4a09-a8ca-7358f8bbaea5";
const STORAGE: &str = "09f8879e-87e9-4305-a572-4b7be209f857";
pub(crate) const UNMAPPED: &str = "6dab500f-a4fd-49c4-956d-229bb9c8c793";
pub(crate) const M1: &str = "821be9b1-ce85-57dd-9a7e-98726239b2bb";
pub(crate) const M2: &str = "d46f21e1-527d-5562-b071-8da7069bec9b";

pub(crate) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

pub(crate) struct Month {
    pub(crate) pool: PgPool,
    pub(crate) partner: Uuid,
    pub(crate) stack: StackRef,
    pub(crate) default: Uuid,
    pub(crate) a1: Uuid,
    pub(crate) a2: Uuid,
    pub(crate) b: Uuid,
    pub(crate) tenant_b: Uuid,
    pub(crate) tenant_c: Uuid,
    pub(crate) local: [Uuid; 4],
}

impl Month {
    pub(crate) async fn usage(&self, local: Uuid, meter: &str, start: OffsetDateTime, quantity: &str) {
        self.usage_page(local, meter, &[(start, start + time::Duration::HOUR)], quantity).await;
    }

    /// One page of records of the same VM, meter and quantity, one per window.
    async fn usage_page(&self, local: Uuid, meter: &str, windows: &[(OffsetDateTime, OffsetDateTime)], quantity: &str) {
        assert!(self.try_usage_page(local, meter, windows, quantity).await, "the page lost a deadlock");
    }

    /// [`Month::usage_page`]; `false` when the page lost a race with a concurrent one and stored nothing.
    async fn try_usage_page(
        &self,
        local: Uuid,
        meter: &str,
        windows: &[(OffsetDateTime, OffsetDateTime)],
        quantity: &str,
    ) -> bool {
        let records = windows.iter().map(|&(start, end)| UsageRecord {
            local_subscription_id: local,
            meter_id: id(meter),
            start,
            end,
            quantity: d(quantity),
            resource_uri: format!(
                "/subscriptions/{local}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
            ),
            location: "local".into(),
            tags: None,
            additional_info: None,
        });
        let mut tx = self.pool.begin().await.unwrap();
        match app::usage::db::store_page(&mut tx, self.partner, self.stack.stack_id, &records.collect::<Vec<_>>()).await
        {
            Ok(_) => {
                tx.commit().await.unwrap();
                true
            }
            Err(app::AppError::Busy) => false,
            Err(e) => panic!("storing a page: {e}"),
        }
    }

    /// The bill, read from the day rows of months changed since the last fold, then again after folding them into
    /// the monthly lines (migration `monthly_bill_lines`): both reads must agree.
    pub(crate) async fn bill(&self, sub: Uuid, period: &str) -> Bill {
        let mut conn = self.pool.acquire().await.unwrap();
        let period = Period::parse(period).unwrap();
        let unfolded = bill(&mut conn, self.partner, sub, period).await.unwrap();
        app::charges::db::fold_monthly(&self.pool).await.unwrap();
        let folded = bill(&mut conn, self.partner, sub, period).await.unwrap();
        assert_eq!(unfolded, folded, "the monthly lines bill what the day rows bill");
        folded
    }
}

pub(crate) fn amounts(b: &Bill) -> Vec<(String, String, Decimal, Decimal, Decimal)> {
    b.lines
        .iter()
        .map(|l| (l.line_type.to_string(), l.meter_name.clone(), l.quantity, l.unit_price, l.amount))
        .collect()
}

pub(crate) async fn month(pool: PgPool) -> Month {
    let (partner, own_tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (tenant_a, tenant_b, tenant_c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let default = directory_subscription(&pool, partner, own_tenant, "APSS").await;
    let a1 = directory_subscription(&pool, partner, tenant_a, "CSP").await;
    let a2 = directory_subscription(&pool, partner, tenant_a, "CSP").await;
    let b = directory_subscription(&pool, partner, tenant_b, "CSP").await;
    let mut tx = pool.begin().await.unwrap();
    for (sql, file) in [
        ("meters", "Local Meter ID,Commerce Meter ID,Factor\nFAB6EB84-500B-4A09-A8CA-7358F8BBAEA5,821be9b1-ce85-57dd-9a7e-98726239b2bb,1\n09F8879E-87E9-4305-A572-4B7BE209F857,d46f21e1-527d-5562-b071-8da7069bec9b,0.5\n"),
        ("prices", "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n821be9b1-ce85-57dd-9a7e-98726239b2bb,Base VM,Azure Stack Hub,1 vCPU Hour,0.008,USD,2017-07-01\n821be9b1-ce85-57dd-9a7e-98726239b2bb,Base VM,Azure Stack Hub,1 vCPU Hour,0.010,USD,2026-10-16\nd46f21e1-527d-5562-b071-8da7069bec9b,Blob Storage,Azure Stack Hub,1 GB/Month,0.006,USD,2017-07-01\nc70df2d5-a62e-5ade-b348-f536792f2e49,D2 v3,EU West,1 Hour,0.096,USD,2017-07-01\n"),
    ] {
        if sql == "meters" {
            let rows = app::pricing::import::parse_meter_map(file).unwrap();
            app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &rows).await.unwrap();
        } else {
            let prices = app::pricing::import::parse_prices(file).unwrap();
            let s = app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await.unwrap();
            assert_eq!((s.added, s.skipped), (3, 1), "EU West is left out");
        }
    }
    let cloud: Uuid = sqlx::query_scalar("select cloud_id from stacks").fetch_one(&mut *tx).await.unwrap();
    let stack = stack_by_cloud_id(&mut tx, Scope::All, cloud).await.unwrap();
    let actor = Actor::command_line();
    set_registration(&mut tx, &actor, &stack, BillingModel::PayAsYouUse, default, None).await.unwrap();
    // A first registration covers every open period: October is billed to the default subscription too.
    map_tenant(&mut tx, &actor, &stack, tenant_a, a1, Some(datetime!(2026-10-01 00:00 UTC)), Expect::Anything)
        .await
        .unwrap();
    map_tenant(&mut tx, &actor, &stack, tenant_a, a2, Some(datetime!(2026-10-11 00:00 UTC)), Expect::Anything)
        .await
        .unwrap();
    map_tenant(&mut tx, &actor, &stack, tenant_b, b, Some(datetime!(2026-10-01 00:00 UTC)), Expect::Anything)
        .await
        .unwrap();
    let local = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let list = [(local[0], tenant_a), (local[1], tenant_b), (local[2], tenant_c)]
        .map(|(subscription_id, owner_tenant_id)| LocalSubscription {
            subscription_id,
            owner_tenant_id,
            display_name: "x".into(),
            offer_name: "basic".into(),
            state: "Enabled".into(),
        })
        .to_vec();
    app::local_subscriptions::db::store_list(&mut tx, partner, stack.stack_id, list).await.unwrap();
    set_markup(&mut tx, &actor, partner, None, Some(d("10"))).await.unwrap();
    tx.commit().await.unwrap();
    // The imports above queued re-rates (nothing to re-rate yet); done, so bills can be finalised.
    app::charges::db::run_queued(&pool).await.unwrap();
    let m = Month { pool, partner, stack, default, a1, a2, b, tenant_b, tenant_c, local };
    m.usage(local[0], BASE_VM, datetime!(2026-10-05 10:00 UTC), "10").await; // A1, 0.008
    m.usage(local[0], BASE_VM, datetime!(2026-10-20 10:00 UTC), "10").await; // A2 (replaced), 0.010
    m.usage(local[0], UNMAPPED, datetime!(2026-10-20 10:00 UTC), "99").await; // informational
    m.usage(local[1], BASE_VM, datetime!(2026-10-10 10:00 UTC), "3.3333").await; // B
    m.usage(local[1], STORAGE, datetime!(2026-10-10 10:00 UTC), "100").await; // B, × 0.5
    m.usage(local[2], BASE_VM, datetime!(2026-10-12 10:00 UTC), "5").await; // tenant C: unmapped, default
    m.usage(local[3], BASE_VM, datetime!(2026-10-12 11:00 UTC), "7").await; // unknown local subscription: default
    m
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_month_of_usage_is_billed_to_the_cent(pool: PgPool) {
    let m = month(pool).await;

    let (a1, a2, b, default) = (
        m.bill(m.a1, "2026-10").await,
        m.bill(m.a2, "2026-10").await,
        m.bill(m.b, "2026-10").await,
        m.bill(m.default, "2026-10").await,
    );

    assert_eq!(amounts(&a1), [("usage".into(), "Base VM".into(), d("10"), d("0.008"), d("0.08"))]);
    assert_eq!(
        amounts(&a2),
        [("usage".into(), "Base VM".into(), d("10"), d("0.01"), d("0.10"))],
        "replaced mid-month, new price"
    );
    // 3.3333 × 0.008 = 0.0266664 → 0.02; 100 × 0.5 × 0.006 = 0.30.
    assert_eq!(
        amounts(&b),
        [
            ("usage".into(), "Base VM".into(), d("3.3333"), d("0.008"), d("0.02")),
            ("usage".into(), "Blob Storage".into(), d("50"), d("0.006"), d("0.30"))
        ]
    );
    assert_eq!(
        (b.total_amount, b.total_customer_price, b.total_margin),
        (d("0.32"), d("0.35"), d("0.03")),
        "10 % markup, per line"
    );
    assert_eq!(b.lines[0].precise_amount, d("0.0266664"));
    // Tenant C (5) and the unknown subscription (7) fall through: 12 × 0.008 = 0.096 → 0.09.
    assert_eq!(amounts(&default), [("usage".into(), "Base VM".into(), d("12"), d("0.008"), d("0.09"))]);
    let fell: Vec<Option<Uuid>> = default.fell_through.iter().map(|f| f.tenant_id).collect();
    assert_eq!(fell, [None, Some(m.tenant_c)], "both are named on the default bill");
    assert_eq!(b.currency, "USD");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn corrections_count_and_late_usage_after_finalising_becomes_an_adjustment(pool: PgPool) {
    let m = month(pool).await;
    m.usage(m.local[1], STORAGE, datetime!(2026-10-10 10:00 UTC), "120").await; // correction: 60 × 0.006 = 0.36

    let mut tx = m.pool.begin().await.unwrap();
    let finalised =
        finalise(&mut tx, &Actor::command_line(), m.partner, m.b, Period::parse("2026-10").unwrap()).await.unwrap();
    tx.commit().await.unwrap();
    m.usage(m.local[1], BASE_VM, datetime!(2026-10-28 10:00 UTC), "100").await; // late: 100 × 0.010 = 1.00
    let october = m.bill(m.b, "2026-10").await;
    let november = m.bill(m.b, "2026-11").await;

    assert_eq!(finalised.total_amount, d("0.38"));
    assert_eq!(october.status, app::bills::BillStatus::Final);
    assert_eq!(october.total_amount, d("0.38"), "a final bill never changes");
    assert_eq!(amounts(&november), [("adjustment".into(), "Base VM".into(), d("100"), d("0.01"), d("1.00"))]);
    assert_eq!(november.lines[0].charge_period.to_string(), "2026-10");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_events where action = 'bill.finalise'")
        .fetch_one(&m.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn adjustments_bring_what_was_billed_to_the_rounded_current_total(pool: PgPool) {
    let m = month(pool).await;
    let october = Period::parse("2026-10").unwrap();
    let mut tx = m.pool.begin().await.unwrap();
    finalise(&mut tx, &Actor::command_line(), m.partner, m.b, october).await.unwrap();
    tx.commit().await.unwrap();
    // Billed in October: 3.3333 × 0.008 = 0.0266664 → 0.02. Late: 0.5 × 0.008 = 0.004 → precise total 0.0306664,
    // ROUNDDOWN 0.03, so 0.01 is owed (a rounded delta, ROUNDDOWN(0.004) = 0.00, would lose it).
    m.usage(m.local[1], BASE_VM, datetime!(2026-10-11 10:00 UTC), "0.5").await;
    let one = m.bill(m.b, "2026-11").await;
    // Later still: 0.1 × 0.008 = 0.0008 → 0.0314664, still 0.03: the adjustment stays 0.01, no new line.
    m.usage(m.local[1], BASE_VM, datetime!(2026-10-12 10:00 UTC), "0.1").await;
    let two = m.bill(m.b, "2026-11").await;
    // A late record that changes no cent (0.01 × 0.006 × 0.5 = 0.00003 of storage, 0.30 → 0.30003) adds no line.
    m.usage(m.local[1], STORAGE, datetime!(2026-10-13 10:00 UTC), "0.01").await;
    let three = m.bill(m.b, "2026-11").await;

    assert_eq!(amounts(&one), [("adjustment".into(), "Base VM".into(), d("0.5"), d("0.008"), d("0.01"))]);
    assert_eq!(amounts(&two), [("adjustment".into(), "Base VM".into(), d("0.6"), d("0.008"), d("0.01"))]);
    assert_eq!(amounts(&three), amounts(&two), "no 0.00 line for storage");
    // Customer price at 10 %: ROUNDDOWN(0.0314664 × 1.1 = 0.03461304) = 0.03, billed 0.02 → 0.01.
    assert_eq!((three.total_amount, three.total_customer_price), (d("0.01"), d("0.01")));
}

/// The 24 hours of a UTC day, and the day as one Daily window.
fn hours_and_day(day: OffsetDateTime) -> (Vec<(OffsetDateTime, OffsetDateTime)>, (OffsetDateTime, OffsetDateTime)) {
    let hours = (0..24).map(|h| (day + time::Duration::hours(h), day + time::Duration::hours(h + 1))).collect();
    (hours, (day, day + time::Duration::DAY))
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_day_reported_hourly_and_daily_is_billed_once_in_either_order(pool: PgPool) {
    let m = month(pool).await;
    let base_vm = |b: &Bill| b.lines.iter().find(|l| l.unit_price == d("0.01")).map(|l| (l.quantity, l.amount));
    // 20 October: 24 Hourly records of 4 vCore-hours, then the Daily record of 96 for the same VM and day.
    let (hours, day) = hours_and_day(datetime!(2026-10-20 00:00 UTC));
    m.usage_page(m.local[1], BASE_VM, &hours, "4").await;
    m.usage_page(m.local[1], BASE_VM, &[day], "96").await;
    let one = m.bill(m.b, "2026-10").await;
    // 21 October: the Daily record first (it counts while the day has no Hourly records), then the Hourly ones.
    let (hours, day) = hours_and_day(datetime!(2026-10-21 00:00 UTC));
    m.usage_page(m.local[1], BASE_VM, &[day], "96").await;
    let daily_only = m.bill(m.b, "2026-10").await;
    m.usage_page(m.local[1], BASE_VM, &hours, "4").await;
    let both = m.bill(m.b, "2026-10").await;
    let rerated: (Decimal, Decimal) = {
        let mut tx = m.pool.begin().await.unwrap();
        app::charges::db::rerate_stack(&mut tx, m.stack.stack_id, datetime!(2026-10-01 00:00 UTC)).await.unwrap();
        tx.commit().await.unwrap();
        base_vm(&m.bill(m.b, "2026-10").await).unwrap()
    };

    // 96 vCore-hours × 0.010 = 0.96 a day, once.
    assert_eq!(base_vm(&one), Some((d("96"), d("0.96"))), "Hourly first: the Daily record is superseded");
    assert_eq!(base_vm(&daily_only), Some((d("192"), d("1.92"))), "a Daily record alone counts");
    assert_eq!(base_vm(&both), Some((d("192"), d("1.92"))), "Daily first: taken back when the Hourly ones arrive");
    assert_eq!(rerated, (d("192"), d("1.92")), "re-rating follows the same rule");
    let filters = app::explorer::Filters {
        from: "2026-10-20".into(),
        to: "2026-10-21".into(),
        group: "resource".into(),
        ..Default::default()
    };
    let parsed = app::explorer::db::parse(&filters, datetime!(2026-12-01 00:00 UTC).date()).unwrap();
    let sql = app::explorer::db::sql(&parsed);
    let rows = app::explorer::db::query(&sql, m.partner, &parsed, 10).fetch_all(&m.pool).await.unwrap();
    let vm: Vec<(Decimal, Option<Decimal>)> =
        rows.iter().filter(|r| r.key.contains(&m.local[1].to_string())).map(|r| (r.quantity, r.cost)).collect();
    assert_eq!(vm, [(d("192"), Some(d("1.92")))], "the explorer's resource view too: {rows:?}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn finalising_one_customers_bill_leaves_the_others_of_the_month_open_to_re_rating(pool: PgPool) {
    let m = month(pool).await;
    let mut tx = m.pool.begin().await.unwrap();
    finalise(&mut tx, &Actor::command_line(), m.partner, m.a1, Period::parse("2026-10").unwrap()).await.unwrap();
    // The stack's next list says tenant C's local subscription belongs to customer B's tenant.
    let moved = LocalSubscription {
        subscription_id: m.local[2],
        owner_tenant_id: m.tenant_b,
        display_name: "x".into(),
        offer_name: "basic".into(),
        state: "Enabled".into(),
    };
    app::local_subscriptions::db::store_list(&mut tx, m.partner, m.stack.stack_id, vec![moved]).await.unwrap();
    tx.commit().await.unwrap();

    let (a1, b, default) =
        (m.bill(m.a1, "2026-10").await, m.bill(m.b, "2026-10").await, m.bill(m.default, "2026-10").await);

    assert_eq!(a1.status, app::bills::BillStatus::Final);
    assert_eq!(a1.total_amount, d("0.08"), "the final bill is untouched");
    // B: (3.3333 + 5) × 0.008 = 0.0666664 → 0.06; the default keeps the unknown subscription's 7 × 0.008 = 0.056.
    assert_eq!(amounts(&b)[0], ("usage".into(), "Base VM".into(), d("8.3333"), d("0.008"), d("0.06")));
    assert_eq!(amounts(&default), [("usage".into(), "Base VM".into(), d("7"), d("0.008"), d("0.05"))]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_price_correction_reaching_a_final_month_is_billed_as_adjustments(pool: PgPool) {
    let m = month(pool).await;
    let mut tx = m.pool.begin().await.unwrap();
    finalise(&mut tx, &Actor::command_line(), m.partner, m.b, Period::parse("2026-10").unwrap()).await.unwrap();
    let file = "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n\
                d46f21e1-527d-5562-b071-8da7069bec9b,Blob Storage,Azure Stack Hub,1 GB/Month,0.007,USD,2026-10-01\n";
    let prices = app::pricing::import::parse_prices(file).unwrap();
    app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await.unwrap();
    tx.commit().await.unwrap();
    app::charges::db::run_queued(&m.pool).await.unwrap();

    let october = m.bill(m.b, "2026-10").await;
    let november = m.bill(m.b, "2026-11").await;

    assert_eq!(october.total_amount, d("0.32"), "the final bill never changes");
    // Storage of 10 October, 50 GB: billed at 0.006 (0.30), now 0.007 (0.35): the old line is taken back and the new
    // one billed, per line key, on the next open bill.
    assert_eq!(
        amounts(&november),
        [
            ("adjustment".into(), "Blob Storage".into(), d("-50"), d("0.006"), d("-0.30")),
            ("adjustment".into(), "Blob Storage".into(), d("50"), d("0.007"), d("0.35"))
        ]
    );
    assert_eq!(november.total_amount, d("0.05"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_price_import_re_rates_open_bills(pool: PgPool) {
    let m = month(pool).await;
    let file = "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n\
                821be9b1-ce85-57dd-9a7e-98726239b2bb,Base VM,Azure Stack,1 vCPU Hour,0.02,USD,2026-10-01\n";
    let mut tx = m.pool.begin().await.unwrap();
    let prices = app::pricing::import::parse_prices(file).unwrap();
    app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await.unwrap();
    tx.commit().await.unwrap();
    app::charges::db::run_queued(&m.pool).await.unwrap();

    let default = m.bill(m.default, "2026-10").await;
    let a2 = m.bill(m.a2, "2026-10").await;

    assert_eq!(amounts(&default), [("usage".into(), "Base VM".into(), d("12"), d("0.02"), d("0.24"))]);
    assert_eq!(amounts(&a2)[0].3, d("0.01"), "the price from 16 October still wins after it");
}

/// One snapshot's bill of B for October, and its lines as the day rows sum them there: (meter, unit price, quantity,
/// precise amount) each.
async fn b_october_and_its_day_rows(m: &Month) -> (Bill, Vec<(Uuid, Decimal, Decimal, Decimal)>) {
    let mut tx = m.pool.begin().await.unwrap();
    sqlx::query("set transaction isolation level repeatable read").execute(&mut *tx).await.unwrap();
    let b = bill(&mut tx, m.partner, m.b, Period::parse("2026-10").unwrap()).await.unwrap();
    let rows: Vec<(Uuid, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "select commerce_meter_id, unit_price, sum(commerce_quantity), sum(amount) from charges
         where partner_id = $1 and billing_subscription_id = $2 and day >= '2026-10-01' and day < '2026-11-01'
           and commerce_meter_id is not null and unit_price is not null
         group by 1, 2 order by 1, 2",
    )
    .bind(m.partner)
    .bind(m.b)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (b, rows.into_iter().map(|(meter, price, q, a)| (meter, price.normalize(), q.normalize(), a.normalize())).collect())
}

/// Issue 15, item 5: bills read a month per line from `charges_monthly`, folded from the day rows in the background.
/// Four writers send overlapping days of B's usage, each page in its own order, while the fold runs beside them and
/// bills are read: every bill read equals its own snapshot's day rows, and once folded the monthly lines are exactly
/// the day rows' sums.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn bills_read_while_usage_arrives_and_is_folded_equal_the_day_rows(pool: PgPool) {
    let m = month(pool).await;
    let done = std::sync::atomic::AtomicBool::new(false);
    // Writer t sends October's days t+1 … t+4, a page of 24 hours each: days 1–7 are each sent by up to four.
    let writers = (0..4u8).map(|t| {
        let m = &m;
        async move {
            for day in (1..=4u8).map(|i| (t + i - 1) % 4 + t + 1).collect::<Vec<_>>() {
                let start = datetime!(2026-10-01 00:00 UTC) + time::Duration::days(i64::from(day) - 1);
                let mut hours: Vec<(OffsetDateTime, OffsetDateTime)> =
                    (0..24).map(|h| (start + time::Duration::hours(h), start + time::Duration::hours(h + 1))).collect();
                hours.rotate_left(usize::from(t) * 5);
                // A page that loses a deadlock to an overlapping one is sent again, as the ingest API does.
                while !m.try_usage_page(m.local[1], BASE_VM, &hours, "1").await {}
            }
        }
    });
    let writing = async {
        futures_util::future::join_all(writers).await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let reading = async {
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || reads == 0 {
            app::charges::db::fold_monthly(&m.pool).await.unwrap();
            let (b, day_rows) = b_october_and_its_day_rows(&m).await;
            let mut lines: Vec<_> =
                b.lines.iter().map(|l| (l.commerce_meter_id, l.unit_price, l.quantity, l.precise_amount)).collect();
            lines.sort();
            assert_eq!(lines, day_rows, "read {reads}: the bill is its snapshot's day rows");
            reads += 1;
        }
        reads
    };
    let ((), reads) = tokio::join!(writing, reading);
    assert!(reads > 0);

    app::charges::db::fold_monthly(&m.pool).await.unwrap();
    let unfolded: i64 = sqlx::query_scalar("select count(*) from charges_dirty").fetch_one(&m.pool).await.unwrap();
    let differing = app::charges::db::monthly_differences(&m.pool).await.unwrap();
    assert_eq!((unfolded, differing), (0, 0), "folded: the monthly lines are the day rows' sums");
    // 7 days × 24 hours of 1 vCPU, each stored once, and the 3.3333 of the 10th: 171.3333 × 0.008 = 1.3706664 →
    // 1.37; storage 100 × 0.5 × 0.006 = 0.30.
    let b = m.bill(m.b, "2026-10").await;
    assert_eq!(
        amounts(&b),
        [
            ("usage".into(), "Base VM".into(), d("171.3333"), d("0.008"), d("1.37")),
            ("usage".into(), "Blob Storage".into(), d("50"), d("0.006"), d("0.30"))
        ]
    );
}
