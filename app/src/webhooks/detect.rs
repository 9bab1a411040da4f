//! Noticing the events: where they happen (a bill finalised, a reconciliation imported, a collector run failed), in
//! the same transaction; and once a minute for the ones that are states rather than acts (a stack silent, unpriced
//! usage, a customer over its threshold). Each occurrence has a key, so noticing it again queues nothing new.
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::db::{enqueue, settings};
use super::EventKind;
use crate::bills::Bill;
use crate::domain::Period;
use crate::AppError;

/// A bill was finalised (each finalising is its own occurrence: a bill made a draft and finalised again is sent again).
pub async fn bill_finalised(conn: &mut PgConnection, b: &Bill) -> Result<(), AppError> {
    let at = b.finalized_at.map(|t| t.unix_timestamp_nanos()).unwrap_or_default();
    let data = json!({
        "period": b.period.to_string(), "subscription_id": b.subscription_id, "customer_name": b.customer_name,
        "customer_tenant_id": b.customer_tenant_id, "lines": b.lines.len(), "total_amount": b.total_amount,
        "total_customer_price": b.total_customer_price, "currency": b.currency,
    });
    enqueue(conn, b.partner_id, EventKind::BillFinalised, &format!("{}:{}:{at}", b.subscription_id, b.period), data)
        .await
        .map(|_| ())
}

/// A reconciliation file was imported: sent when the month's gap with Stackbill, either way, reaches the partner's
/// threshold (and some line differs).
pub async fn recon_imported(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
    import: Uuid,
) -> Result<(), AppError> {
    if !super::db::wanted(conn, partner, EventKind::ReconDifferences).await? {
        return Ok(());
    }
    let Some(rows) = crate::recon::compare::compare(conn, partner, period).await? else { return Ok(()) };
    let (_, total) = crate::recon::view::tallies(&rows);
    let threshold = settings(conn, partner).await?.recon_threshold;
    if total.differences == 0 || total.gap().abs() < threshold {
        return Ok(());
    }
    let data = json!({
        "period": period.to_string(), "differences": total.differences, "matched": total.matched,
        "microsoft_list_amount": total.microsoft_list_amount.round_dp(2),
        "stackbill_amount": total.stackbill_amount.round_dp(2), "gap": total.gap().round_dp(2),
        "threshold": threshold,
    });
    enqueue(conn, partner, EventKind::ReconDifferences, &import.to_string(), data).await.map(|_| ())
}

/// A collector run failed: sent once per failing streak, when it reaches the partner's number of runs.
pub async fn collector_failed(
    conn: &mut PgConnection,
    stack: Uuid,
    failures: i32,
    since: OffsetDateTime,
    message: &str,
) -> Result<(), AppError> {
    let (partner, cloud, name): (Uuid, Uuid, String) =
        sqlx::query_as("select partner_id, cloud_id, name from stacks where stack_id = $1")
            .bind(stack)
            .fetch_one(&mut *conn)
            .await?;
    if failures < settings(conn, partner).await?.collector_failures {
        return Ok(());
    }
    let data = json!({ "cloud_id": cloud, "stack_name": name, "failures_in_a_row": failures,
        "failing_since": since.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "last_error": message });
    enqueue(conn, partner, EventKind::CollectorFailing, &format!("{cloud}:{}", since.unix_timestamp_nanos()), data)
        .await
        .map(|_| ())
}

/// The states, as of `now`, for the partners with an endpoint receiving them; returns the deliveries queued.
pub async fn states(conn: &mut PgConnection, now: OffsetDateTime) -> Result<u64, AppError> {
    Ok(silent_stacks(conn, now).await? + unpriced(conn, now).await? + over_threshold(conn, now).await?)
}

