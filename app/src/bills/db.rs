//! Reading bills: one customer's bill for a month, and all bills of a partner's month.
use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use super::lines::{compute_lines, order, Unfrozen};
use super::{Bill, BillLine, BillStatus, FellThrough, LineType, Uncharged};
use crate::auth::Scope;
use crate::domain::Period;
use crate::AppError;

#[derive(sqlx::FromRow)]
struct Header {
    sub: Uuid,
    partner_name: String,
    currency: String,
    partner_markup: Decimal,
    customer_markup: Option<Decimal>,
    customer_name: Option<String>,
    customer_tenant_id: Option<Uuid>,
    offer_type: Option<crate::domain::OfferType>,
    status: Option<String>,
    finalized_at: Option<time::OffsetDateTime>,
    invoice_number: Option<String>,
    issuer: Option<sqlx::types::Json<crate::partners::details::PartnerDetails>>,
    frozen_markup: Option<Decimal>,
    finals: Vec<Date>,
    known: bool,
    fell_through: sqlx::types::Json<Vec<FellThrough>>,
    /// Whether the period has usage on the subscription that could not be charged (read only then).
    uncharged: bool,
}

/// Who may see a subscription's bills: its billing partner, if it is in the caller's scope.
pub async fn bill_partner(conn: &mut PgConnection, scope: Scope, sub: Uuid) -> Result<Uuid, AppError> {
    let partner: Option<Uuid> = sqlx::query_scalar(
        "select billing_partner_id from commerce_subscriptions where subscription_id = $1
         union select partner_id from bills where subscription_id = $1
         union select partner_id from charges where billing_subscription_id = $1
         limit 1",
    )
    .bind(sub)
    .fetch_optional(&mut *conn)
    .await?;
    match (partner, scope.partner_filter()) {
        (Some(p), None) => Ok(p),
        (Some(p), Some(mine)) if p == mine => Ok(p),
        _ => Err(AppError::NotFound),
    }
}

/// A customer's bill for a period; `NotFound` when the partner has nothing of this subscription (not in its
/// directory, no bill, no charges), so no other partner's bill can be asked for by ID.
pub async fn bill(conn: &mut PgConnection, partner: Uuid, sub: Uuid, period: Period) -> Result<Bill, AppError> {
    bills_of(conn, partner, &[sub], period).await?.pop().ok_or(AppError::NotFound)
}

/// The bills of `subs` for a period, in the order given, leaving out subscriptions the partner has never billed or
/// owned. A fixed number of round trips (at most five), whatever the number of subscriptions.
pub async fn bills_of(
    conn: &mut PgConnection,
    partner: Uuid,
    subs: &[Uuid],
    period: Period,
) -> Result<Vec<Bill>, AppError> {
    // Each subscription once: its lines are handed out once.
    let mut seen = std::collections::HashSet::new();
    let subs: Vec<Uuid> = subs.iter().copied().filter(|s| seen.insert(*s)).collect();
    let headers = headers(conn, partner, &subs, period).await?;
    let markup = |h: &Header| h.frozen_markup.or(h.customer_markup).unwrap_or(h.partner_markup);
    let is_final = |h: &Header| BillStatus::stored(h.status.as_deref()) == BillStatus::Final;
    let finals: Vec<Uuid> = headers.iter().filter(|h| is_final(h)).map(|h| h.sub).collect();
    let mut frozen =
        if finals.is_empty() { HashMap::new() } else { frozen_lines(conn, partner, &finals, period).await? };
    let unfrozen: Vec<Unfrozen> = headers
        .iter()
        .filter(|h| !is_final(h))
        .map(|h| Unfrozen { sub: h.sub, markup: markup(h), finals: &h.finals })
        .collect();
    let mut computed = compute_lines(conn, partner, period, &unfrozen).await?;
    let with_uncharged: Vec<Uuid> = headers.iter().filter(|h| h.uncharged).map(|h| h.sub).collect();
    let mut uncharged = if with_uncharged.is_empty() {
        HashMap::new()
    } else {
        uncharged(conn, partner, &with_uncharged, period).await?
    };
    let period_ended = period.next().start().midnight().assume_utc() <= crate::domain::clock::now();
    Ok(headers
        .into_iter()
        .map(|h| {
            let lines = if is_final(&h) {
                frozen.remove(&h.sub).unwrap_or_default()
            } else {
                let mut l: Vec<BillLine> =
                    computed.remove(&h.sub).unwrap_or_default().into_iter().map(|(_, l)| l).collect();
                order(&mut l);
                l
            };
            let uncharged = uncharged.remove(&h.sub).unwrap_or_default();
            assemble(partner, period, h, markup, lines, uncharged, period_ended)
        })
        .collect())
}

