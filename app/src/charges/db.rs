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

/// Re-rates every stack from `from` (all of its usage when `None`): after a price list or meter map import. A
/// correction that reaches a final period is billed as adjustments (see [`rerate_stack_all`]). Returns the number of
/// stacks re-rated.
pub async fn rerate_all(conn: &mut PgConnection, from: Option<OffsetDateTime>) -> Result<u64, AppError> {
    let n = sqlx::query(
        "select rerate_stack(s.stack_id, coalesce(($1 at time zone 'UTC')::date, '-infinity'))
         from stacks s order by s.stack_id",
    )
    .bind(from)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n)
}