/// Registered stacks whose latest usage hour ended the partner's hours ago (default 6); once per silence.
async fn silent_stacks(conn: &mut PgConnection, now: OffsetDateTime) -> Result<u64, AppError> {
    let silent: Vec<(Uuid, Uuid, String, OffsetDateTime, i32)> = sqlx::query_as(
        "select s.partner_id, s.cloud_id, s.name, last.usage_end, coalesce(ws.silent_hours, 6)
         from stacks s
         join registrations r on r.stack_id = s.stack_id and r.status = 'registered'
         left join webhook_settings ws on ws.partner_id = s.partner_id
         cross join lateral (select u.usage_end from usage_records u
                             where u.partner_id = s.partner_id and u.stack_id = s.stack_id
                             order by u.usage_start desc limit 1) last
         where exists (select 1 from webhook_endpoints e
                       where e.partner_id = s.partner_id and e.removed_at is null and 'stack.silent' = any(e.events))
           and last.usage_end <= $1 - make_interval(hours => coalesce(ws.silent_hours, 6))",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for (partner, cloud, name, last, hours) in silent {
        let last_text = last.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let data = json!({ "cloud_id": cloud, "stack_name": name, "last_usage_until": last_text, "hours": hours });
        queued +=
            enqueue(conn, partner, EventKind::StackSilent, &format!("{cloud}:{}", last.unix_timestamp()), data).await?;
    }
    Ok(queued)
}

/// The month's usage on commerce meters without a price; once per meter and month.
async fn unpriced(conn: &mut PgConnection, now: OffsetDateTime) -> Result<u64, AppError> {
    let month = Period::of(now);
    let rows: Vec<(Uuid, Uuid, time::Date, Decimal)> = sqlx::query_as(
        "select c.partner_id, c.commerce_meter_id, min(c.day), sum(c.commerce_quantity)
         from charges c
         where c.partner_id in (select partner_id from webhook_endpoints
                                where removed_at is null and 'usage.unpriced' = any(events))
           and c.day >= $1 and c.day < $2 and c.commerce_meter_id is not null and c.unit_price is null
           and c.not_charged is null
         group by 1, 2",
    )
    .bind(month.start())
    .bind(month.next().start())
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for (partner, meter, first_day, quantity) in rows {
        let data = json!({ "period": month.to_string(), "commerce_meter_id": meter, "first_day": first_day.to_string(),
            "quantity": quantity });
        queued += enqueue(conn, partner, EventKind::UnpricedUsage, &format!("{meter}:{month}"), data).await?;
    }
    Ok(queued)
}

/// Customers whose month-to-date charges passed the partner's threshold; once per customer, month and threshold.
async fn over_threshold(conn: &mut PgConnection, now: OffsetDateTime) -> Result<u64, AppError> {
    let month = Period::of(now);
    let rows: Vec<(Uuid, Uuid, Option<String>, Decimal, Decimal)> = sqlx::query_as(
        "select c.partner_id, c.billing_subscription_id, max(cs.customer_name), sum(c.amount), ws.customer_threshold
         from charges c
         join webhook_settings ws on ws.partner_id = c.partner_id and ws.customer_threshold is not null
         left join commerce_subscriptions cs
                on cs.subscription_id = c.billing_subscription_id and cs.billing_partner_id = c.partner_id
         where c.partner_id in (select partner_id from webhook_endpoints
                                where removed_at is null and 'customer.threshold' = any(events))
           and c.day >= $1 and c.day < $2 and c.billing_subscription_id is not null and c.amount is not null
         group by c.partner_id, c.billing_subscription_id, ws.customer_threshold
         having sum(c.amount) > ws.customer_threshold",
    )
    .bind(month.start())
    .bind(month.next().start())
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for (partner, sub, name, amount, threshold) in rows {
        let data = json!({ "period": month.to_string(), "subscription_id": sub, "customer_name": name,
            "month_to_date": amount.round_dp(2), "threshold": threshold });
        queued +=
            enqueue(conn, partner, EventKind::CustomerThreshold, &format!("{sub}:{month}:{threshold}"), data).await?;
    }
    Ok(queued)
}
