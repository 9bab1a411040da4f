//! A bill's lines: this period's charges per stack × commerce meter × unit price, rounded per line, and adjustment
//! lines for usage that reached final periods after they were finalised.
use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

use super::{BillLine, LineType};
use crate::domain::money::{customer_price, round_down};
use crate::domain::Period;
use crate::AppError;

/// One line's key and precise sums, before rounding.
#[derive(Debug, Clone, sqlx::FromRow)]
struct RawLine {
    /// The bill's subscription.
    sub: Uuid,
    /// The first day of the month the charges are of.
    charge_period: Date,
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
    /// What final bills already billed for the key, rounded (0 for current charges).
    billed_amount: Decimal,
    /// The customer price they billed (0 for current charges).
    billed_price: Decimal,
}

pub(super) type LineKey = (Uuid, Uuid, Decimal);

/// A subscription's month: the pairs the line queries take, as two arrays.
type Months = (Vec<Uuid>, Vec<Date>);

/// The current charges of each (subscription, month) in `months`, one row per stack × commerce meter × unit price,
/// in one round trip whatever the number of subscriptions: from `charges_monthly`, or from the day rows of a month
/// changed since it was last folded (migration `monthly_bill_lines`).
async fn current_lines(conn: &mut PgConnection, partner: Uuid, months: &Months) -> Result<Vec<RawLine>, AppError> {
    // Names come with the sums: the stack's, and the meter's from its latest price list entry.
    Ok(sqlx::query_as(
        "select k.sub, k.month as charge_period, c.stack_id, c.commerce_meter_id, c.unit_price, c.quantity,
                c.precise_amount, s.name as stack_name, s.cloud_id as stack_cloud_id,
                coalesce(p.meter_name, 'unknown meter') as meter_name, coalesce(p.region, '') as region,
                coalesce(p.unit, '') as unit, 0::numeric as billed_amount, 0::numeric as billed_price
         from unnest($2::uuid[], $3::date[]) as k(sub, month)
         cross join lateral (
               -- The month's folded lines, unless a change since is still to be folded: then its day rows.
               select stack_id, commerce_meter_id, unit_price, commerce_quantity as quantity, amount as precise_amount
               from charges_monthly
               where partner_id = $1 and billing_subscription_id = k.sub and month = k.month
                 and not exists (select 1 from charges_dirty d where d.partner_id = $1
                                 and d.billing_subscription_id = k.sub and d.month = k.month)
               union all
               select stack_id, commerce_meter_id, unit_price, sum(commerce_quantity), sum(amount)
               from charges
               where partner_id = $1 and billing_subscription_id = k.sub and day >= k.month
                 and day < (k.month + interval '1 month')::date
                 and commerce_meter_id is not null and unit_price is not null
                 and exists (select 1 from charges_dirty d where d.partner_id = $1
                             and d.billing_subscription_id = k.sub and d.month = k.month)
               group by 1, 2, 3) c
         join stacks s on s.stack_id = c.stack_id
         join partners pa on pa.partner_id = $1
         left join lateral (select meter_name, region, unit from price_list_entries e
                            where e.commerce_meter_id = c.commerce_meter_id and e.currency = pa.currency
                            order by effective_from desc limit 1) p on true",
    )
    .bind(partner)
    .bind(&months.0)
    .bind(&months.1)
    .fetch_all(conn)
    .await?)
}

/// What final bills already billed for each (subscription, month) in `months`, per line key, in one round trip.
async fn billed_lines(conn: &mut PgConnection, partner: Uuid, months: &Months) -> Result<Vec<RawLine>, AppError> {
    Ok(sqlx::query_as(
        "select k.sub, k.month as charge_period, l.stack_id, l.commerce_meter_id, l.unit_price,
                sum(l.quantity) as quantity, sum(l.precise_amount) as precise_amount, s.name as stack_name,
                s.cloud_id as stack_cloud_id, max(l.meter_name) as meter_name, max(l.region) as region,
                max(l.unit) as unit, sum(l.amount) as billed_amount, sum(l.customer_price) as billed_price
         from unnest($2::uuid[], $3::date[]) as k(sub, month)
         join bill_lines l on l.partner_id = $1 and l.subscription_id = k.sub and l.charge_period = k.month
         join bills b using (partner_id, period, subscription_id)
         join stacks s on s.stack_id = l.stack_id
         where b.status = 'final'
         group by 1, 2, 3, 4, 5, 8, 9",
    )
    .bind(partner)
    .bind(&months.0)
    .bind(&months.1)
    .fetch_all(conn)
    .await?)
}

/// The final periods whose late usage is billed on `period`'s bill: the unbroken run of final months just before
/// it. `finals` are the subscription's final periods before `period`, newest first.
fn adjusted_periods(period: Period, finals: &[Date]) -> Vec<Period> {
    let mut run = Vec::new();
    let mut expected = period;
    for f in finals {
        let p = Period::of(f.midnight().assume_utc());
        if p.next() != expected {
            break;
        }
        run.push(p);
        expected = p;
    }
    run
}

