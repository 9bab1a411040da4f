//! The one error policy of the web layer. A handler returns `Result<_, AppError>`; the error decides the answer:
//! a refusal the user can act on (a rule, a bad value, a conflict, a busy database) goes back to the form as a flash
//! ([`back`]); not signed in, not allowed, not found and our own faults are a small error page with their status
//! ([`IntoResponse`]). The ingest API's errors are the same values, written as JSON by `server`'s API layer.
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::flash::{Flash, FormId};
use crate::auth::session::AuthSession;
use crate::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stackbill</title></head><body><main><h1>{}</h1><p><a href=\"/\">Back to the home page</a></p></main></body></html>",
            crate::domain::text::html_escape(&self.to_string())
        );
        (status, Html(body)).into_response()
    }
}

/// Whether the user can act on this refusal on the form they posted (otherwise it is an error page).
fn for_the_form(e: &AppError) -> bool {
    matches!(e, AppError::Validation(_) | AppError::Rule { .. } | AppError::Conflict(_) | AppError::Busy)
}

/// Post/redirect/get: keeps `result` as the flash of `form` and answers 303 to `to` (the form's page), at the
/// outcome's fragment. A refusal the user cannot act on there is returned as the error instead.
pub async fn back(
    session: &AuthSession,
    to: impl AsRef<str>,
    form: FormId,
    result: Result<String, AppError>,
) -> Result<Redirect, AppError> {
    back_typed(session, to, form, result, Vec::new()).await
}

/// [`back`], keeping what the user `typed` (input name and value; never a secret) to fill the form again when the
/// post is refused.
pub async fn back_typed(
    session: &AuthSession,
    to: impl AsRef<str>,
    form: FormId,
    result: Result<String, AppError>,
    typed: Vec<(String, String)>,
) -> Result<Redirect, AppError> {
    let flash = match result {
        Ok(message) => Flash::done(form, message),
        Err(AppError::Rule { field, message }) => Flash::refused(form, message, Some(field)),
        Err(e) if for_the_form(&e) => Flash::refused(form, e.to_string(), None),
        Err(e) => return Err(e),
    };
    let flash = if flash.ok { flash } else { Flash { typed, ..flash } };
    session.put_flash(flash).await?;
    Ok(Redirect::to(&format!("{}#{}", to.as_ref(), super::flash::OUTCOME)))
}
