//! Re-rating in the background: a price list import commits at once and queues one re-rate per stack; ingest goes on
//! meanwhile (for every stack but the one being re-rated, and only while it is); bills say "being re-rated" and
//! cannot be finalised until their partner's stacks are done; a queued re-rate survives a restart.
use std::time::Duration;

use reqwest::StatusCode;
use rust_decimal::Decimal;
use sqlx::PgPool;

use app::audit::Actor;
use app::domain::Period;

use crate::bills::month;
use crate::helpers::{partner_tenant, spawn_app};
use crate::ingest::{page, record, send, stack_with_key};

const BASE_VM_AT_TWO_CENTS: &str = "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n\
    821be9b1-ce85-57dd-9a7e-98726239b2bb,Base VM,Azure Stack,1 vCPU Hour,0.02,USD,2026-10-01\n";

async fn import_base_vm_price(tx: &mut sqlx::PgConnection) {
    let prices = app::pricing::import::parse_prices(BASE_VM_AT_TWO_CENTS).unwrap();
    app::pricing::db::import_prices(tx, &Actor::command_line(), &prices).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_price_import_commits_at_once_and_bills_say_being_re_rated_until_done(pool: PgPool) {
    let m = month(pool.clone()).await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(partner_tenant(&pool, "Contoso").await), &["Partner.Admin"]).await;
    let default_total = || async {
        let mut conn = pool.acquire().await.unwrap();
        app::bills::db::bill(&mut conn, m.partner, m.default, Period::parse("2026-10").unwrap())
            .await
            .unwrap()
            .total_amount
    };
    let before = default_total().await;
    let bill_before = m.bill(m.default, "2026-10").await;

    let mut tx = pool.begin().await.unwrap();
    import_base_vm_price(&mut tx).await;
    tx.commit().await.unwrap();
    let queued = app::charges::db::queued(&pool, m.partner).await.unwrap();
    let waiting = default_total().await;
    // The queue is the page's news, not the bill's: a bill compared whole (the soak's check of final bills) is the
    // same bill until its amounts change.
    assert_eq!(m.bill(m.default, "2026-10").await, bill_before, "a queued re-rate alone does not change the bill");
    let page_while = app.page(&format!("/bills/2026-10/{}", m.default)).await;
    let mut tx = pool.begin().await.unwrap();
    let period = Period::parse("2026-10").unwrap();
    let refused = app::bills::lifecycle::finalise(&mut tx, &Actor::command_line(), m.partner, m.default, period).await;
    drop(tx);
    let ran = app::charges::db::run_queued(&pool).await.unwrap();
    let after = default_total().await;
    let page_after = app.page(&format!("/bills/2026-10/{}", m.default)).await;

    // 12 vCPU hours on 12 October fell to the default subscription: 12 × 0.008 = 0.096 → 0.09, then 12 × 0.02.
    assert_eq!((before, waiting, after), (Decimal::new(9, 2), Decimal::new(9, 2), Decimal::new(24, 2)));
    assert_eq!((queued, ran), (1, 1), "one stack queued, re-rated by the worker");
    assert!(page_while.contains("Being re-rated") && !page_after.contains("Being re-rated"));
    assert!(refused.unwrap_err().to_string().contains("being re-rated"), "no final bill from amounts about to change");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn ingest_goes_on_while_a_price_import_is_under_way(pool: PgPool) {
    let _m = month(pool.clone()).await;
    let (other, key) = stack_with_key(&pool, "Fabrikam").await;
    let app = spawn_app(pool.clone()).await;

    // The import's transaction stays open while another stack sends usage (it used to re-rate, and lock, them all).
    let mut import = pool.begin().await.unwrap();
    import_base_vm_price(&mut import).await;
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        send(&app, other, &key, page(&[record(uuid::Uuid::new_v4(), 3, "1")])),
    )
    .await;
    import.commit().await.unwrap();

    let (status, _) = sent.expect("ingest waited for the price import to finish");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app::charges::db::queued_all(&pool).await.unwrap(), 2, "both stacks queued");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_queued_re_rate_survives_a_restart_and_a_failed_try(pool: PgPool) {
    let m = month(pool.clone()).await;
    let mut tx = pool.begin().await.unwrap();
    import_base_vm_price(&mut tx).await;
    tx.commit().await.unwrap();

    // A worker that dies mid-way: its transaction is rolled back, the job is still there.
    let mut dying = pool.begin().await.unwrap();
    sqlx::query("select stack_id from rerate_jobs for update").execute(&mut *dying).await.unwrap();
    sqlx::query("select rerate_stack(stack_id, from_day) from rerate_jobs").execute(&mut *dying).await.unwrap();
    dying.rollback().await.unwrap();
    let still_queued = app::charges::db::queued_all(&pool).await.unwrap();
    // Another process (a restarted portal) takes it.
    let ran = app::charges::db::run_queued(&pool).await.unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let bill = app::bills::db::bill(&mut conn, m.partner, m.default, Period::parse("2026-10").unwrap()).await.unwrap();
    assert_eq!((still_queued, ran, bill.total_amount), (1, 1, Decimal::new(24, 2)));
}
