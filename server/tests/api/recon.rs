//! Importing Partner Center's reconciliation file (issue 14, item 1): from the command line, all or nothing, per
//! partner and month; a re-import replaces the earlier one and says what changed; another account's file is refused.
use sqlx::PgPool;
use uuid::Uuid;

use crate::cli::stackbill;
use crate::helpers::seed_partner;

/// The sample file of `server/data`, made the seeded partner's (its `PartnerId` is the partner's tenant).
fn sample_of(tenant: Uuid) -> String {
    include_str!("../../data/recon-sample.csv").replace("3e1f2b5c-0000-4000-8000-00000000a001", &tenant.to_string())
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", Uuid::new_v4()));
    std::fs::write(&path, text).unwrap();
    path
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_reconciliation_file_is_imported_replaced_with_its_changes_named_and_refused_for_another_account(
    pool: PgPool,
) {
    let (partner, tenant) = seed_partner(&pool, "Contoso", "ams-01").await;
    let (p, sample) = (partner.to_string(), sample_of(tenant));

    let first = stackbill(&pool, &["recon", "import", "--partner", &p, write("recon.csv", &sample).to_str().unwrap()]);
    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(out.trim(), "imported the reconciliation of 2026-10: 10 lines of Azure Stack Hub, 1 line set aside");
    assert_eq!(count(&pool, "select count(*) from recon_lines").await, 10);

    // Microsoft corrected one line (48 → 50 vCPU hours) and dropped another.
    let mut lines: Vec<String> = sample.lines().map(String::from).collect();
    lines[1] = lines[1].replacen(",0.008,48,", ",0.008,50,", 1);
    lines.remove(2);
    let again = stackbill(
        &pool,
        &["recon", "import", "--partner", &p, write("recon.csv", &lines.join("\n")).to_str().unwrap()],
    );
    let out = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(
        out.contains("9 lines of Azure Stack Hub")
            && out.contains("0 subscription-day-meter totals added, 1 removed, 1 changed"),
        "{out}"
    );
    assert_eq!(count(&pool, "select count(*) from recon_lines").await, 9);
    assert_eq!(count(&pool, "select count(*) from recon_imports where superseded_at is null").await, 1);
    assert_eq!(count(&pool, "select count(*) from audit_events where action = 'recon.import'").await, 2);

    // Another Partner Center account's file, and a file with a bad row: refused, nothing changes.
    let theirs = stackbill(
        &pool,
        &["recon", "import", "--partner", &p, write("theirs.csv", &sample_of(Uuid::new_v4())).to_str().unwrap()],
    );
    let bad = sample.replacen(",0.008,48,", ",0.008,forty-eight,", 1);
    let broken = stackbill(&pool, &["recon", "import", "--partner", &p, write("bad.csv", &bad).to_str().unwrap()]);
    assert!(
        !theirs.status.success()
            && String::from_utf8_lossy(&theirs.stderr).contains("PartnerId: the file is of the Partner Center account")
    );
    let err = String::from_utf8_lossy(&broken.stderr).into_owned();
    assert!(!broken.status.success() && err.contains("line 2, Quantity: “forty-eight” is not a number"), "{err}");
    assert_eq!(count(&pool, "select count(*) from recon_lines").await, 9);
    assert_eq!(count(&pool, "select count(*) from recon_imports").await, 2);
}

/// Every kind of difference on a hand-built month (the bills tests' October, DOMAIN §7's matching rules).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn every_kind_of_difference_is_found_on_a_hand_built_month(pool: PgPool) {
    use crate::bills::{M1, M2};
    use app::recon::compare::{compare, Kind};
    let m = crate::bills::month(pool.clone()).await;
    let tenant: Uuid = sqlx::query_scalar("select directory_tenant_id from partners where partner_id = $1")
        .bind(m.partner)
        .fetch_one(&pool)
        .await
        .unwrap();
    let line = |sub: Uuid, day: &str, meter: &str, region: &str, q: &str, price: &str, amount: &str| {
        // Microsoft bills after a 15 % partner-earned credit: `EffectiveUnitPrice` and `BillingPreTaxTotal` are lower.
        let effective = crate::bills::d(price) * crate::bills::d("0.85");
        format!(
            "{tenant},{},Customer,{sub},{day},{meter},Meter,{region},Microsoft.AzureStack,{q},{price},{effective},{amount},USD",
            m.tenant_b
        )
    };

    let file = [
        "PartnerId,CustomerId,CustomerName,EntitlementId,UsageDate,MeterId,MeterName,MeterRegion,ConsumedService,Quantity,UnitPrice,EffectiveUnitPrice,BillingPreTaxTotal,BillingCurrency".to_string(),
        // Stackbill: A1, 5 Oct, 10 vCPU hours at 0.008. Microsoft billed 8.
        line(m.a1, "10/5/2026 12:00:00 AM", M1, "Azure Stack Hub", "8", "0.008", "0.06"),
        // Stackbill: A2, 20 Oct, 10 at 0.010 (the price list's price from 16 Oct). Microsoft: 0.008.
        line(m.a2, "10/20/2026 12:00:00 AM", M1, "Azure Stack Hub", "10", "0.008", "0.08"),
        // Stackbill: B, 10 Oct, 3.3333 at 0.008 = 0.0266664 at list price, as Microsoft's 3.3333 × 0.008; Microsoft
        // billed 0.02 after its credit, which is not a difference.
        line(m.b, "10/10/2026 12:00:00 AM", M1, "Azure Stack Hub", "3.333300", "0.008", "0.02"),
        // Stackbill: B, 10 Oct, 50 GB/month of storage: Microsoft has no line (only in Stackbill).
        // Stackbill: the default, 12 Oct, 5 + 7 = 12 vCPU hours. Microsoft billed 15.
        line(m.default, "10/12/2026 12:00:00 AM", M1, "Azure Stack Hub", "15", "0.008", "0.12"),
        // Microsoft: B, 11 Oct, 24 vCPU hours; Stackbill has nothing of the day (a stack not reporting).
        line(m.b, "10/11/2026 12:00:00 AM", M1, "Azure Stack Hub", "24", "0.008", "0.19"),
        // Not Azure Stack Hub: set aside.
        line(m.b, "10/11/2026 12:00:00 AM", "c70df2d5-a62e-5ade-b348-f536792f2e49", "EU West", "24", "0.096", "2.30")
            .replace("Microsoft.AzureStack", "Microsoft.Compute"),
    ]
    .join("\r\n");
    let parsed = app::recon::parse::parse_recon(&file).unwrap();
    assert_eq!((parsed.lines.len(), parsed.set_aside), (5, 1));
    let mut tx = pool.begin().await.unwrap();
    app::recon::db::import(&mut tx, &app::audit::Actor::command_line(), m.partner, "recon.csv", &parsed).await.unwrap();
    tx.commit().await.unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let october = app::domain::Period::parse("2026-10").unwrap();
    let compared = compare(&mut conn, m.partner, october).await.unwrap().expect("October is imported");
    let d = |day: u8| time::Date::from_calendar_date(2026, time::Month::October, day).unwrap();
    let meter = |s: &str| Uuid::parse_str(s).unwrap();
    let mut kinds: Vec<(Uuid, time::Date, Uuid, Kind)> =
        compared.iter().map(|c| (c.subscription_id, c.day, c.commerce_meter_id, c.kind())).collect();
    kinds.sort();
    let mut expected = vec![
        (m.a1, d(5), meter(M1), Kind::MicrosoftLess),
        (m.a2, d(20), meter(M1), Kind::Price),
        (m.b, d(10), meter(M1), Kind::Matched),
        (m.b, d(10), meter(M2), Kind::OnlyStackbill),
        (m.default, d(12), meter(M1), Kind::MicrosoftMore),
        (m.b, d(11), meter(M1), Kind::OnlyMicrosoft),
    ];
    expected.sort();
    assert_eq!(kinds, expected);
    let missing = compared.iter().find(|c| c.kind() == Kind::OnlyMicrosoft).unwrap();
    assert_eq!(missing.microsoft_quantity, Some(crate::bills::d("24")));
    assert!(Kind::OnlyMicrosoft.cause().contains("a stack not reporting"));
    let matched = compared.iter().find(|c| c.kind() == Kind::Matched).unwrap();
    assert_eq!(
        (matched.microsoft_amount, matched.stackbill_amount),
        (Some(crate::bills::d("0.02")), Some(crate::bills::d("0.0266664")))
    );

    // A line in another currency than the partner's: refused by line, nothing replaced.
    let euros = file.replacen(",USD", ",EUR", 1);
    let mut tx = pool.begin().await.unwrap();
    let refused = app::recon::db::import(
        &mut tx,
        &app::audit::Actor::command_line(),
        m.partner,
        "eur.csv",
        &app::recon::parse::parse_recon(&euros).unwrap(),
    )
    .await;
    drop(tx);
    assert_eq!(
        refused,
        Err(app::AppError::Validation("line 2, BillingCurrency: EUR is not Contoso's currency, USD".into()))
    );
    assert_eq!(count(&pool, "select count(*) from recon_lines").await, 5);

    // Another month, never imported: nothing to compare with.
    assert_eq!(compare(&mut conn, m.partner, app::domain::Period::parse("2026-09").unwrap()).await.unwrap(), None);
}