/// A bill from its header and lines, with its totals.
fn assemble(
    partner: Uuid,
    period: Period,
    h: Header,
    markup: impl Fn(&Header) -> Decimal,
    lines: Vec<BillLine>,
    uncharged: Vec<Uncharged>,
    period_ended: bool,
) -> Bill {
    let sum = |f: fn(&BillLine) -> Decimal| lines.iter().map(f).sum::<Decimal>();
    Bill {
        partner_id: partner,
        period,
        period_start: period.start(),
        period_end: period.end(),
        subscription_id: h.sub,
        status: BillStatus::stored(h.status.as_deref()),
        markup_percent: markup(&h).normalize(),
        total_amount: sum(|l| l.amount),
        total_customer_price: sum(|l| l.customer_price),
        total_margin: sum(|l| l.margin),
        partner_name: h.partner_name,
        customer_name: h.customer_name.unwrap_or_else(|| "(not in the directory)".into()),
        customer_tenant_id: h.customer_tenant_id,
        offer_type: h.offer_type,
        finalized_at: h.finalized_at,
        invoice_number: h.invoice_number,
        issuer: h.issuer.map(|i| i.0),
        currency: h.currency,
        lines,
        fell_through: h.fell_through.0,
        uncharged,
        period_ended,
    }
}

/// The bills' headers in one round trip: partner, customer, status, markups, earlier final periods, the tenants
/// that fell through to each subscription, and whether it has uncharged usage; subscriptions the partner has never billed or owned are left out.
async fn headers(
    conn: &mut PgConnection,
    partner: Uuid,
    subs: &[Uuid],
    period: Period,
) -> Result<Vec<Header>, AppError> {
    let rows: Vec<Header> = sqlx::query_as(
        "select k.sub, p.name as partner_name, p.currency, p.markup_percent as partner_markup,
                m.markup_percent as customer_markup, c.customer_name, c.customer_tenant_id, c.offer_type, b.status,
                b.finalized_at, b.invoice_number, b.issuer, b.markup_percent as frozen_markup,
                array(select f.period from bills f where f.partner_id = p.partner_id and f.subscription_id = k.sub
                      and f.status = 'final' and f.period < $3 order by f.period desc) as finals,
                c.subscription_id is not null
                  or exists (select 1 from bills x where x.partner_id = p.partner_id and x.subscription_id = k.sub)
                  or exists (select 1 from charges x where x.partner_id = p.partner_id and x.billing_subscription_id = k.sub)
                  as known,
                -- The tenants that fell through to this subscription in the period (one round trip with the rest).
                (select coalesce(json_agg(t order by t.customer_name nulls last, t.tenant_id nulls first), '[]')
                 from (select ch.tenant_id, max(cs.customer_name) as customer_name, string_agg(distinct s.name, ', ') as stacks
                       from charges ch join stacks s on s.stack_id = ch.stack_id
                       left join commerce_subscriptions cs
                              on cs.customer_tenant_id = ch.tenant_id and cs.billing_partner_id = ch.partner_id
                       where ch.partner_id = p.partner_id and ch.billing_subscription_id = k.sub and ch.day >= $3
                         and ch.day < $4 and ch.fell_through
                       group by ch.tenant_id) t) as fell_through,
                exists (select 1 from charges u where u.partner_id = p.partner_id and u.billing_subscription_id = k.sub
                        and u.day >= $3 and u.day < $4 and u.commerce_meter_id is not null and u.unit_price is null)
                  as uncharged
         from unnest($2::uuid[]) with ordinality as k(sub, ord)
         join partners p on p.partner_id = $1
         left join customer_markups m on m.partner_id = p.partner_id and m.subscription_id = k.sub
         left join commerce_subscriptions c on c.subscription_id = k.sub and c.billing_partner_id = p.partner_id
         left join bills b on b.partner_id = p.partner_id and b.subscription_id = k.sub and b.period = $3
         order by k.ord",
    )
    .bind(partner)
    .bind(subs)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().filter(|h| h.known).collect())
}

