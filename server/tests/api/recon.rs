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

/// Microsoft's file of the bills tests' October: one key of each kind (amounts at list price are in the comments).
pub(crate) async fn hand_built_file(m: &crate::bills::Month) -> String {
    use crate::bills::M1;
    let tenant: Uuid = sqlx::query_scalar("select directory_tenant_id from partners where partner_id = $1")
        .bind(m.partner)
        .fetch_one(&m.pool)
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

    [
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
    .join("\r\n")
}

/// Every kind of difference on a hand-built month (the bills tests' October, DOMAIN §7's matching rules).
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn every_kind_of_difference_is_found_on_a_hand_built_month(pool: PgPool) {
    use crate::bills::{M1, M2};
    use app::recon::compare::compare;
    use app::recon::Kind;
    let m = crate::bills::month(pool.clone()).await;
    let file = hand_built_file(&m).await;
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

/// Issue 14, items 1 and 2 over HTTP: a partner admin imports Microsoft's file on the reconciliation page, sees the
/// month per customer and in total with each difference's cause and where to look, and downloads the differences; a
/// bad row or another account's file changes nothing; a reader cannot import; another partner sees none of it.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_reconciliation_page_imports_microsofts_file_and_shows_the_differences(pool: PgPool) {
    use reqwest::multipart::{Form, Part};
    use reqwest::StatusCode;
    let m = crate::bills::month(pool.clone()).await;
    let file = hand_built_file(&m).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = crate::helpers::partner_tenant(&pool, "Contoso").await;
    let app = crate::helpers::spawn_app(pool.clone()).await;
    let import = |text: String| {
        let form = Form::new().part("file", Part::text(text).file_name("DailyRatedUsage_202610.csv"));
        app.client.post(app.url("/reconciliation/import")).header("origin", &app.base).multipart(form).send()
    };

    app.sign_in("rita", Some(contoso_tenant), &["Partner.Reader"]).await;
    assert_eq!(import(file.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let empty = app.page("/reconciliation?period=2026-10").await;
    assert!(empty.contains("No reconciliation file of 2026-10 for Contoso yet"), "{empty}");

    let answer = import(file.clone()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()["location"], "/reconciliation#outcome");
    // The page opens on the month imported last.
    let page = app.page("/reconciliation").await;
    assert!(page.contains("Imported the reconciliation of 2026-10: 5 lines of Azure Stack Hub, 1 line set aside."));
    assert!(
        page.contains("DailyRatedUsage_202610.csv")
            && page.contains("5 Azure Stack Hub lines compared, 1 other line set aside"),
        "{page}"
    );
    // By hand, at list price. Microsoft: 8 × 0.008 + 10 × 0.008 + 3.3333 × 0.008 + 15 × 0.008 + 24 × 0.008
    // = 0.064 + 0.08 + 0.0266664 + 0.12 + 0.192 = 0.4826664. Stackbill: 0.08 + 0.10 + 0.0266664 + 0.30 + 0.096
    // = 0.6026664. Microsoft billed after credits: 0.06 + 0.08 + 0.02 + 0.12 + 0.19 = 0.47.
    for shown in ["0.48 USD", "0.60 USD", "0.47 USD", ">-0.12 USD<", "0.03 USD (1 line)"] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    assert!(page.contains(r#"data-testid="recon-differences">5 lines<"#));
    for kind in ["MicrosoftLess", "Price", "OnlyStackbill", "MicrosoftMore", "OnlyMicrosoft"] {
        assert_eq!(page.matches(&format!(r#"data-kind="{kind}""#)).count(), 1, "{kind}");
    }
    assert!(!page.contains(r#"data-kind="Matched""#));
    // Per meter, in its unit. Base VM: matched 3.3333 (B, 10 Oct); Microsoft 8 + 10 + 3.3333 + 15 + 24 = 60.3333;
    // Stackbill 10 + 10 + 3.3333 + 12 = 35.3333. Blob Storage: Stackbill's 50 only.
    for cells in [
        "<td class=\"num\">3.3333</td><td class=\"num\">60.3333</td><td class=\"num\">35.3333</td>",
        "<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">50</td>",
    ] {
        assert!(page.contains(cells), "{cells} in {page}");
    }
    // Where to look: the stack's mappings (Microsoft billed less for A1), the bill's unit price (A2), the usage.
    let cloud = m.stack.cloud_id;
    assert!(page.contains(&format!("/stacks/{cloud}#mappings")) && page.contains(&format!("/bills/2026-10/{}", m.a2)));
    assert!(page.contains(&format!("/usage?from=2026-10-11&amp;to=2026-10-11&amp;customer={}", m.tenant_b)));
    assert!(page.contains(app::recon::Kind::Price.cause()));

    let csv = app.get(&format!("/exports/reconciliation/2026-10?partner={}", m.partner)).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().next(), Some(app::recon::compare::DIFFERENCES_HEADER));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let missing = rows.iter().find(|r| &r[6] == "OnlyMicrosoft").expect("B's 11 October");
    let b = m.b.to_string();
    assert_eq!((&missing[2], &missing[3], &missing[8], &missing[9]), (b.as_str(), "2026-10-11", "24", ""));

    // A bad row: named by line and column on the page; the month's lines stay.
    import(file.replacen(",8,0.008,", ",eight,0.008,", 1)).await.unwrap();
    let refused = app.page("/reconciliation").await;
    assert!(refused.contains("line 2, Quantity: “eight” is not a number"), "{refused}");
    assert_eq!(count(&pool, "select count(*) from recon_lines").await, 5);

    // Fabrikam: its own (empty) month, no CSV of Contoso's, and Contoso's file is not its account's.
    app.sign_in("farah", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    let theirs = app.page("/reconciliation?period=2026-10").await;
    assert!(theirs.contains("No reconciliation file of 2026-10 for Fabrikam") && !theirs.contains(&m.b.to_string()));
    let their_csv = app.get(&format!("/exports/reconciliation/2026-10?partner={}", m.partner)).await;
    assert_eq!(their_csv.status(), StatusCode::NOT_FOUND);
    import(file).await.unwrap();
    let page = app.page("/reconciliation?period=2026-10").await;
    assert!(page.contains("PartnerId: the file is of the Partner Center account"), "{page}");
    assert_eq!(count(&pool, "select count(*) from recon_imports").await, 1);
}
