//! Database access shared by every feature: the migrator and the pool from the Leptos context.
use sqlx::migrate::Migrator;
use sqlx::PgPool;

use crate::AppError;

/// The one migrator (STYLE L10): the server, the command line and `#[sqlx::test]` all use it.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The pool provided to every request by the server; an error instead of a panic if it is missing (STYLE P4).
pub fn pool() -> Result<PgPool, AppError> {
    leptos::prelude::use_context::<PgPool>().ok_or_else(|| {
        tracing::error!("PgPool missing from the Leptos context");
        AppError::Internal
    })
}

/// The key secrets are sealed with, provided like the pool.
pub fn secret_key() -> Result<crate::domain::secrets::SecretKey, AppError> {
    leptos::prelude::use_context::<crate::domain::secrets::SecretKey>().ok_or_else(|| {
        tracing::error!("SecretKey missing from the Leptos context");
        AppError::Internal
    })
}

/// A read-only transaction in one snapshot for a page that reads several statements of one thing (a bill: its
/// header, its lines, its uncharged usage), so they agree with each other, planned once per connection.
///
/// PostgreSQL plans a prepared statement again for every execution while it thinks the parameters matter; for a
/// bill's statements (unnest of the subscriptions, subqueries for the header) that planning cost more than running
/// them: 1.1 ms and 0.7 ms against about 0.1 ms each (`bash .ci/bench-bills`, BENCHMARKS.md). Their plans do not
/// depend on the values (the same index lookups for one subscription or two hundred), so inside this transaction the
/// connection keeps one generic plan per statement.
pub async fn reading(conn: &mut sqlx::PgConnection) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, AppError> {
    use sqlx::Connection;
    Ok(conn
        .begin_with("begin isolation level repeatable read read only; set local plan_cache_mode = force_generic_plan")
        .await?)
}
