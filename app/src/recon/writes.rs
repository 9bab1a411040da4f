//! A partner admin's import of Microsoft's reconciliation file: all lines or none, then the reconciliation page
//! opens on the month imported.
use axum::extract::{DefaultBodyLimit, FromRef, Multipart, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use sqlx::PgPool;

use super::forms::{IMPORT_RECON, MAX_RECON_FILE, RECON_PAGE};
use crate::web::caller::Writer;
use crate::web::import::import_file;
use crate::web::FormId;
use crate::AppError;

/// The reconciliation routes, for the server's router.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route(IMPORT_RECON.pattern(), post(import).layer(DefaultBodyLimit::max(MAX_RECON_FILE)))
}

/// `POST /reconciliation/import`
async fn import(State(pool): State<PgPool>, Writer(caller): Writer, form: Multipart) -> Result<Redirect, AppError> {
    let partner = caller.partner_writer()?;
    let to = (RECON_PAGE.pattern(), FormId::Reconciliation);
    import_file(
        &pool,
        &caller,
        form,
        ("Reconciliation file", to),
        super::parse::parse_recon,
        async |tx, actor, name, file| {
            let name = if name.is_empty() { "reconciliation.csv" } else { name };
            let summary = super::db::import(tx, actor, partner, name, file).await?;
            let mut message = summary.to_string();
            if let Some(first) = message.get(..1) {
                message.replace_range(..1, &first.to_uppercase());
            }
            Ok(message + ".")
        },
    )
    .await
}
