//! Kept bill pages (server::http::page_cache): a page is served again from memory only while nothing it shows has
//! changed, whoever changed it (this portal, the command line, another server, a transaction that was still running
//! when the page was rendered), and only to the user it was rendered for.
use reqwest::header::CONTENT_SECURITY_POLICY;
use reqwest::StatusCode;
use sqlx::PgPool;
use time::macros::datetime;
use uuid::Uuid;

use app::audit::Actor;
use app::usage::parse::UsageRecord;
use server::http::page_cache::SERVED_FROM;

use crate::bills::{month, Month, BASE_VM};
use crate::helpers::{partner_tenant, seed_partner, spawn_app, TestApp};

/// The page, how it was served (`kept` or `rendered`) and the nonce its policy names.
async fn view(app: &TestApp, path: &str) -> (String, String, String) {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let served = res.headers().get(SERVED_FROM).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let policy = res.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let nonce = policy.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).unwrap().to_owned();
    (res.text().await.unwrap(), served, nonce)
}

/// One record of B's Base VM (0.008 USD a vCPU hour in early October), stored in `tx` and not committed.
async fn usage_of_b(m: &Month, tx: &mut sqlx::PgConnection, day: u8, quantity: &str) {
    let start = datetime!(2026-10-01 10:00 UTC) + time::Duration::days(i64::from(day) - 1);
    let record = UsageRecord {
        local_subscription_id: m.local[1],
        meter_id: Uuid::parse_str(BASE_VM).unwrap(),
        start,
        end: start + time::Duration::HOUR,
        quantity: quantity.parse().unwrap(),
        resource_uri: format!(
            "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm2",
            m.local[1]
        ),
        location: "local".into(),
        tags: None,
        additional_info: None,
    };
    app::usage::db::store_page(tx, m.partner, m.stack.stack_id, &[record]).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_kept_bill_page_is_served_again_only_while_nothing_it_shows_changed(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool.clone()).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let bill = format!("/bills/2026-10/{}", m.b);

    // B: Base VM 3.3333 × 0.008 = 0.0266664 (0.02) and Blob Storage 100 × 0.5 × 0.006 = 0.30: 0.32 USD.
    let (first, first_served, first_nonce) = view(&app, &bill).await;
    let (again, again_served, again_nonce) = view(&app, &bill).await;
    assert_eq!((first_served.as_str(), again_served.as_str()), ("rendered", "kept"));
    assert!(first.contains("0.32 USD"), "{first}");
    assert_ne!(first_nonce, again_nonce, "a kept page gets a script nonce of its own");
    assert!(again.contains(&format!("nonce=\"{again_nonce}\"")) && !again.contains(&first_nonce));
    assert_eq!(again.replace(&again_nonce, &first_nonce), first, "otherwise the very same page");

    // Another partner's change leaves Contoso's page kept.
    sqlx::query("update partners set name = 'Fabrikam Ltd' where partner_id = $1")
        .bind(fabrikam)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(view(&app, &bill).await.1, "kept");

    // A page of usage stored beside the portal (a stack through another server): 1.6667 vCPU hours more on the 2nd,
    // so Base VM is 5 × 0.008 = 0.04 and the bill 0.34 USD.
    let mut tx = pool.begin().await.unwrap();
    usage_of_b(&m, &mut tx, 2, "1.6667").await;
    // Still running: the page is still right, and kept.
    let (during, during_served, _) = view(&app, &bill).await;
    assert_eq!(during_served, "kept");
    assert!(during.contains("0.32 USD"));
    tx.commit().await.unwrap();
    let (after, after_served, _) = view(&app, &bill).await;
    assert_eq!(after_served, "rendered");
    assert!(after.contains("0.34 USD") && !after.contains("0.32 USD"), "{after}");

    // A transaction that was running while the page was rendered and commits afterwards.
    let mut tx = pool.begin().await.unwrap();
    usage_of_b(&m, &mut tx, 3, "5").await; // 5 × 0.008 = 0.04 more: 0.38 USD
    let (rendered_beside, served, _) = view(&app, &bill).await;
    assert_eq!(served, "kept", "nothing committed since");
    assert!(rendered_beside.contains("0.34 USD"));
    sqlx::query("update partners set address = 'Dam 1' where partner_id = $1")
        .bind(m.partner)
        .execute(&pool)
        .await
        .unwrap();
    let (rendered_while_running, served, _) = view(&app, &bill).await;
    assert_eq!(served, "rendered", "the partner changed");
    assert!(rendered_while_running.contains("0.34 USD"), "the running transaction is not on it yet");
    tx.commit().await.unwrap();
    let (after, served, _) = view(&app, &bill).await;
    assert_eq!(served, "rendered", "the transaction that was running when it was rendered has committed");
    assert!(after.contains("0.38 USD") && !after.contains("0.34 USD"), "{after}");

    // The shared price list: Blob Storage at 0.007 from October. While its re-rate waits, the bill says so; after it,
    // Blob Storage is 50 × 0.007 = 0.35 and the bill 0.08 + 0.35 = 0.43 USD.
    assert_eq!(view(&app, &bill).await.1, "kept");
    let prices = app::pricing::import::parse_prices(
        "Meter ID,Meter Name,Meter Region,Unit,Unit Price,Currency,Effective Date\n\
         d46f21e1-527d-5562-b071-8da7069bec9b,Blob Storage,Azure Stack Hub,1 GB/Month,0.007,USD,2026-10-01\n",
    )
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await.unwrap();
    tx.commit().await.unwrap();
    let (waiting, served, _) = view(&app, &bill).await;
    assert_eq!(served, "rendered");
    assert!(waiting.contains("Being re-rated"), "{waiting}");
    app::charges::db::run_queued(&pool).await.unwrap();
    let (rerated, served, _) = view(&app, &bill).await;
    assert_eq!(served, "rendered");
    assert!(rerated.contains("0.43 USD") && !rerated.contains("Being re-rated"), "{rerated}");

    // Finalised through the portal: the next view says so.
    assert_eq!(view(&app, &bill).await.1, "kept");
    let finalise = app
        .client
        .post(app.url(&format!("{bill}/finalise")))
        .header("origin", &app.base)
        .form(&[("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(finalise.status(), StatusCode::SEE_OTHER);
    let (with_message, served, _) = view(&app, &bill).await;
    assert_eq!(served, "", "a view with a message to show once is never kept nor served from the cache");
    let (final_bill, served, _) = view(&app, &bill).await;
    assert_eq!(served, "rendered");
    for page in [&with_message, &final_bill] {
        assert!(page.contains("data-testid=\"bill-status\">final") && page.contains("0.43 USD"), "{page}");
    }
    assert_eq!(view(&app, &bill).await.1, "kept");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_kept_page_is_only_ever_served_to_the_user_it_was_rendered_for(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool.clone()).await;
    let (list, bill) = ("/bills?period=2026-10", format!("/bills/2026-10/{}", m.b));

    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    view(&app, list).await;
    let (admins, served, _) = view(&app, list).await;
    assert_eq!(served, "kept");
    assert!(admins.contains("aria-label=\"Default markup\""), "an admin may set the markup");

    app.sign_in("rita", Some(contoso_tenant), &["Partner.Reader"]).await;
    let (readers, served, _) = view(&app, list).await;
    assert_eq!(served, "rendered", "the reader gets a page of their own");
    assert!(readers.contains("0.59 USD") && !readers.contains("aria-label=\"Default markup\""), "{readers}");
    assert!(!readers.contains("adele") && admins.contains("adele"));

    app.sign_in("farah", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    assert_eq!(app.get(&bill).await.status(), StatusCode::NOT_FOUND);
    let (theirs, _, _) = view(&app, list).await;
    assert!(!theirs.contains(&m.b.to_string()) && !theirs.contains("0.59"), "nothing of Contoso: {theirs}");

    // Signed out, the address of a kept page leads to sign-in.
    let signed_out = app.post("/auth/logout", Some(&app.base)).await;
    assert!(signed_out.status().is_redirection());
    let res = app.get(list).await;
    assert!(res.headers().get(SERVED_FROM).is_none());
    assert!(!res.text().await.unwrap().contains("0.59"));

    // Operators act across partners: their pages are never kept.
    app.sign_in("olivia", None, &["Operator"]).await;
    view(&app, &bill).await;
    assert_eq!(view(&app, &bill).await.1, "");
}

/// Tables no bill page reads: their writes leave kept pages kept. Every other table must note its changes, so a
/// new table is a decision, not an oversight.
const NOT_BILL_INPUTS: [&str; 14] = [
    "_sqlx_migrations",
    "audit_events",
    "bill_input_changes",
    "bill_input_horizons",
    "charges_dirty",
    "collectors",
    "ingestion_keys",
    "recon_imports",
    "recon_lines",
    "usage_record_history",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_settings",
];

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn every_table_is_a_bill_input_or_named_as_not_one(pool: PgPool) {
    let unnoted: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p')
           and not exists (select 1 from pg_trigger t join pg_proc p on p.oid = t.tgfoid
                           where t.tgrelid = c.oid and p.proname like 'note%change')
         order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(unnoted, NOT_BILL_INPUTS, "a table that is neither noted nor named here as not a bill input");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn changes_are_forgotten_only_once_no_kept_page_can_need_them(pool: PgPool) {
    let (partner, _) = seed_partner(&pool, "Contoso", "ams-01").await;
    let noted = || sqlx::query_scalar::<_, i64>("select count(*) from bill_input_changes").fetch_one(&pool);
    let forget = |keep: &'static str| {
        sqlx::query_scalar::<_, i64>("select forget_old_bill_input_changes($1::interval)").bind(keep).fetch_one(&pool)
    };
    let seeded = noted().await.unwrap();
    assert!(seeded > 0, "seeding the partner noted its changes");
    assert_eq!(forget("1 hour").await.unwrap(), 0, "no horizon is an hour old yet");
    assert_eq!(forget("0 seconds").await.unwrap(), seeded, "all ended before the horizon just noted");

    // A change still running when a horizon is noted is kept past it: a page rendered meanwhile has not seen it.
    let mut running = pool.begin().await.unwrap();
    sqlx::query("update partners set address = 'Dam 1' where partner_id = $1")
        .bind(partner)
        .execute(&mut *running)
        .await
        .unwrap();
    assert_eq!(forget("0 seconds").await.unwrap(), 0);
    running.commit().await.unwrap();
    assert_eq!(noted().await.unwrap(), 1);
    assert_eq!(forget("0 seconds").await.unwrap(), 1, "ended before the next horizon");
}
