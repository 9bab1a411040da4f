//! The explorer's queries: one statement per grouping, with the same filters, so the page and the CSV agree.
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::Postgres;
use time::Date;
use uuid::Uuid;

use super::{Filters, Grouping, UsageRow};
use crate::AppError;

/// Filters checked and read.
#[derive(Debug, Clone, Copy)]
pub struct Parsed {
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
    /// Stack cloud ID.
    pub stack: Option<Uuid>,
    /// Customer tenant.
    pub customer: Option<Uuid>,
    /// Local meter.
    pub meter: Option<Uuid>,
    /// What the rows are per.
    pub group: Grouping,
    /// The column asked to order by, and whether descending; none: the grouping's own order.
    pub order: Option<(SortBy, bool)>,
}

/// What the explorer's rows can be ordered by (the address's `sort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// The day, meter name or resource grouped by.
    Key,
    /// The meter's name.
    Meter,
    /// The quantity.
    Quantity,
    /// The cost at list price.
    Cost,
}

impl SortBy {
    /// Its key in the address.
    pub fn key(self) -> &'static str {
        SORTS.iter().find(|(_, c)| *c == self).map_or("", |(k, _)| k)
    }
}

/// The address's keys of [`SortBy`].
pub const SORTS: [(&str, SortBy); 4] =
    [("key", SortBy::Key), ("meter", SortBy::Meter), ("quantity", SortBy::Quantity), ("cost", SortBy::Cost)];

/// The `order by` of a statement: the column asked for (then the key and meter, so ties keep one order), or
/// `default`.
fn order_by(p: &Parsed, default: &str) -> String {
    match p.order {
        None => default.to_string(),
        Some((column, descending)) => {
            let expr = match column {
                SortBy::Key => "1",
                SortBy::Meter => "3",
                SortBy::Quantity => "quantity",
                SortBy::Cost => "cost",
            };
            format!("{expr} {} nulls last, 1, 3", if descending { "desc" } else { "asc" })
        }
    }
}

/// Days the explorer shows when no period is given.
pub const DEFAULT_DAYS: i64 = 30;

/// The longest period of the per-resource view: it reads usage records rather than daily charges, so its work grows
/// with the period times the stack's resources.
pub const MAX_RESOURCE_DAYS: i64 = 92;

/// Reads the filters; a bad value is named. Periods are at most 366 days (92 per resource); the default is the last
/// 30 days.
pub fn parse(f: &Filters, today: Date) -> Result<Parsed, AppError> {
    let day = time::macros::format_description!("[year]-[month]-[day]");
    let date = |field: &str, s: &str, default: Date| match s.trim() {
        "" => Ok(default),
        t => Date::parse(t, day).map_err(|_| {
            AppError::Validation(format!("{field}: “{}” is not a date (YYYY-MM-DD)", crate::domain::text::echo(t)))
        }),
    };
    let guid = |field: &str, s: &str| match s.trim() {
        "" => Ok(None),
        t => Uuid::parse_str(t)
            .map(Some)
            .map_err(|_| AppError::Validation(format!("{field}: “{}” is not a GUID", crate::domain::text::echo(t)))),
    };
    // The last 30 days, today included: a view that has usage on the 1st of a month too.
    let first = today - time::Duration::days(DEFAULT_DAYS - 1);
    let (from, to) = (date("from", &f.from, first)?, date("to", &f.to, today)?);
    if to < from || (to - from).whole_days() > 366 {
        return Err(AppError::Validation("to: give an end on or after the start, at most 366 days later".into()));
    }
    let group = Grouping::parse(&f.group).ok_or_else(|| {
        let other = crate::domain::text::echo(&f.group);
        AppError::Validation(format!("group: “{other}” is not day, meter or resource"))
    })?;
    if group == Grouping::Resource && (to - from).whole_days() >= MAX_RESOURCE_DAYS {
        return Err(AppError::Validation(format!(
            "to: the per-resource view covers at most {MAX_RESOURCE_DAYS} days; choose a shorter period or group by day"
        )));
    }
    Ok(Parsed {
        from,
        to,
        stack: guid("stack", &f.stack)?,
        customer: guid("customer", &f.customer)?,
        meter: guid("meter", &f.meter)?,
        group,
        order: crate::sorting::Order { sort: f.sort.clone(), desc: f.desc.clone() }
            .column(&SORTS)
            .map(|c| (c, f.desc == "1")),
    })
}

const FROM_CHARGES: &str = "from charges c join stacks s on s.stack_id = c.stack_id
     left join local_meters m on m.meter_id = c.local_meter_id
     where c.partner_id = $1 and c.day >= $2 and c.day <= $3 and ($4::uuid is null or s.cloud_id = $4)
       and ($5::uuid is null or c.tenant_id = $5) and ($6::uuid is null or c.local_meter_id = $6)";

