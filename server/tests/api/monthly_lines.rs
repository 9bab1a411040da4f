//! The monthly bill lines (migrations `monthly_bill_lines` and `fold_in_steps`) stay the sums of the day rows
//! whatever changes those, and what reads the notes of changed months copes with a month that lost all its charges.
use sqlx::PgPool;
use uuid::Uuid;

use app::domain::Period;

use crate::bills::{amounts, month};

/// No code moves a charge to another month today, but a correction that did must not leave the month it left
/// billed from stale monthly lines: the update's old rows are noted as well as its new ones.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn charges_moved_to_another_month_are_refolded_in_both(pool: PgPool) {
    let m = month(pool).await;
    let october = m.bill(m.b, "2026-10").await;
    assert!(!october.lines.is_empty(), "B has usage in October");

    let moved = sqlx::query(
        "update charges set day = (day + interval '2 months')::date
         where partner_id = $1 and billing_subscription_id = $2 and day >= '2026-10-01' and day < '2026-11-01'",
    )
    .bind(m.partner)
    .bind(m.b)
    .execute(&m.pool)
    .await
    .unwrap()
    .rows_affected();
    app::charges::db::fold_monthly(&m.pool).await.unwrap();

    assert!(moved > 0);
    assert_eq!(app::charges::db::monthly_differences(&m.pool).await.unwrap(), 0, "both months refolded");
    assert_eq!(m.bill(m.b, "2026-10").await.lines, [], "October has nothing of B left");
    assert_eq!(amounts(&m.bill(m.b, "2026-12").await), amounts(&october), "December has it all");
}

/// A month that lost all its charges leaves a note until it is folded. If its subscription is otherwise unknown to
/// the partner (not in its directory, no bill, no charges), it has no bill, and the export of the month's bills goes
/// on without it instead of stopping.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_bills_export_passes_over_a_subscription_known_only_by_a_note(pool: PgPool) {
    let m = month(pool).await;
    let gone = Uuid::new_v4();
    sqlx::query("insert into charges_dirty (partner_id, billing_subscription_id, month) values ($1, $2, '2026-10-01')")
        .bind(m.partner)
        .bind(gone)
        .execute(&m.pool)
        .await
        .unwrap();

    let (send, mut receive) = tokio::sync::mpsc::channel(64);
    let wrote = server::bills_export::write(&m.pool, m.partner, Period::parse("2026-10").unwrap(), None, &send).await;
    drop(send);
    let mut csv = String::new();
    while let Some(chunk) = receive.recv().await {
        csv.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }

    assert!(wrote.is_ok(), "the export went on: {wrote:?}");
    assert!(csv.contains(&m.b.to_string()) && csv.contains(&m.default.to_string()), "{csv}");
    assert!(!csv.contains(&gone.to_string()));
}
