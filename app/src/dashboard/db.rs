//! The dashboard's questions, each over one month of the charges rollup (billed usage: a billing subscription set).
use rust_decimal::Decimal;
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use super::CostRow;
use crate::domain::Period;
use crate::AppError;

/// The partner's stacks with their month's cost, highest first (stacks without usage at 0).
pub async fn by_stack(pool: &PgPool, partner: Uuid, month: Period) -> Result<Vec<CostRow>, AppError> {
    Ok(sqlx::query_as(
        "select s.cloud_id as id, s.name, coalesce(sum(c.amount), 0) as cost
         from stacks s left join charges c on c.stack_id = s.stack_id and c.partner_id = s.partner_id
                                          and c.day >= $2 and c.day < $3 and c.billing_subscription_id is not null
         where s.partner_id = $1 group by s.cloud_id, s.name order by cost desc, s.name",
    )
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .fetch_all(pool)
    .await?)
}

/// The month's cost per customer (billing subscription), highest first.
pub async fn by_customer(pool: &PgPool, partner: Uuid, month: Period) -> Result<Vec<CostRow>, AppError> {
    Ok(sqlx::query_as(
        "select c.billing_subscription_id as id, coalesce(max(d.customer_name), '(not in the directory)') as name,
                coalesce(sum(c.amount), 0) as cost
         from charges c left join commerce_subscriptions d on d.subscription_id = c.billing_subscription_id
         where c.partner_id = $1 and c.day >= $2 and c.day < $3 and c.billing_subscription_id is not null
         group by c.billing_subscription_id order by cost desc, name",
    )
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .fetch_all(pool)
    .await?)
}

/// The cost of each UTC day of the month up to `today`, days without usage at 0.
pub async fn daily(pool: &PgPool, partner: Uuid, month: Period, today: Date) -> Result<Vec<(Date, Decimal)>, AppError> {
    Ok(sqlx::query_as(
        "select d::date, coalesce(sum(c.amount), 0)
         from generate_series($2::date, least($3::date - 1, $4::date), interval '1 day') as d
         left join charges c on c.partner_id = $1 and c.day = d::date and c.billing_subscription_id is not null
         group by d order by d",
    )
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .bind(today)
    .fetch_all(pool)
    .await?)
}

/// The month's usage on no bill: (quantity of stacks not registered at the time, quantity with a commerce meter but
/// no price in effect).
pub async fn not_billed(pool: &PgPool, partner: Uuid, month: Period) -> Result<(Decimal, Decimal), AppError> {
    Ok(sqlx::query_as(
        "select coalesce(sum(quantity) filter (where billing_subscription_id is null), 0),
                coalesce(sum(quantity) filter (where billing_subscription_id is not null and commerce_meter_id is not null
                                                 and unit_price is null and not_charged is null), 0)
         from charges where partner_id = $1 and day >= $2 and day < $3",
    )
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .fetch_one(pool)
    .await?)
}

/// A month's billed cost (precise, before per-line rounding).
pub async fn month_cost(pool: &PgPool, partner: Uuid, month: Period) -> Result<Decimal, AppError> {
    Ok(sqlx::query_scalar(
        "select coalesce(sum(amount), 0) from charges
         where partner_id = $1 and day >= $2 and day < $3 and billing_subscription_id is not null",
    )
    .bind(partner)
    .bind(month.start())
    .bind(month.next().start())
    .fetch_one(pool)
    .await?)
}
