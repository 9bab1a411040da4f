//! Which bills a partner has for a period, and a page of them in the order the bills list asks for: a fixed number
//! of round trips whatever the number of customers.
use sqlx::PgConnection;
use uuid::Uuid;

use super::db::bills_of;
use super::{Bill, BillStatus, BillSummary, LineType};
use crate::domain::Period;
use crate::AppError;

/// `subs`: the subscriptions with charged usage in the period `$2` of partner `$1` (its monthly lines, or a change
/// not folded into them yet), or a bill row in it or before it (late usage of a final month is adjusted on a later
/// bill). A subscription whose usage in the period has no amount at all has no lines, and no bill to list.
const BILLED_SUBSCRIPTIONS: &str = "
    with subs(sub) as (
        select billing_subscription_id from charges_monthly where partner_id = $1 and month = $2
        union select billing_subscription_id from charges_dirty where partner_id = $1 and month = $2
        union select subscription_id from bills where partner_id = $1 and period <= $2)";

/// The subscriptions that may have a bill in a period: customers with usage in it, a bill row, or a final bill
/// before it (late usage of which becomes adjustments here).
pub async fn bill_subscriptions(conn: &mut PgConnection, partner: Uuid, period: Period) -> Result<Vec<Uuid>, AppError> {
    Ok(sqlx::query_scalar(&format!("{BILLED_SUBSCRIPTIONS} select sub from subs order by 1"))
        .bind(partner)
        .bind(period.start())
        .fetch_all(conn)
        .await?)
}

/// Every bill of a partner for a period (see [`bill_subscriptions`]); bills with no lines and no status are left out.
pub async fn bills(conn: &mut PgConnection, partner: Uuid, period: Period) -> Result<Vec<Bill>, AppError> {
    let subs = bill_subscriptions(conn, partner, period).await?;
    let mut out: Vec<Bill> = bills_of(conn, partner, &subs, period).await?.into_iter().filter(worth_listing).collect();
    out.sort_by(|a, b| a.customer_name.cmp(&b.customer_name).then(a.subscription_id.cmp(&b.subscription_id)));
    Ok(out)
}

/// Whether a bill belongs in a list: it has lines, or a status of its own.
fn worth_listing(b: &Bill) -> bool {
    !b.lines.is_empty() || b.status != BillStatus::Open
}

/// A page of a partner's bills for a period, by customer name or the `order` asked for (bills with no lines and no
/// status are left out, so a page can be short), in a fixed number of round trips whatever the page's size.
pub async fn bills_page(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
    of: crate::paging::PageOf,
    order: Option<(BillSort, bool)>,
) -> Result<crate::paging::Paged<Bill>, AppError> {
    let order_by = match order {
        None => "c.customer_name nulls last, s.sub".to_string(),
        Some((column, descending)) => {
            let expr = match column {
                BillSort::Customer => "c.customer_name",
                BillSort::Subscription => "s.sub",
                BillSort::Status => "coalesce(bl.status, 'open')",
                // A final bill by its frozen lines (what the Cost column shows); an open or draft bill by the month's
                // usage charges as they are now (its monthly lines, or its day rows if changed since they were
                // folded), before per-line rounding.
                BillSort::Cost => {
                    "case when bl.status = 'final'
                       then (select sum(l.amount) from bill_lines l
                             where l.partner_id = $1 and l.period = $2 and l.subscription_id = s.sub)
                       when exists (select 1 from charges_dirty d where d.partner_id = $1
                                    and d.billing_subscription_id = s.sub and d.month = $2)
                       then (select sum(ch.amount) from charges ch where ch.partner_id = $1
                             and ch.billing_subscription_id = s.sub and ch.day >= $2
                             and ch.day < ($2 + interval '1 month')::date)
                       else (select sum(m.amount) from charges_monthly m where m.partner_id = $1
                             and m.billing_subscription_id = s.sub and m.month = $2) end"
                }
            };
            format!("{expr} {} nulls last, c.customer_name, s.sub", if descending { "desc" } else { "asc" })
        }
    };
    let subs: Vec<Uuid> = sqlx::query_scalar(&format!(
        "{BILLED_SUBSCRIPTIONS}
         select s.sub from subs s left join commerce_subscriptions c on c.subscription_id = s.sub
         left join bills bl on bl.partner_id = $1 and bl.period = $2 and bl.subscription_id = s.sub
         order by {order_by} limit $3 offset $4"
    ))
    .bind(partner)
    .bind(period.start())
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(&mut *conn)
    .await?;
    let subs = of.of(subs);
    let rows = bills_of(conn, partner, &subs.rows, period).await?.into_iter().filter(worth_listing).collect();
    Ok(crate::paging::Paged { rows, page: subs.page, more: subs.more })
}

/// What the bills list can be ordered by (the address's `sort`; the customer's name when none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillSort {
    /// The customer's name.
    Customer,
    /// The billing subscription.
    Subscription,
    /// Open, draft or final.
    Status,
    /// The month's cost.
    Cost,
}

/// The address's keys of [`BillSort`].
pub const BILL_SORTS: [(&str, BillSort); 4] = [
    ("customer", BillSort::Customer),
    ("subscription", BillSort::Subscription),
    ("status", BillSort::Status),
    ("cost", BillSort::Cost),
];

/// The summary row of a bill.
pub fn summary(b: &Bill) -> BillSummary {
    BillSummary {
        subscription_id: b.subscription_id,
        customer_name: b.customer_name.clone(),
        status: b.status,
        lines: b.lines.len(),
        amount: b.total_amount,
        customer_price: b.total_customer_price,
        margin: b.total_margin,
        has_adjustments: b.lines.iter().any(|l| l.line_type == LineType::Adjustment),
    }
}
