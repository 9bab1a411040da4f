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
                    sum(c.quantity) as quantity, sum(c.amount) as cost
             {FROM_CHARGES} group by 1, 2, 3, 4 order by 1, 3 limit $7"
        ),
        Grouping::Meter => format!(
            "select coalesce(m.name, 'unknown meter') as key, c.local_meter_id as meter_id,
                    coalesce(m.name, 'unknown meter') as meter_name, coalesce(m.unit, '') as unit,
                    sum(c.quantity) as quantity, sum(c.amount) as cost
             {FROM_CHARGES} group by 1, 2, 3, 4 order by cost desc nulls last, 1 limit $7"
        ),
        Grouping::Resource => "select u.resource_uri as key, u.meter_id, coalesce(m.name, 'unknown meter') as meter_name,
                     coalesce(m.unit, '') as unit, sum(u.quantity) as quantity,
                     sum(charge_amount(u.quantity, mm.factor, p.unit_price, r.billing_model)) as cost
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
              group by 1, 2, 3, 4 order by cost desc nulls last, quantity desc, 1 limit $7"
            .to_string(),
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
