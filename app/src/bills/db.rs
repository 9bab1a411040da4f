//! Computing bills from charges, listing them, and moving them through open → draft → final.
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use super::money::{customer_price, round_down};
use super::{Bill, BillLine, BillSummary, FellThrough};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::auth::Scope;
use crate::AppError;

/// A billing period: a UTC calendar month, by its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(Date);

impl Period {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        let bad = || AppError::Validation(format!("period: “{s}” is not a month (YYYY-MM)"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (y, m): (i32, u8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let month = Month::try_from(m).map_err(|_| bad())?;
        Date::from_calendar_date(y, month, 1).map(Period).map_err(|_| bad())
    }

    /// The month of `t` (UTC).
    pub fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Period(Date::from_calendar_date(t.year(), t.month(), 1).expect("day 1 exists"))
    }

    /// The first day.
    pub fn start(self) -> Date {
        self.0
    }

    /// The first day of the next month.
    pub fn next(self) -> Self {
        let (y, m) = (self.0.year(), self.0.month());
        let (y, m) = if m == Month::December { (y + 1, Month::January) } else { (y, m.next()) };
        Period(Date::from_calendar_date(y, m, 1).expect("day 1 exists"))
    }

    /// The first day of the previous month.
    pub fn previous(self) -> Self {
        let day = self.0.previous_day().expect("not the first day ever");
        Period(Date::from_calendar_date(day.year(), day.month(), 1).expect("day 1 exists"))
    }

    /// The last day.
    pub fn end(self) -> Date {
        self.next().0.previous_day().expect("not the first day ever")
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month() as u8)
    }
}

/// One line's key and precise sums, before rounding.
#[derive(Debug, Clone, sqlx::FromRow)]
struct RawLine {
    stack_id: Uuid,
    commerce_meter_id: Uuid,
    unit_price: Decimal,
    quantity: Decimal,
    precise_amount: Decimal,
    stack_name: String,
    stack_cloud_id: Uuid,
    meter_name: String,
    region: String,
    unit: String,
}

type LineKey = (Uuid, Uuid, Decimal);

/// The current charges of a subscription in a period, one row per stack × commerce meter × unit price.
async fn current_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<Vec<RawLine>, AppError> {
    // Names come with the sums (one round trip): the stack's, and the meter's from its latest price list entry.
    Ok(sqlx::query_as(
        "select c.stack_id, c.commerce_meter_id, c.unit_price, c.quantity, c.precise_amount, s.name as stack_name,
                s.cloud_id as stack_cloud_id, coalesce(p.meter_name, 'unknown meter') as meter_name,
                coalesce(p.region, '') as region, coalesce(p.unit, '') as unit
         from (select stack_id, commerce_meter_id, unit_price, sum(commerce_quantity) as quantity,
                      sum(amount) as precise_amount
               from charges
               where partner_id = $1 and billing_subscription_id = $2 and day >= $3 and day < $4
                 and commerce_meter_id is not null and unit_price is not null
               group by 1, 2, 3) c
         join stacks s on s.stack_id = c.stack_id
         join partners pa on pa.partner_id = $1
         left join lateral (select meter_name, region, unit from price_list_entries e
                            where e.commerce_meter_id = c.commerce_meter_id and e.currency = pa.currency
                            order by effective_from desc limit 1) p on true",
    )
    .bind(partner)
    .bind(sub)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(conn)
    .await?)
}

/// What final bills already billed for a period, per line key.
async fn billed_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    sub: Uuid,
    charge_period: Period,
) -> Result<Vec<RawLine>, AppError> {
    Ok(sqlx::query_as(
        "select l.stack_id, l.commerce_meter_id, l.unit_price, sum(l.quantity) as quantity,
                sum(l.precise_amount) as precise_amount, s.name as stack_name, s.cloud_id as stack_cloud_id,
                max(l.meter_name) as meter_name, max(l.region) as region, max(l.unit) as unit
         from bill_lines l join bills b using (partner_id, period, subscription_id)
         join stacks s on s.stack_id = l.stack_id
         where l.partner_id = $1 and l.subscription_id = $2 and l.charge_period = $3 and b.status = 'final'
         group by 1, 2, 3, 6, 7",
    )
    .bind(partner)
    .bind(sub)
    .bind(charge_period.start())
    .fetch_all(conn)
    .await?)
}

