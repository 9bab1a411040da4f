//! The stack page's usage-side form posts: ingestion keys (create, revoke) and the collector settings. Same shape as
//! `forms`: check the caller, one transaction, a flash, 303 back to the stack.
use axum::extract::{Form, Path, State};
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use app::collector::db::{save_collector, CollectorForm};
use app::keys::db::{create_key, revoke_key};
use app::usage::parse::whole_hour;
use app::AppError;

use crate::forms::{error_page, finish, report, start};
use crate::state::AppState;

/// The largest upload (all files of one post together).
pub const MAX_UPLOAD: usize = 1024 * 1024 * 1024;

/// Fields of the create-key form.
#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
}

/// `POST /stacks/{cloud_id}/keys`: the secret goes to the session once, for the page to show once.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<NewKeyForm>,
) -> Response {
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = match create_key(&mut c.tx, &c.actor, &c.stack, &f.name).await {
        // Sealed: the session table never holds the key in clear text (it is shown once, then taken out).
        Ok(key) => c.session.put("new_key", state.settings.secret_key.seal(&key)).await,
        Err(e) => Err(e),
    };
    finish(c, result, "keys", &format!("Key “{}” created.", f.name.trim())).await
}

/// Fields of the revoke form.
#[derive(Deserialize)]
pub struct RevokeForm {
    key_id: String,
}

/// `POST /stacks/{cloud_id}/keys/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<RevokeForm>,
) -> Response {
    let Ok(key_id) = Uuid::parse_str(f.key_id.trim()) else {
        return error_page(&AppError::NotFound);
    };
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = revoke_key(&mut c.tx, &c.actor, &c.stack, key_id).await;
    finish(c, result, "keys", "Key revoked: requests with it are refused from now on.").await
}

/// `POST /stacks/{cloud_id}/collector`
pub async fn collector(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    Form(f): Form<CollectorForm>,
) -> Response {
    let mut c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result =
        save_collector(&mut c.tx, &c.actor, &c.stack, &f, &state.settings.outbound, &state.settings.secret_key).await;
    let ok = if f.enabled.is_some() {
        "Collector saved; it runs within a minute, then hourly."
    } else {
        "Collector saved (off)."
    };
    finish(c, result, "collector", ok).await
}

/// The files of an upload post, spooled to temporary files, and the reported hour they were sent with.
struct Spooled {
    files: Vec<(String, crate::upload::Spool)>,
    reported: Option<time::OffsetDateTime>,
}

/// Receives every file of the post into a temporary file as it arrives (never held in memory), before any database
/// connection or transaction is taken: a slow sender holds nothing but its own request.
async fn spool(form: &mut axum::extract::Multipart) -> Result<Spooled, AppError> {
    use tokio::io::AsyncWriteExt;
    let mut spooled = Spooled { files: Vec::new(), reported: None };
    let broke_off = |e: &dyn std::fmt::Display| AppError::Validation(format!("the upload broke off: {e}"));
    while let Some(mut field) = form.next_field().await.map_err(|e| broke_off(&e))? {
        if field.name() == Some("reported_hour") {
            // Sent before the files (it stands before them in the form).
            let text = field.text().await.unwrap_or_default();
            spooled.reported = crate::forms::effective(&text)?.map(|t| whole_hour("reported hour", t)).transpose()?;
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_string();
        if field.name() != Some("files") || name.is_empty() {
            continue;
        }
        let spool = crate::upload::Spool::new();
        let mut out = tokio::fs::File::create(spool.path()).await.map_err(|e| broke_off(&e))?;
        while let Some(bytes) = field.chunk().await.map_err(|e| broke_off(&format!("{name}: {e}")))? {
            out.write_all(&bytes).await.map_err(|e| broke_off(&e))?;
        }
        out.flush().await.map_err(|e| broke_off(&e))?;
        spooled.files.push((name, spool));
    }
    Ok(spooled)
}

/// `POST /stacks/{cloud_id}/usage/upload` (multipart, fields `files`): the caller is checked, the files are spooled
/// (see [`spool`]), then each is stored whole or refused whole in its own transaction; the page lists each file's
/// outcome.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Response {
    // The caller and the stack first (nothing is received for a stack the caller may not change), then the files,
    // with no transaction open while they arrive.
    let c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let crate::forms::Change { tx, actor, stack, session } = c;
    drop(tx);
    // A bounded number of uploads is received at once, so their spool files cannot fill the disk.
    let Ok(_receiving) = state.spooling.0.clone().try_acquire_owned() else {
        let busy = AppError::Validation("Other uploads are being received; send the files again in a minute.".into());
        return report(&session, &stack, Err(busy), "usage", "").await;
    };
    let spooled = spool(&mut form).await;
    let spooled = match spooled {
        Ok(s) if s.files.is_empty() => Err(AppError::Validation("Choose at least one file.".into())),
        other => other,
    };
    let spooled = match spooled {
        Ok(s) => s,
        Err(e) => return report(&session, &stack, Err(e), "usage", "").await,
    };
    // Waits for a slot of the heavy work (shared with ingest and exports), so page views keep their connections.
    let Ok(_slot) = state.heavy.clone().acquire_owned().await else {
        return error_page(&AppError::Internal);
    };
    let mut lines = Vec::new();
    let mut all_ok = true;
    for (name, spool) in &spooled.files {
        let target = crate::upload::Target { stack: &stack, reported: spooled.reported };
        match crate::upload::upload_file(&state.pool, &actor, target, spool.path(), name, |_| {}).await {
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
    let result = if all_ok { Ok(()) } else { Err(AppError::Validation(message.clone())) };
    report(&session, &stack, result, "usage", &message).await
}
