//! `POST /stacks/{cloud_id}/usage/upload` (multipart, fields in [`UPLOAD_FIELDS`]): the caller and the stack are
//! checked first, the files are spooled to disk as they arrive (no connection or transaction held meanwhile), then
//! each is stored whole or refused whole in its own transaction (`crate::usage_files`); the stack page lists each
//! file's outcome.
use axum::extract::{Multipart, Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tokio::io::AsyncWriteExt;

use app::audit::Actor;
use app::registrations::db::StackRef;
use app::stacks::writes::{back_to_stack, StackChange};
use app::usage::forms::{PROGRESS_HEADER, THEN_HEADER, UPLOAD_FIELDS};
use app::usage::parse::whole_hour;
use app::web::caller::{Caller, Writer};
use app::web::form::datetime_local;
use app::web::FormId;
use app::AppError;

use crate::state::AppState;
use crate::usage_files::{upload_file, Spool, Target};

/// The files of an upload post, spooled to temporary files, and the reported hour they were sent with.
struct Spooled {
    files: Vec<(String, Spool)>,
    reported: Option<time::OffsetDateTime>,
}

/// Receives every file of the post into a temporary file as it arrives (never held in memory), before any database
/// connection or transaction is taken: a slow sender holds nothing but its own request.
async fn spool(form: &mut Multipart) -> Result<Spooled, AppError> {
    let mut spooled = Spooled { files: Vec::new(), reported: None };
    let broke_off = |e: &dyn std::fmt::Display| AppError::Validation(format!("the upload broke off: {e}"));
    while let Some(mut field) = form.next_field().await.map_err(|e| broke_off(&e))? {
        if field.name() == Some(UPLOAD_FIELDS.reported_hour) {
            let text = field.text().await.unwrap_or_default();
            spooled.reported =
                datetime_local("reported hour", &text)?.map(|t| whole_hour("reported hour", t)).transpose()?;
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_string();
        if field.name() != Some(UPLOAD_FIELDS.files) || name.is_empty() {
            continue;
        }
        let spool = Spool::new();
        let mut out = tokio::fs::File::create(spool.path()).await.map_err(|e| broke_off(&e))?;
        while let Some(bytes) = field.chunk().await.map_err(|e| broke_off(&format!("{name}: {e}")))? {
            out.write_all(&bytes).await.map_err(|e| broke_off(&e))?;
        }
        out.flush().await.map_err(|e| broke_off(&e))?;
        spooled.files.push((name, spool));
    }
    if spooled.files.is_empty() {
        return Err(AppError::Validation("Choose at least one file.".into()));
    }
    Ok(spooled)
}

/// Stores each spooled file on its own; the outcome of every file, and whether all were stored.
async fn store(state: &AppState, stack: &StackRef, actor: &Actor, spooled: &Spooled) -> Result<String, AppError> {
    let (mut lines, mut all_ok) = (Vec::new(), true);
    for (name, spool) in &spooled.files {
        let target = Target { stack, reported: spooled.reported };
        match upload_file(&state.pool, actor, target, spool.path(), name, |_| {}).await {
            Ok(outcome) => {
                all_ok &= outcome.errors.is_empty();
                lines.push(outcome.describe(name));
            }
            Err(e) => {
                all_ok = false;
                lines.push(e.to_string());
            }
        }
    }
    let message = lines.join("\n");
    if all_ok {
        Ok(message)
    } else {
        Err(AppError::Validation(message))
    }
}

/// The upload handler (see the module's documentation).
pub async fn upload(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(cloud_id): Path<String>,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, AppError> {
    let back = receive(state, caller, cloud_id, form).await?.into_response();
    // Sent by the page's script (to show progress): where to go, rather than a redirect the script would follow.
    match (headers.contains_key(PROGRESS_HEADER), back.headers().get(LOCATION)) {
        (true, Some(then)) => Ok((StatusCode::OK, [(THEN_HEADER, then.clone())]).into_response()),
        _ => Ok(back),
    }
}

/// Receives and stores the files, and goes back to the stack page with their outcome.
async fn receive(state: AppState, caller: Caller, cloud_id: String, mut form: Multipart) -> Result<Redirect, AppError> {
    // The stack first (nothing is received for a stack the caller may not change); its transaction is dropped at
    // once, so none is open while the files arrive.
    let StackChange { mut tx, actor, stack, session, .. } = StackChange::begin(caller, &state.pool, &cloud_id).await?;
    let archived = app::stacks::db::refuse_if_archived(&mut tx, stack.stack_id, &stack.name).await;
    drop(tx);
    if let Err(e) = archived {
        return back_to_stack(&session, &stack, FormId::Usage, Err(e)).await;
    }
    let result = async {
        // A bounded number of uploads is received at once, so their spool files cannot fill the disk.
        let Ok(_receiving) = state.spooling.0.clone().try_acquire_owned() else {
            return Err(AppError::Validation(
                "Other uploads are being received; send the files again in a minute.".into(),
            ));
        };
        let spooled = spool(&mut form).await?;
        // Waits for a slot of the heavy work (shared with ingest and exports), so page views keep their connections.
        let _slot = state.heavy.clone().acquire_owned().await.map_err(|_| AppError::Internal)?;
        store(&state, &stack, &actor, &spooled).await
    }
    .await;
    back_to_stack(&session, &stack, FormId::Usage, result).await
}