/// The statement for a grouping ($7 caps the rows); bind it with [`query`].
pub fn sql(p: &Parsed) -> String {
    match p.group {
        Grouping::Day => format!(
            "select to_char(c.day, 'YYYY-MM-DD') as key, c.local_meter_id as meter_id,
                    coalesce(m.name, 'unknown meter') as meter_name, coalesce(m.unit, '') as unit,
                    sum(c.quantity) as quantity, sum(c.amount) as cost, null::text as customer
             {FROM_CHARGES} group by 1, 2, 3, 4 order by {} limit $7",
            order_by(p, "1, 3")
        ),
        Grouping::Meter => format!(
            "select coalesce(m.name, 'unknown meter') as key, c.local_meter_id as meter_id,
                    coalesce(m.name, 'unknown meter') as meter_name, coalesce(m.unit, '') as unit,
                    sum(c.quantity) as quantity, sum(c.amount) as cost, null::text as customer
             {FROM_CHARGES} group by 1, 2, 3, 4 order by {} limit $7",
            order_by(p, "cost desc nulls last, 1")
        ),
        Grouping::Resource => format!(
            "select u.resource_uri as key, u.meter_id, coalesce(m.name, 'unknown meter') as meter_name,
                     coalesce(m.unit, '') as unit, sum(u.quantity) as quantity,
                     sum(charge_amount(u.quantity, mm.factor, p.unit_price, r.billing_model)) as cost,
                     -- The resource's customer: its local subscription's owner, named by the partner's directory.
                     (select min(cs.customer_name) from commerce_subscriptions cs
                      where cs.billing_partner_id = $1
                        and cs.customer_tenant_id::text = min(ls.owner_tenant_id::text)) as customer
              from usage_records u
              join stacks s on s.stack_id = u.stack_id and s.partner_id = u.partner_id
              join partners pa on pa.partner_id = u.partner_id
              left join registrations r on r.stack_id = u.stack_id
              left join local_subscriptions ls
                     on ls.partner_id = u.partner_id and ls.stack_id = u.stack_id and ls.subscription_id = u.local_subscription_id
              left join local_meters m on m.meter_id = u.meter_id
              left join meter_map mm on mm.local_meter_id = u.meter_id
              left join price_list_entries p
                     on p.commerce_meter_id = mm.commerce_meter_id and p.currency = pa.currency
                    and p.effective_from <= u.usage_start and (p.effective_to is null or p.effective_to > u.usage_start)
              where u.partner_id = $1 and u.usage_start >= $2::date and u.usage_start < $3::date + 1
                and ($4::uuid is null or s.cloud_id = $4) and ($5::uuid is null or ls.owner_tenant_id = $5)
                and ($6::uuid is null or u.meter_id = $6)
                -- Daily records of a day that has Hourly ones are superseded (PRODUCT §4 R7), as in charges.
                and case when is_hourly(u.usage_start, u.usage_end) then true
                         else not superseded(u.partner_id, u.stack_id, u.local_subscription_id, u.meter_id,
                                             u.resource_uri, u.usage_start, u.usage_end) end
              group by 1, 2, 3, 4 order by {} limit $7",
            order_by(p, "cost desc nulls last, quantity desc, 1")
        ),
    }
}

/// The statement with its filters bound; `limit` caps the rows.
pub fn query<'a>(sql: &'a str, partner: Uuid, p: &Parsed, limit: i64) -> QueryAs<'a, Postgres, UsageRow, PgArguments> {
    sqlx::query_as(sql).bind(partner).bind(p.from).bind(p.to).bind(p.stack).bind(p.customer).bind(p.meter).bind(limit)
}

/// The filters' choices for a partner: its stacks, its customers (directory tenants) and the local meters it has
/// usage of, each by name.
pub async fn choices(
    pool: &sqlx::PgPool,
    partner: Uuid,
) -> Result<(Vec<super::Choice>, Vec<super::Choice>, Vec<super::Choice>), AppError> {
    let choices = |sql: &'static str| sqlx::query_as::<_, super::Choice>(sql).bind(partner).fetch_all(pool);
    let stacks = choices("select cloud_id as id, name from stacks where partner_id = $1 order by name").await?;
    let customers = choices(
        "select customer_tenant_id as id, max(customer_name) as name from commerce_subscriptions
         where billing_partner_id = $1 group by 1 order by 2",
    )
    .await?;
    let meters = choices(
        "select m.meter_id as id, m.name from local_meters m
         where exists (select 1 from charges c where c.partner_id = $1 and c.local_meter_id = m.meter_id) order by m.name",
    )
    .await?;
    Ok((stacks, customers, meters))
}

/// The CSV's file name: what the view is of, `usage-contoso-ams-01-2026-10-01-to-2026-10-31-by-day.csv` (the
/// stack's name when one is chosen, else `all-stacks`).
pub async fn csv_name(pool: &sqlx::PgPool, partner: Uuid, p: &Parsed) -> Result<String, AppError> {
    let stack: Option<String> = match p.stack {
        Some(cloud) => {
            sqlx::query_scalar("select name from stacks where cloud_id = $1 and partner_id = $2")
                .bind(cloud)
                .bind(partner)
                .fetch_optional(pool)
                .await?
        }
        None => None,
    };
    let stack = stack.map_or_else(|| "all-stacks".to_string(), |s| crate::domain::text::slug(&s));
    Ok(format!("usage-{stack}-{}-to-{}-by-{}.csv", p.from, p.to, p.group.as_str()))
}