/// The final periods whose late usage is billed on `period`'s bill: the unbroken run of final months just before
/// it. `finals` are the subscription's final periods before `period`, newest first.
fn adjusted_periods(period: Period, finals: &[Date]) -> Vec<Period> {
    let mut run = Vec::new();
    let mut expected = period;
    for f in finals {
        let p = Period(*f);
        if p.next() != expected {
            break;
        }
        run.push(p);
        expected = p;
    }
    run
}

#[derive(sqlx::FromRow)]
struct Header {
    partner_name: String,
    currency: String,
    partner_markup: Decimal,
    customer_markup: Option<Decimal>,
    customer_name: Option<String>,
    customer_tenant_id: Option<Uuid>,
    offer_type: Option<String>,
    status: Option<String>,
    finalized_at: Option<String>,
    frozen_markup: Option<Decimal>,
    finals: Vec<Date>,
}

fn line(kind: &str, charge_period: Period, raw: &RawLine, markup: Decimal) -> BillLine {
    let amount = round_down(raw.precise_amount);
    let price = customer_price(raw.precise_amount, markup);
    BillLine {
        line_type: kind.into(),
        charge_period: charge_period.to_string(),
        stack_name: raw.stack_name.clone(),
        stack_cloud_id: raw.stack_cloud_id,
        commerce_meter_id: raw.commerce_meter_id,
        meter_name: raw.meter_name.clone(),
        region: raw.region.clone(),
        unit: raw.unit.clone(),
        quantity: raw.quantity.normalize(),
        unit_price: raw.unit_price.normalize(),
        precise_amount: raw.precise_amount.normalize(),
        amount,
        customer_price: price,
        margin: price - amount,
    }
}

/// Lines of an open or draft bill: this period's usage, and adjustments for late usage of final periods.
async fn compute_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    sub: Uuid,
    period: Period,
    markup: Decimal,
    finals: &[Date],
) -> Result<Vec<(LineKey, BillLine)>, AppError> {
    let mut lines: Vec<(LineKey, BillLine)> = current_lines(conn, partner, sub, period)
        .await?
        .iter()
        .map(|r| ((r.stack_id, r.commerce_meter_id, r.unit_price), line("usage", period, r, markup)))
        .collect();
    for earlier in adjusted_periods(period, finals).into_iter().rev() {
        let mut diff: BTreeMap<LineKey, RawLine> = BTreeMap::new();
        for r in current_lines(conn, partner, sub, earlier).await? {
            diff.insert((r.stack_id, r.commerce_meter_id, r.unit_price), r);
        }
        for b in billed_lines(conn, partner, sub, earlier).await? {
            let e = diff.entry((b.stack_id, b.commerce_meter_id, b.unit_price)).or_insert_with(|| RawLine {
                quantity: Decimal::ZERO,
                precise_amount: Decimal::ZERO,
                ..b.clone()
            });
            e.quantity -= b.quantity;
            e.precise_amount -= b.precise_amount;
        }
        lines.extend(
            diff.into_iter()
                .filter(|(_, r)| !r.quantity.is_zero() || !r.precise_amount.is_zero())
                .map(|(k, r)| (k, line("adjustment", earlier, &r, markup))),
        );
    }
    Ok(lines)
}