fn line(kind: LineType, charge_period: Period, raw: &RawLine, markup: Decimal) -> BillLine {
    let amount = round_down(raw.precise_amount);
    let price = customer_price(raw.precise_amount, markup);
    line_with(kind, charge_period, raw, amount, price)
}

fn line_with(kind: LineType, charge_period: Period, raw: &RawLine, amount: Decimal, price: Decimal) -> BillLine {
    BillLine {
        line_type: kind,
        charge_period,
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

/// An open or draft bill whose lines are to be computed.
pub(super) struct Unfrozen<'a> {
    /// Its subscription.
    pub sub: Uuid,
    /// The markup it is priced at.
    pub markup: Decimal,
    /// The subscription's final periods before this one, newest first.
    pub finals: &'a [Date],
}

/// Lines of open or draft bills of one period, by subscription: the period's usage, and adjustments for late usage
/// of final periods. Two or three round trips, whatever the number of bills.
pub(super) async fn compute_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
    bills: &[Unfrozen<'_>],
) -> Result<HashMap<Uuid, Vec<(LineKey, BillLine)>>, AppError> {
    let (mut current, mut adjusted): (Months, Months) = Default::default();
    for b in bills {
        current.0.push(b.sub);
        current.1.push(period.start());
        for earlier in adjusted_periods(period, b.finals) {
            for m in [&mut current, &mut adjusted] {
                m.0.push(b.sub);
                m.1.push(earlier.start());
            }
        }
    }
    let now = current_lines(conn, partner, &current).await?;
    let billed = if adjusted.0.is_empty() { Vec::new() } else { billed_lines(conn, partner, &adjusted).await? };
    let mut out: HashMap<Uuid, Vec<(LineKey, BillLine)>> = HashMap::new();
    let mut earlier: BTreeMap<(Uuid, Date), (Vec<RawLine>, Vec<RawLine>)> = BTreeMap::new();
    let markups: HashMap<Uuid, Decimal> = bills.iter().map(|b| (b.sub, b.markup)).collect();
    for r in now {
        if r.charge_period == period.start() {
            let key = (r.stack_id, r.commerce_meter_id, r.unit_price);
            out.entry(r.sub).or_default().push((key, line(LineType::Usage, period, &r, markups[&r.sub])));
        } else {
            earlier.entry((r.sub, r.charge_period)).or_default().0.push(r);
        }
    }
    for r in billed {
        earlier.entry((r.sub, r.charge_period)).or_default().1.push(r);
    }
    // Oldest period first, as the bill lists them.
    for ((sub, month), (current, billed)) in earlier {
        let charge_period = Period::of_day(month);
        out.entry(sub).or_default().extend(adjustments(charge_period, current, billed, markups[&sub]));
    }
    Ok(out)
}

/// Adjustment lines for a final period (PRODUCT §4 R5): per line key, what is billed so far (adjustments included)
/// must equal ROUNDDOWN of the current precise total, so an adjustment's amount is that minus the billed amounts —
/// never a rounded difference, which would lose a cent for every small late record. Keys whose amount and customer
/// price are both already right get no line (no 0.00 lines).
fn adjustments(
    earlier: Period,
    current: Vec<RawLine>,
    billed: Vec<RawLine>,
    markup: Decimal,
) -> impl Iterator<Item = (LineKey, BillLine)> {
    let key = |r: &RawLine| (r.stack_id, r.commerce_meter_id, r.unit_price);
    let mut totals: BTreeMap<LineKey, (RawLine, RawLine)> = BTreeMap::new();
    let zero = |r: &RawLine| RawLine {
        quantity: Decimal::ZERO,
        precise_amount: Decimal::ZERO,
        billed_amount: Decimal::ZERO,
        billed_price: Decimal::ZERO,
        ..r.clone()
    };
    for c in current {
        totals.insert(key(&c), (zero(&c), c));
    }
    for b in billed {
        let entry = totals.entry(key(&b)).or_insert_with(|| (zero(&b), zero(&b)));
        entry.0 = b;
    }
    totals.into_iter().filter_map(move |(k, (billed, now))| {
        // Both sides are whole cents: the difference is too (round_dp only sets the scale to 2).
        let amount = (round_down(now.precise_amount) - billed.billed_amount).round_dp(2);
        let price = (customer_price(now.precise_amount, markup) - billed.billed_price).round_dp(2);
        if amount.is_zero() && price.is_zero() {
            return None;
        }
        let diff = RawLine {
            quantity: now.quantity - billed.quantity,
            precise_amount: now.precise_amount - billed.precise_amount,
            ..now
        };
        Some((k, line_with(LineType::Adjustment, earlier, &diff, amount, price)))
    })
}

/// Orders lines by type, period, stack and meter.
pub(super) fn order(lines: &mut [BillLine]) {
    lines.sort_by(|a, b| {
        (a.line_type, &a.charge_period, &a.stack_name, &a.meter_name, a.unit_price).cmp(&(
            b.line_type,
            &b.charge_period,
            &b.stack_name,
            &b.meter_name,
            b.unit_price,
        ))
    });
}
