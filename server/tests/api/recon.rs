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