/// Orders lines by type, period, stack and meter.
fn order(lines: &mut [BillLine]) {
    lines.sort_by(|a, b| {
        (a.line_type != "usage", &a.charge_period, &a.stack_name, &a.meter_name, a.unit_price).cmp(&(
            b.line_type != "usage",
            &b.charge_period,
            &b.stack_name,
            &b.meter_name,
            b.unit_price,
        ))
    });
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

/// A customer's bill for a period.
pub async fn bill(conn: &mut PgConnection, partner: Uuid, sub: Uuid, period: Period) -> Result<Bill, AppError> {
    let h: Header = sqlx::query_as(
        "select p.name as partner_name, p.currency, p.markup_percent as partner_markup, m.markup_percent as customer_markup,
                c.customer_name, c.customer_tenant_id, c.offer_type, b.status,
                to_char(b.finalized_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as finalized_at,
                b.markup_percent as frozen_markup,
                array(select f.period from bills f where f.partner_id = p.partner_id and f.subscription_id = $2
                      and f.status = 'final' and f.period < $3 order by f.period desc) as finals
         from partners p
         left join customer_markups m on m.partner_id = p.partner_id and m.subscription_id = $2
         left join commerce_subscriptions c on c.subscription_id = $2 and c.billing_partner_id = p.partner_id
         left join bills b on b.partner_id = p.partner_id and b.subscription_id = $2 and b.period = $3
         where p.partner_id = $1",
    )
    .bind(partner)
    .bind(sub)
    .bind(period.start())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let status = h.status.clone().unwrap_or_else(|| "open".into());
    let markup = h.frozen_markup.or(h.customer_markup).unwrap_or(h.partner_markup);
    let lines: Vec<BillLine> = if status == "final" {
        frozen_lines(conn, partner, sub, period).await?
    } else {
        let mut l: Vec<BillLine> =
            compute_lines(conn, partner, sub, period, markup, &h.finals).await?.into_iter().map(|(_, l)| l).collect();
        order(&mut l);
        l
    };
    let fell_through = fell_through(conn, partner, sub, period).await?;
    let sum = |f: fn(&BillLine) -> Decimal| lines.iter().map(f).sum::<Decimal>();
    Ok(Bill {
        partner_id: partner,
        partner_name: h.partner_name,
        period: period.to_string(),
        period_start: period.start().to_string(),
        period_end: period.end().to_string(),
        subscription_id: sub,
        customer_name: h.customer_name.unwrap_or_else(|| "(not in the directory)".into()),
        customer_tenant_id: h.customer_tenant_id,
        offer_type: h.offer_type.unwrap_or_default(),
        status,
        finalized_at: h.finalized_at,
        currency: h.currency,
        markup_percent: markup.normalize(),
        total_amount: sum(|l| l.amount),
        total_customer_price: sum(|l| l.customer_price),
        total_margin: sum(|l| l.margin),
        lines,
        fell_through,
        period_ended: period.next().start().midnight().assume_utc() <= OffsetDateTime::now_utc(),
    })
}

async fn frozen_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<Vec<BillLine>, AppError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        line_type: String,
        charge_period: String,
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
        "select l.line_type, to_char(l.charge_period, 'YYYY-MM') as charge_period, s.name as stack_name,
                s.cloud_id as stack_cloud_id, l.commerce_meter_id, l.meter_name, l.region, l.unit, l.quantity,
                l.unit_price, l.precise_amount, l.amount, l.customer_price
         from bill_lines l join stacks s on s.stack_id = l.stack_id
         where l.partner_id = $1 and l.subscription_id = $2 and l.period = $3 order by l.line_no",
    )
    .bind(partner)
    .bind(sub)
    .bind(period.start())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BillLine {
            line_type: r.line_type,
            charge_period: r.charge_period,
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
        })
        .collect())
}

