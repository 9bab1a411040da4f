//! The operator's file imports (directory, price list, meter map) share one shape: read the uploaded file as text,
//! parse every row (all errors by line and column), store all rows in one transaction or none, and say what happened
//! on the operator page.
use axum::extract::Multipart;
use axum::response::Redirect;
use sqlx::{PgConnection, PgPool};

use super::caller::Caller;
use super::form::FILE_FIELD;
use super::respond::back;
use super::FormId;
use crate::audit::Actor;
use crate::rows::RowError;
use crate::AppError;

/// The rows refused, at most 100 of them, in one message.
pub fn refused(what: &str, errors: &[RowError]) -> AppError {
    AppError::Validation(crate::rows::refusal(what, "", errors))
}

async fn file_text(form: &mut Multipart) -> Result<String, AppError> {
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(FILE_FIELD) {
            return field
                .text()
                .await
                .map_err(|_| AppError::Validation("The file could not be read as UTF-8 text.".into()));
        }
    }
    Err(AppError::Validation("Choose a file.".into()))
}

/// Reads the posted file with `parse`, stores it with `store` (which says what it did) in one transaction, and goes
/// back to the operator page with the outcome.
pub async fn import_file<T>(
    pool: &PgPool,
    caller: &Caller,
    mut form: Multipart,
    what: &str,
    parse: fn(&str) -> Result<T, Vec<RowError>>,
    store: impl AsyncFnOnce(&mut PgConnection, &Actor, &T) -> Result<String, AppError>,
) -> Result<Redirect, AppError> {
    let result = async {
        let text = file_text(&mut form).await?;
        let parsed = parse(&text).map_err(|e| refused(what, &e))?;
        let mut tx = pool.begin().await?;
        let message = store(&mut tx, &caller.actor(), &parsed).await?;
        tx.commit().await?;
        Ok(message)
    }
    .await;
    back(&caller.session, crate::operator::forms::OPERATOR_PAGE.pattern(), FormId::Operator, result).await
}
