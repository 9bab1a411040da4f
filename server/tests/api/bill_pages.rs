//! Bills over HTTP: the pages and CSVs of a partner's bills, for that partner and nobody else.
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::bills::{month, M1, M2};
use crate::helpers::{partner_tenant, seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn bills_are_pages_and_csv_for_their_partner_and_nobody_else(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;

    let page = app.page(&format!("/bills/2026-10/{}", m.b)).await;
    let list = app.page("/bills?period=2026-10").await;
    let csv = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await.text().await.unwrap();
    let all = app.get(&format!("/exports/bills/2026-10?partner={}", m.partner)).await.text().await.unwrap();

    assert!(page.contains("0.32 USD") && page.contains("0.35 USD"), "total cost and customer price are shown");
    assert!(list.contains("Total") && list.contains("0.59 USD"), "0.08 + 0.10 + 0.32 + 0.09 = 0.59: {list}");
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), app::bills::csv::HEADER);
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[5], M1);
    assert_eq!(
        (row[9], row[10], row[11], row[12], row[13], row[14], row[15]),
        ("3.3333", "0.008", "0.0266664", "0.02", "0.02", "0.00", "USD")
    );
    assert_eq!((row[16], row[17], row[18]), ("2026-10-01", "2026-10-31", "usage"));
    assert_eq!(csv.lines().count(), 3);
    assert_eq!(all.lines().count(), 1 + 1 + 1 + 2 + 1, "header and every line of the four bills");
    assert!(all.contains(M2));
    // A refused markup is said beside its field, and nothing changes.
    let refused = app
        .client
        .post(app.url("/bills/markup"))
        .header("origin", &app.base)
        .form(&[("markup", "-5")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let list = app.page("/bills?period=2026-10").await;
    assert!(list.contains(r#"class="field-error">A markup is between 0 and 1000 %.</span>"#), "{list}");
    assert!(list.contains(r#"value="10""#), "the default markup is still 10 %");

    app.sign_in("farah", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    let theirs = app.get(&format!("/bills/2026-10/{}", m.b)).await;
    let their_csv = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await;
    let their_all = app.get(&format!("/exports/bills/2026-10?partner={}", m.partner)).await;
    let finalise = app
        .client
        .post(app.url(&format!("/bills/2026-10/{}/finalise", m.b)))
        .header("origin", &app.base)
        .form(&[("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    let own_list = app.page("/bills?period=2026-10").await;

    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(their_csv.status(), StatusCode::NOT_FOUND);
    assert_eq!(their_all.status(), StatusCode::NOT_FOUND);
    assert_eq!(finalise.status(), StatusCode::NOT_FOUND);
    assert!(
        !own_list.contains(&m.b.to_string()) && !own_list.contains("0.32"),
        "nothing of Contoso in Fabrikam's list"
    );
    let status: Option<String> =
        sqlx::query_scalar("select status from bills").fetch_optional(&app.pool).await.unwrap();
    assert_eq!(status, None);
}

thread_local! {
    /// The statements this thread has sent to PostgreSQL while counting (sqlx reports each as an event).
    static STATEMENTS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Counts sqlx's statement events on the threads that are counting. It is the process's one subscriber, set once and
/// never dropped: tracing caches per call site whether anyone listens, and with a scoped subscriber that cache could
/// be rebuilt by another test's thread, which has none, and say "nobody" (CI saw 0 statements that way). It listens
/// to sqlx's statements only, so the other tests running beside it in this process (servers, clients, pools) emit
/// nothing through it.
struct Statements;

const STATEMENT_TARGET: &str = "sqlx::query";

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn register_callsite(&self, metadata: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        if metadata.target() == STATEMENT_TARGET {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: tracing_subscriber::layer::Context<'_, S>) -> bool {
        metadata.target() == STATEMENT_TARGET
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == STATEMENT_TARGET {
            STATEMENTS.with(|n| n.set(n.get().map(|n| n + 1)));
        }
    }
}

/// The statements one page of the bills list sends, with the bills it shows.
async fn bills_list_statements(m: &crate::bills::Month, period: &str) -> (usize, Vec<app::bills::Bill>) {
    use tracing_subscriber::layer::SubscriberExt;
    static COUNTER: std::sync::Once = std::sync::Once::new();
    COUNTER.call_once(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Statements))
            .expect("no other test sets a subscriber");
    });
    let mut conn = m.pool.acquire().await.unwrap();
    let of = app::paging::PageOf::new("page", 0, 500).unwrap();
    let period = app::domain::Period::parse(period).unwrap();
    STATEMENTS.with(|n| n.set(Some(0)));
    sqlx::query("select 1").execute(&mut *conn).await.unwrap();
    assert_eq!(STATEMENTS.with(|n| n.get()), Some(1), "sqlx's statements reach the counter");
    STATEMENTS.with(|n| n.set(Some(0)));
    let bills = app::bills::list::bills_page(&mut conn, m.partner, period, of, None).await.unwrap();
    let count = STATEMENTS.with(|n| n.replace(None)).unwrap();
    (count, bills.rows)
}

/// Issue 15, item 5: the bills list reads every bill of its page at once. The old list read each bill on its own
/// (three or more statements per customer), so a partner with 500 customers waited for 1,500 round trips.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_bills_list_runs_the_same_statements_for_four_customers_or_forty(pool: PgPool) {
    use app::registrations::mappings::{map_tenant, Expect};
    use time::macros::datetime;
    let m = month(pool.clone()).await;
    let (few, few_bills) = bills_list_statements(&m, "2026-10").await;
    assert_eq!(few_bills.len(), 4, "default, A1, A2 and B");

    // Thirty-six more customers, each with a CSP subscription mapped and usage in October and November.
    let mut locals = Vec::new();
    for _ in 0..36 {
        let tenant = uuid::Uuid::new_v4();
        let sub = crate::helpers::directory_subscription(&pool, m.partner, tenant, "CSP").await;
        let mut tx = pool.begin().await.unwrap();
        let actor = app::audit::Actor::command_line();
        map_tenant(&mut tx, &actor, &m.stack, tenant, sub, Some(datetime!(2026-10-01 00:00 UTC)), Expect::Anything)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        locals.push(app::local_subscriptions::parse::LocalSubscription {
            subscription_id: uuid::Uuid::new_v4(),
            owner_tenant_id: tenant,
            display_name: "x".into(),
            offer_name: "basic".into(),
            state: "Enabled".into(),
        });
    }
    let mut tx = pool.begin().await.unwrap();
    app::local_subscriptions::db::store_list(&mut tx, m.partner, m.stack.stack_id, locals.clone()).await.unwrap();
    tx.commit().await.unwrap();
    for l in &locals {
        m.usage(l.subscription_id, crate::bills::BASE_VM, datetime!(2026-10-07 10:00 UTC), "1").await;
        m.usage(l.subscription_id, crate::bills::BASE_VM, datetime!(2026-11-07 10:00 UTC), "1").await;
    }
    let (many, many_bills) = bills_list_statements(&m, "2026-10").await;
    assert_eq!(many_bills.len(), 40);
    assert_eq!(many, few, "the same statements for 4 customers as for 40");

    // B's October final, then late usage of it: October has a frozen bill, November an adjustment.
    let mut tx = pool.begin().await.unwrap();
    app::bills::lifecycle::finalise(&mut tx, &app::audit::Actor::command_line(), m.partner, m.b, month_of("2026-10"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    m.usage(m.local[1], crate::bills::BASE_VM, datetime!(2026-10-30 10:00 UTC), "100").await;
    let (with_final, october) = bills_list_statements(&m, "2026-10").await;
    let (with_adjustment, november) = bills_list_statements(&m, "2026-11").await;
    assert_eq!(october.iter().filter(|b| b.status == app::bills::BillStatus::Final).count(), 1);
    assert_eq!(november.len(), 37, "the 36, and B's adjustment");
    assert!(november.iter().any(|b| b.lines.iter().any(|l| l.line_type == app::bills::LineType::Adjustment)));
    assert!(
        few <= 6 && with_final <= 6 && with_adjustment <= 6,
        "the page's subscriptions and at most five statements for their bills: {few}, {with_final}, {with_adjustment}"
    );
}

fn month_of(p: &str) -> app::domain::Period {
    app::domain::Period::parse(p).unwrap()
}

/// The customer invoice: the partner's details as saved on its settings page, a number per partner given when
/// the bill is finalised (kept when the prefix changes later), lines at the customer's price, never cost or margin.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_final_bill_is_a_numbered_customer_invoice_without_cost_or_margin(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool.clone()).await;
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        app.client.post(app.url(path)).header("origin", &app.base).form(&form).send()
    };
    let details = |prefix: &'static str| {
        let street = if prefix == "X-" { "Herengracht 2" } else { "Keizersgracht 1" };
        vec![("name", "Contoso Cloud"), ("address", street), ("tax_id", "NL123456789B01"), ("invoice_prefix", prefix)]
    };
    let finalise = |sub: uuid::Uuid| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let october = app::domain::Period::parse("2026-10").unwrap();
            app::bills::lifecycle::finalise(&mut tx, &app::audit::Actor::command_line(), m.partner, sub, october)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    let app = &app;
    let invoice = |sub: uuid::Uuid| {
        let path = format!("/bills/2026-10/{sub}/invoice");
        async move { app.page(&path).await }
    };

    app.sign_in("rita", Some(contoso_tenant), &["Partner.Reader"]).await;
    assert_eq!(post("/settings/partner", details("CC-")).await.unwrap().status(), StatusCode::FORBIDDEN);
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let refused = post("/settings/partner", details("CC 2026!")).await.unwrap();
    let settings = app.page("/settings/partner").await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert!(settings.contains("cannot start invoice numbers") && settings.contains("value=\"CC 2026!\""), "{settings}");
    let mut taken = details("CC-");
    taken[0] = ("name", "fabrikam");
    post("/settings/partner", taken).await.unwrap();
    let settings = app.page("/settings/partner").await;
    assert!(settings.contains("Another partner is already named “fabrikam”"), "names are not taken over: {settings}");
    post("/settings/partner", details("CC-")).await.unwrap();
    let draft = invoice(m.b).await;
    // Without JavaScript, the first post asks (the customer and month named) and finalises nothing.
    let asked = app
        .client
        .post(app.url(&format!("/bills/2026-10/{}/finalise", m.b)))
        .header("origin", &app.base)
        .form(&[("confirmed", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked.text().await.unwrap().contains("Finalise the bill of Northwind for October 2026?"));
    assert!(invoice(m.b).await.contains("data-testid=\"invoice-draft\""), "still a draft after being asked");
    finalise(m.b).await;
    finalise(m.a1).await;
    post("/settings/partner", details("X-")).await.unwrap();
    finalise(m.a2).await;
    let (b, a1, a2) = (invoice(m.b).await, invoice(m.a1).await, invoice(m.a2).await);

    assert!(draft.contains("data-testid=\"invoice-draft\"") && draft.contains(">—</dd>"), "a draft has no number");
    for shown in ["Contoso Cloud", "Keizersgracht 1", "Tax ID NL123456789B01", "Northwind"] {
        assert!(b.contains(shown), "{shown} in {b}");
    }
    assert!(a2.contains("Herengracht 2") && !b.contains("Herengracht 2"), "an issued invoice keeps its details");
    assert!(
        b.contains(">CC-00001<") && a1.contains(">CC-00002<") && a2.contains(">X-00003<"),
        "one series per partner"
    );
    // By hand, B at 10 % markup: Base VM 3.3333 at 0.008 × 1.1 = 0.0088 → 0.0266664 × 1.1 = 0.02933304 → 0.02;
    // Blob Storage 50 at 0.006 × 1.1 = 0.0066 → 0.30 × 1.1 = 0.33; total 0.02 + 0.33 = 0.35.
    for cells in [
        "3.3333<span class=\"unit-inline\"> 1 vCPU Hour</span></td><td class=\"unit\">1 vCPU Hour</td><td class=\"num unit-price\">0.0088</td><td class=\"num\">0.02</td>",
        "50<span class=\"unit-inline\"> 1 GB/Month</span></td><td class=\"unit\">1 GB/Month</td><td class=\"num unit-price\">0.0066</td><td class=\"num\">0.33</td>",
    ] {
        assert!(b.contains(cells), "{cells} in {b}");
    }
    assert!(b.contains("class=\"num total\">0.35</td></tr></tfoot>"), "the total under the amounts: {b}");
    assert!(!b.contains("Margin") && !b.contains("0.32") && !b.contains("Cost"), "no cost or margin: {b}");
    let audit = app.page("/audit").await;
    assert!(
        audit.contains("User adele changed the partner&#x27;s details")
            || audit.contains("User adele changed the partner's details"),
        "the details change is audited: {audit}"
    );
    assert!(audit.contains("command line finalised Northwind"), "{audit}");
    assert!(audit.contains("bill of October 2026"), "{audit}");

    app.sign_in("frank", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    assert_eq!(app.get(&format!("/bills/2026-10/{}/invoice", m.b)).await.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_bills_list_sorts_by_cost_either_way_and_its_headings_turn_the_order_round(pool: PgPool) {
    let m = month(pool.clone()).await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let order = |page: &str| {
        let mut subs = [m.a1, m.a2, m.b, m.default].map(|s| (page.find(&format!("/bills/2026-10/{s}")).unwrap(), s));
        subs.sort();
        subs.map(|(_, s)| s)
    };

    let by_cost_desc = app.page("/bills?period=2026-10&sort=cost&desc=1").await;
    let by_cost = app.page("/bills?period=2026-10&sort=cost").await;

    // By hand (bills::a_month_of_usage_is_billed_to_the_cent): B 0.32, A2 0.10, default 0.09, A1 0.08.
    assert_eq!(order(&by_cost_desc), [m.b, m.a2, m.default, m.a1]);
    assert_eq!(order(&by_cost), [m.a1, m.default, m.a2, m.b]);
    assert!(by_cost_desc.contains("aria-sort=\"descending\""));
    assert!(by_cost.contains("href=\"/bills?period=2026-10&amp;sort=cost&amp;desc=1\""), "the heading turns it round");
    // The same from the monthly lines, once the month is folded.
    app::charges::db::fold_monthly(&app.pool).await.unwrap();
    assert_eq!(order(&app.page("/bills?period=2026-10&sort=cost&desc=1").await), [m.b, m.a2, m.default, m.a1]);
}
