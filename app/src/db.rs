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
