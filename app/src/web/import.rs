//! The file imports (the operator's directory, price list and meter map; a partner's reconciliation file) share one
//! shape: read the uploaded file as text, parse every row (all errors by line and column), store all rows in one
//! transaction or none, and say what happened on the page of the form.
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

/// The posted file's name and text.
async fn file_text(form: &mut Multipart) -> Result<(String, String), AppError> {
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(FILE_FIELD) {
            let name = field.file_name().map(crate::domain::text::echo).unwrap_or_default();
            let text = field
                .text()
                .await
                .map_err(|_| AppError::Validation(format!("{name}: the file could not be read as UTF-8 text.")))?;
            // A form posted without a file still sends the input, with no name and no content.
            if name.is_empty() && text.is_empty() {
                break;
            }
            if text.trim_start_matches('\u{feff}').trim().is_empty() {
                return Err(AppError::Validation(format!("{name}: the file is empty; nothing imported.")));
            }
            return Ok((name, text));
        }
    }
    Err(AppError::Validation("Choose a file.".into()))
}

/// Where an import's outcome is shown: the form's page and the form.
pub type Back<'a> = (&'a str, FormId);

/// The operator page's imports.
pub const OPERATOR: Back<'static> = (crate::operator::forms::OPERATOR_PAGE.pattern(), FormId::Operator);

/// Reads the posted file with `parse`, stores it with `store` (given the file's name; it says what it did) in one
/// transaction, and goes back to the form with the outcome.
pub async fn import_file<T>(
    pool: &PgPool,
    caller: &Caller,
    mut form: Multipart,
    (what, to): (&str, Back<'_>),
    parse: fn(&str) -> Result<T, Vec<RowError>>,
    store: impl AsyncFnOnce(&mut PgConnection, &Actor, &str, &T) -> Result<String, AppError>,
) -> Result<Redirect, AppError> {
    let result = async {
        let (name, text) = file_text(&mut form).await?;
        let parsed = parse(&text).map_err(|e| refused(what, &e))?;
        let mut tx = pool.begin().await?;
        let message = store(&mut tx, &caller.actor(), &name, &parsed).await?;
        tx.commit().await?;
        Ok(message)
    }
    .await;
    back(&caller.session, to.0, to.1, result).await
}
