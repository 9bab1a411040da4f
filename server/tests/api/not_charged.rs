//! Usage without an amount: a Development stack's usage kept and shown but not charged, unpriced usage listed and
//! blocking finalising, and the explorer rating a resource as the bills do.
use rust_decimal::Decimal;
use sqlx::PgPool;

use app::audit::Actor;
use app::bills::lifecycle::finalise;
use app::bills::Bill;
use app::domain::BillingModel;
use app::domain::Period;
use app::registrations::db::set_registration;

use crate::bills::{amounts, d, month, Month, UNMAPPED};
use crate::helpers::{partner_tenant, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_development_stacks_usage_is_kept_and_shown_but_not_charged(pool: PgPool) {
    let m = month(pool).await;
    let mut tx = m.pool.begin().await.unwrap();
    set_registration(&mut tx, &Actor::command_line(), &m.stack, BillingModel::Development, m.default, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let (b, default) = (m.bill(m.b, "2026-10").await, m.bill(m.default, "2026-10").await);

    assert!(b.lines.is_empty() && default.lines.is_empty(), "nothing charged: {:?}", b.lines);
    let shown = |bill: &Bill| -> Vec<(String, Decimal)> {
        bill.uncharged.iter().map(|u| (u.reason.clone(), u.quantity)).collect()
    };
    // Still routed as before: B's own usage (3.3333 Base VM, 100 GB storage) and the default's 5 + 7.
    assert_eq!(shown(&b), [("Development".into(), d("3.3333")), ("Development".into(), d("100"))]);
    assert_eq!(shown(&default), [("Development".into(), d("12"))]);
    assert!(default.uncharged[0].explanation().contains("free"));
    let mut tx = m.pool.begin().await.unwrap();
    let finalised = finalise(&mut tx, &Actor::command_line(), m.partner, m.b, Period::parse("2026-10").unwrap()).await;
    assert_eq!(finalised.unwrap().total_amount, d("0"), "a model's uncharged usage does not block finalising");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn unpriced_usage_is_shown_counted_and_blocks_finalising(pool: PgPool) {
    let m = month(pool.clone()).await;
    // VM hours (99 on 20 October, A2's tenant) now map to a commerce meter the price list has no Azure Stack price for.
    let map = format!("Local Meter ID,Commerce Meter ID,Factor\n{UNMAPPED},c70df2d5-a62e-5ade-b348-f536792f2e49,1\n");
    let rows = app::pricing::import::parse_meter_map(&map).unwrap();
    let mut tx = m.pool.begin().await.unwrap();
    app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &rows).await.unwrap();
    tx.commit().await.unwrap();
    app::charges::db::run_queued(&m.pool).await.unwrap();
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;

    let a2 = m.bill(m.a2, "2026-10").await;
    let mut tx = m.pool.begin().await.unwrap();
    let refused = finalise(&mut tx, &Actor::command_line(), m.partner, m.a2, Period::parse("2026-10").unwrap()).await;
    drop(tx);
    let dashboard = app.page("/dashboard?month=2026-10").await;
    let page = app.page(&format!("/bills/2026-10/{}", m.a2)).await;
    let answered = [("confirmed", "yes")];
    let finalise = format!("/bills/2026-10/{}/finalise", m.default);
    app.client.post(app.url(&finalise)).header("origin", &app.base).form(&answered).send().await.unwrap();
    let default_page = app.page(&format!("/bills/2026-10/{}", m.default)).await;

    assert_eq!(amounts(&a2), [("usage".into(), "Base VM".into(), d("10"), d("0.01"), d("0.10"))], "priced lines stay");
    assert_eq!(a2.uncharged.len(), 1);
    assert_eq!((a2.uncharged[0].reason.as_str(), a2.uncharged[0].quantity), ("unpriced", d("99")));
    let refused = refused.unwrap_err().to_string();
    assert!(refused.contains("without a price in USD (99 units from 2026-10-20 to 2026-10-20"), "{refused}");
    assert!(dashboard.contains("data-testid=\"unpriced\"") && dashboard.contains("99 units"), "counted: {dashboard}");
    assert!(page.contains("Usage without an amount") && page.contains("unpriced"), "shown on the bill");
    assert!(default_page.contains("The bill is final") && default_page.contains("fell through"), "finalising warns");
}

/// The explorer's cost of a resource over October: the per-resource view reads raw usage, not the charges.
async fn explorer_costs_by_resource(m: &Month) -> Vec<Option<Decimal>> {
    let filters = app::explorer::Filters {
        from: "2026-10-01".into(),
        to: "2026-10-31".into(),
        group: "resource".into(),
        ..Default::default()
    };
    let parsed = app::explorer::db::parse(&filters, time::macros::date!(2026 - 11 - 15)).unwrap();
    let sql = app::explorer::db::sql(&parsed);
    let rows = app::explorer::db::query(&sql, m.partner, &parsed, 1000).fetch_all(&m.pool).await.unwrap();
    rows.into_iter().map(|r| r.cost).collect()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_explorer_rates_a_resource_as_the_bills_do(pool: PgPool) {
    let m = month(pool).await;
    // Pay as you use: the resources' costs add up to the month's charges (12 decimals each; the bills round lines).
    let charged: Decimal =
        sqlx::query_scalar("select sum(amount) from charges where day >= '2026-10-01' and day < '2026-11-01'")
            .fetch_one(&m.pool)
            .await
            .unwrap();
    let by_resource = explorer_costs_by_resource(&m).await;
    assert_eq!(by_resource.iter().flatten().sum::<Decimal>(), charged);

    // A Development stack is never charged: the bill shows its usage without an amount, and so does the explorer.
    let mut tx = m.pool.begin().await.unwrap();
    set_registration(&mut tx, &Actor::command_line(), &m.stack, BillingModel::Development, m.default, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let by_resource = explorer_costs_by_resource(&m).await;
    assert!(!by_resource.is_empty());
    assert!(by_resource.iter().all(Option::is_none), "not charged, as on the bill: {by_resource:?}");
}
