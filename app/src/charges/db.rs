//! Re-rating: recomputing a stack's charges from raw usage after something that decides routing or price changed.
//! Ingests keep charges current by themselves (database triggers); these calls cover everything else.
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppError;

/// Re-rates a stack's charges from the UTC day of `from` on, inside the caller's transaction.
pub async fn rerate_stack(conn: &mut PgConnection, stack_id: Uuid, from: OffsetDateTime) -> Result<(), AppError> {
    sqlx::query("select rerate_stack($1, ($2 at time zone 'UTC')::date)")
        .bind(stack_id)
        .bind(from)
        .execute(conn)
        .await?;
    Ok(())
}

/// Re-rates all of a stack's usage: after a change that is not dated (a local subscription's owner).
///
/// Charges are the current truth for every period. A final bill keeps its frozen lines whatever happens to its
/// period's charges, and the difference is billed as adjustments on the subscription's next bill that is not final;
/// so a re-rate reaches every bill that is not final, including another customer's bill of a month in which one
/// customer's bill is already final.
pub async fn rerate_stack_all(conn: &mut PgConnection, stack_id: Uuid) -> Result<(), AppError> {
    sqlx::query("select rerate_stack($1, '-infinity')").bind(stack_id).execute(conn).await?;
    Ok(())
}

/// Queues a re-rate of every stack from `from` (all of its usage when `None`), after a price list or meter map
/// import: the re-rating itself happens stack by stack in the background ([`run_queued`]), so the import commits at
/// once and ingest stops only for the stack being re-rated, while it is. A correction that reaches a final period is
/// billed as adjustments (see [`rerate_stack_all`]). Returns the number of stacks queued.
pub async fn queue_rerate_all(
    conn: &mut PgConnection,
    from: Option<OffsetDateTime>,
    reason: &str,
) -> Result<u64, AppError> {
    let n = sqlx::query(
        "insert into rerate_jobs (stack_id, partner_id, from_day, reason)
         select stack_id, partner_id, coalesce(($1 at time zone 'UTC')::date, '-infinity'), $2 from stacks
         order by stack_id
         on conflict (stack_id) do update
           set from_day = least(rerate_jobs.from_day, excluded.from_day), reason = excluded.reason,
               next_try_at = now()",
    )
    .bind(from)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n)
}

/// What one try of the queue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// No job is due.
    Idle,
    /// The stack was re-rated and its job removed.
    Done(Uuid),
    /// Re-rating the stack failed; its job is tried again later, after the others.
    Failed(Uuid),
}

/// Re-rates the stack whose job is due first, in one transaction with the job's removal (a crash leaves the job for
/// the next try). Jobs another worker is running are skipped; a failed try is recorded on the job and retried after
/// a back-off (a minute, doubling, at most an hour), so one stack that fails never holds up the others.
pub async fn run_one_queued(pool: &sqlx::PgPool) -> Result<Ran, AppError> {
    let mut tx = pool.begin().await?;
    let job: Option<Uuid> = sqlx::query_scalar(
        "select stack_id from rerate_jobs where next_try_at <= now() order by next_try_at, requested_at, stack_id
         limit 1 for update skip locked",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(stack) = job else { return Ok(Ran::Idle) };
    // A whole stack's history can take longer than a page's statement deadline; the job is the deadline's reason.
    sqlx::query("set local statement_timeout = 0").execute(&mut *tx).await?;
    sqlx::query("savepoint rerate").execute(&mut *tx).await?;
    // The day stays in SQL: it may be '-infinity', which no Rust date holds.
    let rerated = sqlx::query("select rerate_stack(stack_id, from_day) from rerate_jobs where stack_id = $1")
        .bind(stack)
        .execute(&mut *tx)
        .await;
    let ran = match rerated {
        Ok(_) => {
            sqlx::query("delete from rerate_jobs where stack_id = $1").bind(stack).execute(&mut *tx).await?;
            Ran::Done(stack)
        }
        Err(e) => {
            tracing::warn!(%stack, error = %e, "re-rating a stack failed; it is tried again later");
            sqlx::query("rollback to savepoint rerate").execute(&mut *tx).await?;
            sqlx::query(
                "update rerate_jobs set attempts = attempts + 1, last_error = $2,
                        next_try_at = now() + least(interval '1 hour', interval '1 minute' * power(2, attempts))
                 where stack_id = $1",
            )
            .bind(stack)
            .bind(e.to_string())
            .execute(&mut *tx)
            .await?;
            Ran::Failed(stack)
        }
    };
    tx.commit().await?;
    Ok(ran)
}

/// Runs the due re-rates until none is due; returns how many stacks were re-rated (failed ones are retried later).
pub async fn run_queued(pool: &sqlx::PgPool) -> Result<u64, AppError> {
    let mut n = 0;
    loop {
        match run_one_queued(pool).await? {
            Ran::Idle => return Ok(n),
            Ran::Done(_) => n += 1,
            Ran::Failed(_) => {}
        }
    }
}

/// Stacks of `partner` waiting to be re-rated.
pub async fn queued(db: impl sqlx::PgExecutor<'_>, partner: Uuid) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("select count(*) from rerate_jobs where partner_id = $1").bind(partner).fetch_one(db).await?)
}

/// Stacks of every partner waiting to be re-rated (the operator's page).
pub async fn queued_all(db: impl sqlx::PgExecutor<'_>) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("select count(*) from rerate_jobs").fetch_one(db).await?)
}

/// The most (subscription, month)s one fold's transaction recomputes.
const FOLD_STEP: i32 = 500;

/// Folds the months whose charges changed since the last fold into `charges_monthly`, which bills read instead of a
/// month of day rows (migration `monthly_bill_lines`), in transactions of at most [`FOLD_STEP`] (subscription,
/// month)s until none is left; returns the number folded. Bills are right whether or not this has run: a month
/// changed since is read from its day rows.
pub async fn fold_monthly(pool: &sqlx::PgPool) -> Result<i64, AppError> {
    let mut total = 0;
    loop {
        let folded: i32 = sqlx::query_scalar("select fold_charges_monthly($1)").bind(FOLD_STEP).fetch_one(pool).await?;
        total += i64::from(folded);
        if folded < FOLD_STEP {
            return Ok(total);
        }
    }
}

/// The monthly bill lines that differ from the sums of their day rows, both ways (0 once every month is folded):
/// the check the soak test and the tests make of [`fold_monthly`].
pub async fn monthly_differences(db: impl sqlx::PgExecutor<'_>) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "with days as (
             select partner_id, billing_subscription_id, date_trunc('month', day::timestamp)::date as month, stack_id,
                    commerce_meter_id, unit_price, sum(commerce_quantity) as q, sum(amount) as a
             from charges where billing_subscription_id is not null and commerce_meter_id is not null
               and unit_price is not null group by 1, 2, 3, 4, 5, 6),
         months as (select partner_id, billing_subscription_id, month, stack_id, commerce_meter_id, unit_price,
                           commerce_quantity as q, amount as a from charges_monthly)
         select count(*) from ((select * from days except select * from months)
                               union all (select * from months except select * from days)) x",
    )
    .fetch_one(db)
    .await?)
}