/// The period's usage on each of `subs` with a commerce meter but no amount (see [`Uncharged`]), by subscription.
async fn uncharged(
    conn: &mut PgConnection,
    partner: Uuid,
    subs: &[Uuid],
    period: Period,
) -> Result<HashMap<Uuid, Vec<Uncharged>>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        sub: Uuid,
        #[sqlx(flatten)]
        uncharged: Uncharged,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select c.billing_subscription_id as sub, coalesce(c.not_charged, 'unpriced') as reason,
                coalesce(m.name, 'unknown meter') as meter_name, string_agg(distinct s.name, ', ') as stacks,
                sum(c.quantity) as quantity, min(c.day) as first_day, max(c.day) as last_day
         from charges c join stacks s on s.stack_id = c.stack_id
         left join local_meters m on m.meter_id = c.local_meter_id
         where c.partner_id = $1 and c.billing_subscription_id = any($2) and c.day >= $3 and c.day < $4
           and c.commerce_meter_id is not null and c.unit_price is null
         group by 1, 2, c.local_meter_id, 3 order by 1, 2 desc, 3, 5",
    )
    .bind(partner)
    .bind(subs)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<Uncharged>> = HashMap::new();
    for r in rows {
        out.entry(r.sub).or_default().push(r.uncharged);
    }
    Ok(out)
}

/// The frozen lines of final bills of `subs`, by subscription, in line order.
async fn frozen_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    subs: &[Uuid],
    period: Period,
) -> Result<HashMap<Uuid, Vec<BillLine>>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        subscription_id: Uuid,
        line_type: LineType,
        charge_period: Date,
        stack_name: String,
        stack_cloud_id: Uuid,
        commerce_meter_id: Uuid,
        meter_name: String,
        region: String,
        unit: String,
        quantity: Decimal,
        unit_price: Decimal,
        precise_amount: Decimal,
        amount: Decimal,
        customer_price: Decimal,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select l.subscription_id, l.line_type, l.charge_period, s.name as stack_name,
                s.cloud_id as stack_cloud_id, l.commerce_meter_id, l.meter_name, l.region, l.unit, l.quantity,
                l.unit_price, l.precise_amount, l.amount, l.customer_price
         from bill_lines l join stacks s on s.stack_id = l.stack_id
         where l.partner_id = $1 and l.subscription_id = any($2) and l.period = $3
         order by l.subscription_id, l.line_no",
    )
    .bind(partner)
    .bind(subs)
    .bind(period.start())
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<BillLine>> = HashMap::new();
    for r in rows {
        out.entry(r.subscription_id).or_default().push(BillLine {
            line_type: r.line_type,
            charge_period: Period::of_day(r.charge_period),
            stack_name: r.stack_name,
            stack_cloud_id: r.stack_cloud_id,
            commerce_meter_id: r.commerce_meter_id,
            meter_name: r.meter_name,
            region: r.region,
            unit: r.unit,
            quantity: r.quantity.normalize(),
            unit_price: r.unit_price.normalize(),
            precise_amount: r.precise_amount.normalize(),
            amount: r.amount.round_dp(2),
            customer_price: r.customer_price.round_dp(2),
            margin: (r.customer_price - r.amount).round_dp(2),
        });
    }
    Ok(out)
}

/// The customer a billing subscription belongs to, by the partner's directory ("(not in the directory)" otherwise).
pub async fn customer_name(conn: &mut PgConnection, partner: Uuid, sub: Uuid) -> Result<String, AppError> {
    let name: Option<String> = sqlx::query_scalar(
        "select customer_name from commerce_subscriptions where subscription_id = $1 and billing_partner_id = $2",
    )
    .bind(sub)
    .bind(partner)
    .fetch_optional(conn)
    .await?;
    Ok(name.unwrap_or_else(|| "(not in the directory)".into()))
}
