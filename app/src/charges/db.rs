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

/// Re-rates a stack's open periods (those after its partner's latest final bill).
pub async fn rerate_stack_open(conn: &mut PgConnection, stack_id: Uuid) -> Result<(), AppError> {
    sqlx::query("select rerate_stack(s.stack_id, open_from(s.partner_id)) from stacks s where s.stack_id = $1")
        .bind(stack_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Re-rates every stack from `from` (or from its partner's open periods, whichever is later): after a price list or
/// meter map import. Returns the number of stacks re-rated.
pub async fn rerate_all(conn: &mut PgConnection, from: Option<OffsetDateTime>) -> Result<u64, AppError> {
    let n = sqlx::query(
        "select rerate_stack(s.stack_id, greatest(open_from(s.partner_id), coalesce(($1 at time zone 'UTC')::date, '-infinity')))
         from stacks s order by s.stack_id",
    )
    .bind(from)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n)
}
