//! The dashboard, the usage explorer and its CSV over HTTP, on the hand-computed month of `bills`, and another
//! partner looking at the same pages.
use sqlx::PgPool;

use crate::bills::{month, BASE_VM};
use crate::helpers::{partner_tenant, seed_partner, spawn_app};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_explorer_groups_filters_and_exports_what_the_partner_owns(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (_, fabrikam_tenant) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let october = "from=2026-10-01&to=2026-10-31";

    let by_day = app.page(&format!("/usage?{october}&group=day")).await;
    let by_meter = app.page(&format!("/usage?{october}&group=meter&customer={}", m.tenant_b)).await;
    let by_resource = app.page(&format!("/usage?{october}&group=resource")).await;
    let csv =
        app.get(&format!("/exports/usage?{october}&group=meter&customer={}", m.tenant_b)).await.text().await.unwrap();
    let bad = app.page("/usage?group=nope").await;

    assert!(by_day.contains("2026-10-05") && by_day.contains("0.08 USD"), "a day's cost: {by_day}");
    assert!(by_day.contains("not charged (informational)"), "the unmapped meter is shown, not charged");
    assert!(by_day.contains("<svg") && by_day.contains("Day (UTC)"), "a chart with its axis named");
    assert!(by_meter.contains("3.3333") && !by_meter.contains("2026-10-05"), "only customer B");
    assert!(by_resource.contains("virtualMachines/vm1"));
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "Meter,MeterId,MeterName,Unit,Quantity,Cost,Currency");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows.iter().any(|r| r.contains(",100,") && r.contains(",0.3,USD")),
        "storage: 100 local units cost 0.30: {csv}"
    );
    assert!(bad.contains("group: “nope” is not day, meter or resource"));

    app.sign_in("farah", Some(fabrikam_tenant), &["Partner.Admin"]).await;
    let theirs = app.page(&format!("/usage?{october}&group=day")).await;
    let their_csv = app.get(&format!("/exports/usage?{october}&group=resource")).await.text().await.unwrap();
    assert!(theirs.contains("No usage matches these filters."));
    assert_eq!(their_csv.lines().count(), 1, "only the header: {their_csv}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_dashboard_shows_this_month_so_far_per_stack_and_customer(pool: PgPool) {
    let m = month(pool.clone()).await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let now = app::domain::clock::now();
    let this_month = app::domain::Period::of(now);
    let last_month = this_month.previous();
    let hour = now.replace_time(time::Time::from_hms(now.hour(), 0, 0).unwrap()) - time::Duration::HOUR;
    let hour = hour.max(now.replace_day(1).unwrap().replace_time(time::Time::MIDNIGHT));
    m.usage(m.local[1], BASE_VM, hour, "25").await; // B, 25 × 0.010 = 0.25
    let last_day_noon = last_month.end().midnight().assume_utc() + time::Duration::hours(12);
    m.usage(m.local[1], BASE_VM, last_day_noon, "40").await; // B, last month: 40 × 0.010 = 0.40
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;

    let page = app.page("/dashboard").await;
    let earlier = app.page(&format!("/dashboard?month={last_month}")).await;
    let out_of_range = app.get("/dashboard?month=9999-12").await;

    assert!(page.contains("0.25 USD"), "cost so far: {page}");
    assert!(
        page.contains(&format!("Last month ({last_month})")) && page.contains("0.40 USD"),
        "last month beside this one, so the 1st of a month is not an empty page: {page}"
    );
    assert!(earlier.contains(&format!("{last_month} (UTC)")) && earlier.contains("0.40 USD"), "the month picker");
    assert!(out_of_range.status().is_success() || out_of_range.status().is_client_error());
    assert!(out_of_range.text().await.unwrap().contains("period: “9999-12” is not a month"), "named, not a panic");
    assert!(
        page.contains("Top customers") && page.contains(&format!("/bills/{}/{}", app::domain::Period::of(now), m.b))
    );
    assert!(page.contains("ams-01"), "per stack");
    assert!(page.contains("<svg") && page.contains("Cost per day"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_explorer_opens_on_the_last_30_days(pool: PgPool) {
    let m = month(pool.clone()).await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let today = app::domain::clock::now().date();
    let noon =
        |days_ago: i64| (today - time::Duration::days(days_ago)).midnight().assume_utc() + time::Duration::hours(12);
    m.usage(m.local[1], BASE_VM, noon(1), "25").await; // yesterday: last month's last day on the 1st of a month
    m.usage(m.local[1], BASE_VM, noon(30), "25").await; // a day before the default view
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;

    let page = app.page("/usage?group=day").await;

    let day = |days_ago: i64| (today - time::Duration::days(days_ago)).to_string();
    assert!(page.contains(&format!("value=\"{}\"", day(29))), "the default starts 29 days before today: {page}");
    assert!(page.contains(&day(1)) && page.contains("0.25 USD"), "yesterday's usage is in the default view: {page}");
    assert!(!page.contains(&day(30)), "the 31st day back is not: {page}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_operator_picks_the_partner_whose_usage_the_explorer_and_its_csv_show(pool: PgPool) {
    let m = month(pool.clone()).await;
    let (fabrikam, _) = seed_partner(&pool, "Fabrikam", "sea-01").await;
    let app = spawn_app(pool).await;
    app.sign_in("olivia", None, &["Operator"]).await;
    let october = "from=2026-10-01&to=2026-10-31&group=day";

    let contoso = app.page(&format!("/usage?{october}&partner={}", m.partner)).await;
    let fabrikams = app.page(&format!("/usage?{october}&partner={fabrikam}")).await;
    let csv = app.get(&format!("/exports/usage?{october}&partner={fabrikam}")).await.text().await.unwrap();

    assert!(contoso.contains("<select name=\"partner\">") && contoso.contains("Fabrikam"), "the picker: {contoso}");
    assert!(contoso.contains("2026-10-05") && contoso.contains("0.08 USD"), "Contoso's usage");
    assert!(fabrikams.contains("No usage matches these filters."), "Fabrikam has none");
    assert!(fabrikams.contains(&format!("partner={fabrikam}")), "the CSV link keeps the partner");
    assert_eq!(csv.lines().count(), 1, "Fabrikam's CSV: only the header: {csv}");
}

/// The explorer's columns sort it, its days have subtotals and the view a total (by hand from `bills::month`), the
/// per-resource view names the customer, and the CSVs are named for what they hold.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_explorer_sorts_by_its_columns_totals_its_days_and_names_its_files(pool: PgPool) {
    let m = month(pool.clone()).await;
    let contoso_tenant = partner_tenant(&pool, "Contoso").await;
    let app = spawn_app(pool).await;
    app.sign_in("adele", Some(contoso_tenant), &["Partner.Admin"]).await;
    let october = "from=2026-10-01&to=2026-10-31";

    let by_day = app.page(&format!("/usage?{october}&group=day")).await;
    let by_cost = app.page(&format!("/usage?{october}&group=day&sort=cost&desc=1")).await;
    let unknown_sort = app.page(&format!("/usage?{october}&group=day&sort=drop%20table")).await;
    let by_resource = app.page(&format!("/usage?{october}&group=resource")).await;
    let csv = app.get(&format!("/exports/usage?{october}&group=day&stack={}", m.stack.cloud_id)).await;
    let bill_csv = app.get(&format!("/exports/bills/2026-10/{}", m.b)).await;

    // By hand: 5 Oct A1 10 × 0.008 = 0.08; 10 Oct B 3.3333 × 0.008 = 0.0266664 and storage 50 × 0.006 = 0.30,
    // subtotal 0.3266664; 12 Oct C and the unknown subscription 12 × 0.008 = 0.096 (one row: no subtotal);
    // 20 Oct A2 10 × 0.010 = 0.10 and the informational meter, subtotal 0.10. Total 0.6026664.
    assert!(by_day.contains("2026-10-10 subtotal") && by_day.contains("2026-10-20 subtotal"), "{by_day}");
    assert!(!by_day.contains("2026-10-12 subtotal") && !by_day.contains("2026-10-05 subtotal"), "one row, no subtotal");
    let after =
        |page: &str, marker: &str| page[page.find(marker).expect(marker)..].chars().take(120).collect::<String>();
    assert!(after(&by_day, "2026-10-10 subtotal").contains(">0.33 USD<"));
    assert!(after(&by_day, "usage-total").contains(">0.60 USD<"), "{}", after(&by_day, "usage-total"));
    let at = |page: &str, s: &str| page.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(
        at(&by_cost, ">0.30 USD<") < at(&by_cost, ">0.10 USD<")
            && at(&by_cost, ">0.10 USD<") < at(&by_cost, ">0.08 USD<")
    );
    assert!(by_cost.contains("aria-sort=\"descending\"") && !by_cost.contains("subtotal"), "sorted by cost, no days");
    assert!(unknown_sort.contains("2026-10-10 subtotal"), "an unknown column is the grouping's own order");
    assert!(by_resource.contains(">Customer</th>") && by_resource.contains("<td>Northwind</td>"), "{by_resource}");
    assert_eq!(
        csv.headers()["content-disposition"],
        "attachment; filename=\"usage-ams-01-2026-10-01-to-2026-10-31-by-day.csv\""
    );
    assert_eq!(
        bill_csv.headers()["content-disposition"],
        format!("attachment; filename=\"bill-2026-10-northwind-{}.csv\"", m.b)
    );
}