async fn fell_through(
    conn: &mut PgConnection,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<Vec<FellThrough>, AppError> {
    Ok(sqlx::query_as(
        "select c.tenant_id, max(cs.customer_name) as customer_name, string_agg(distinct s.name, ', ') as stacks
         from charges c join stacks s on s.stack_id = c.stack_id
         left join commerce_subscriptions cs on cs.customer_tenant_id = c.tenant_id and cs.billing_partner_id = c.partner_id
         where c.partner_id = $1 and c.billing_subscription_id = $2 and c.day >= $3 and c.day < $4 and c.fell_through
         group by c.tenant_id order by customer_name nulls last, c.tenant_id nulls first",
    )
    .bind(partner)
    .bind(sub)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(conn)
    .await?)
}

/// Every bill of a partner for a period: customers with usage in it, a bill row, or a final bill before it (late
/// usage of which becomes adjustments here). Bills with no lines and no status are left out.
pub async fn bills(conn: &mut PgConnection, partner: Uuid, period: Period) -> Result<Vec<Bill>, AppError> {
    let subs: Vec<Uuid> = sqlx::query_scalar(
        "select billing_subscription_id from charges
         where partner_id = $1 and day >= $2 and day < $3 and billing_subscription_id is not null
         union select subscription_id from bills where partner_id = $1 and period <= $2
         order by 1",
    )
    .bind(partner)
    .bind(period.start())
    .bind(period.next().start())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for sub in subs {
        let b = bill(conn, partner, sub, period).await?;
        if !b.lines.is_empty() || b.status != "open" {
            out.push(b);
        }
    }
    out.sort_by(|a, b| a.customer_name.cmp(&b.customer_name).then(a.subscription_id.cmp(&b.subscription_id)));
    Ok(out)
}

/// The summary row of a bill.
pub fn summary(b: &Bill) -> BillSummary {
    BillSummary {
        subscription_id: b.subscription_id,
        customer_name: b.customer_name.clone(),
        status: b.status.clone(),
        lines: b.lines.len(),
        amount: b.total_amount,
        customer_price: b.total_customer_price,
        margin: b.total_margin,
        has_adjustments: b.lines.iter().any(|l| l.line_type == "adjustment"),
    }
}

/// Marks an open bill as draft (under review); refused for final bills.
pub async fn mark_draft(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<(), AppError> {
    let b = bill(conn, partner, sub, period).await?;
    if b.status != "open" {
        return Err(AppError::Conflict(format!("This bill is {}; only an open bill can become a draft.", b.status)));
    }
    sqlx::query(
        "insert into bills (partner_id, period, subscription_id, status, currency) values ($1, $2, $3, 'draft', $4)",
    )
    .bind(partner)
    .bind(period.start())
    .bind(sub)
    .bind(&b.currency)
    .execute(&mut *conn)
    .await?;
    audit(conn, actor, &b, "bill.draft").await
}

/// Finalises a bill: its lines (usage and adjustments) are frozen with the markup in force, and later usage of the
/// period becomes adjustments on the next bill. Only bills of ended months can be finalised.
pub async fn finalise(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<Bill, AppError> {
    // One finaliser at a time per partner and customer: the row lock orders concurrent clicks.
    sqlx::query("select 1 from partners where partner_id = $1 for update").bind(partner).execute(&mut *conn).await?;
    let b = bill(conn, partner, sub, period).await?;
    if b.status == "final" {
        return Err(AppError::Conflict("This bill is already final.".into()));
    }
    if !b.period_ended {
        return Err(AppError::Validation(format!(
            "{} has not ended yet (UTC); a bill is finalised after its month.",
            b.period
        )));
    }
    sqlx::query(
        "insert into bills (partner_id, period, subscription_id, status, finalized_at, currency, markup_percent)
         values ($1, $2, $3, 'final', now(), $4, $5)
         on conflict (partner_id, period, subscription_id)
         do update set status = 'final', finalized_at = now(), currency = excluded.currency, markup_percent = excluded.markup_percent",
    )
    .bind(partner)
    .bind(period.start())
    .bind(sub)
    .bind(&b.currency)
    .bind(b.markup_percent)
    .execute(&mut *conn)
    .await?;
    let stacks: Vec<(Uuid, Uuid)> = sqlx::query_as("select cloud_id, stack_id from stacks where cloud_id = any($1)")
        .bind(b.lines.iter().map(|l| l.stack_cloud_id).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
    for (no, l) in b.lines.iter().enumerate() {
        let stack = stacks.iter().find(|(c, _)| *c == l.stack_cloud_id).map(|(_, s)| *s).ok_or(AppError::Internal)?;
        let charge_period = Period::parse(&l.charge_period)?;
        sqlx::query(
            "insert into bill_lines (partner_id, period, subscription_id, line_no, line_type, stack_id, commerce_meter_id,
                                     meter_name, region, unit, quantity, unit_price, precise_amount, amount, customer_price,
                                     currency, charge_period)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(partner)
        .bind(period.start())
        .bind(sub)
        .bind(no as i32 + 1)
        .bind(&l.line_type)
        .bind(stack)
        .bind(l.commerce_meter_id)
        .bind(&l.meter_name)
        .bind(&l.region)
        .bind(&l.unit)
        .bind(l.quantity)
        .bind(l.unit_price)
        .bind(l.precise_amount)
        .bind(l.amount)
        .bind(l.customer_price)
        .bind(&b.currency)
        .bind(charge_period.start())
        .execute(&mut *conn)
        .await?;
    }
    audit(conn, actor, &b, "bill.finalise").await?;
    bill(conn, partner, sub, period).await
}

async fn audit(conn: &mut PgConnection, actor: &Actor, b: &Bill, action: &str) -> Result<(), AppError> {
    let event = Event {
        partner_id: Some(b.partner_id),
        action,
        entity_type: "bill",
        entity_id: format!("{}/{}", b.period, b.subscription_id),
        before: Some(serde_json::json!({ "status": b.status })),
        after: Some(serde_json::json!({
            "status": if action == "bill.finalise" { "final" } else { "draft" },
            "lines": b.lines.len(), "amount": b.total_amount, "customerPrice": b.total_customer_price,
            "currency": b.currency,
        })),
    };
    record(conn, actor, event).await
}

/// Sets a partner's default markup, or a customer's own (`sub`), in percent; `None` removes a customer's own.
pub async fn set_markup(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Option<Uuid>,
    percent: Option<Decimal>,
) -> Result<(), AppError> {
    if percent.is_some_and(|p| p.is_sign_negative() || p > Decimal::from(1000)) {
        return Err(AppError::Rule { field: "markup".into(), message: "A markup is between 0 and 1000 %.".into() });
    }
    match (sub, percent) {
        (None, Some(p)) => {
            sqlx::query("update partners set markup_percent = $2, updated_at = now() where partner_id = $1")
                .bind(partner)
                .bind(p)
                .execute(&mut *conn)
                .await?;
        }
        (None, None) => {
            return Err(AppError::Rule { field: "markup".into(), message: "Give the default markup in %.".into() })
        }
        (Some(s), Some(p)) => {
            sqlx::query(
                "insert into customer_markups (partner_id, subscription_id, markup_percent) values ($1, $2, $3)
                 on conflict (partner_id, subscription_id) do update set markup_percent = excluded.markup_percent, updated_at = now()",
            )
            .bind(partner)
            .bind(s)
            .bind(p)
            .execute(&mut *conn)
            .await?;
        }
        (Some(s), None) => {
            sqlx::query("delete from customer_markups where partner_id = $1 and subscription_id = $2")
                .bind(partner)
                .bind(s)
                .execute(&mut *conn)
                .await?;
        }
    }
    let event = Event {
        partner_id: Some(partner),
        action: "markup.set",
        entity_type: if sub.is_some() { "subscription" } else { "partner" },
        entity_id: sub.unwrap_or(partner).to_string(),
        before: None,
        after: Some(serde_json::json!({ "markupPercent": percent })),
    };
    record(conn, actor, event).await
}
