//! Commerce-directory imports: all or nothing, errors by line and column, audited.
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;
use app::directory::db::{import, ImportSummary};
use app::directory::import::parse;

use crate::helpers::seed_partner;

const HEADER: &str = "SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status\n";

async fn run(pool: &PgPool, text: &str) -> Result<ImportSummary, Vec<(usize, String)>> {
    let rows = parse(text).map_err(|e| e.into_iter().map(|e| (e.line, e.column)).collect::<Vec<_>>())?;
    let mut tx = pool.begin().await.unwrap();
    match import(&mut tx, &Actor::command_line(), &rows).await {
        Ok(s) => {
            tx.commit().await.unwrap();
            Ok(s)
        }
        Err(e) => Err(e.into_iter().map(|e| (e.line, e.column)).collect()),
    }
}

async fn subscriptions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from commerce_subscriptions").fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_import_with_an_unknown_partner_on_one_row_stores_nothing(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (t, unknown) = (Uuid::new_v4(), Uuid::new_v4());
    let text = format!(
        "{HEADER}{},CSP,{partner},{t},A,active\n{},CSP,{partner},{t},B,active\n{},CSP,{unknown},{t},C,active\n",
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4()
    );

    let result = run(&pool, &text).await;

    assert_eq!(result, Err(vec![(4, "BillingPartnerId".to_string())]));
    assert_eq!(subscriptions(&pool).await, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn reimporting_updates_changes_and_counts_the_rest_unchanged(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (a, b, t) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let first = format!("{HEADER}{a},CSP,{partner},{t},A,active\n{b},CSPSS,{partner},{t},B,active\n");
    let second = format!("{HEADER}{a},CSP,{partner},{t},A,suspended\n{b},APSS,{partner},{t},B,active\n");

    let s1 = run(&pool, &first).await.unwrap();
    let s2 = run(&pool, &second).await.unwrap();

    assert_eq!((s1.added, s1.updated, s1.unchanged), (2, 0, 0));
    assert_eq!((s2.added, s2.updated, s2.unchanged), (0, 1, 1), "CSPSS was stored as APSS, so B is unchanged");
    let events: i64 = sqlx::query_scalar("select count(*) from audit_events where entity_type = 'subscription'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 3);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_subscription_cannot_move_to_another_partner(pool: PgPool) {
    let (contoso, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let (s, t) = (Uuid::new_v4(), Uuid::new_v4());
    run(&pool, &format!("{HEADER}{s},CSP,{contoso},{t},A,active\n")).await.unwrap();

    let moved = run(&pool, &format!("{HEADER}{s},CSP,{fabrikam},{t},A,active\n")).await;

    assert_eq!(moved, Err(vec![(2, "SubscriptionId".to_string())]));
    let owner: Uuid =
        sqlx::query_scalar("select billing_partner_id from commerce_subscriptions").fetch_one(&pool).await.unwrap();
    assert_eq!(owner, contoso);
}
