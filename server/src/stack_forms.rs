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

use crate::forms::{error_page, finish, start};
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

/// `POST /stacks/{cloud_id}/usage/upload` (multipart, fields `files`): each file is spooled to a temporary file as
/// it arrives (never held in memory), then stored whole or refused whole; the page lists each file's outcome.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(cloud_id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Response {
    let c = match start(&state, session, &cloud_id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut lines = Vec::new();
    let mut all_ok = true;
    let mut reported = None;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return finish(c, Err(AppError::Validation(format!("the upload broke off: {e}"))), "usage", "").await
            }
        };
        if field.name() == Some("reported_hour") {
            // Sent before the files (it stands before them in the form).
            let text = field.text().await.unwrap_or_default();
            match crate::forms::effective(&text).and_then(|t| t.map(|t| whole_hour("reported hour", t)).transpose()) {
                Ok(t) => reported = t,
                Err(e) => return finish(c, Err(e), "usage", "").await,
            }
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_string();
        if field.name() != Some("files") || name.is_empty() {
            continue;
        }
        let spool = crate::upload::Spool::new();
        let written = async {
            use tokio::io::AsyncWriteExt;
            let mut out = tokio::fs::File::create(spool.path()).await?;
            while let Some(bytes) = field.chunk().await.map_err(std::io::Error::other)? {
                out.write_all(&bytes).await?;
            }
            out.flush().await
        }
        .await;
        if let Err(e) = written {
            return finish(c, Err(AppError::Validation(format!("{name}: the upload broke off: {e}"))), "usage", "")
                .await;
        }
        let target = crate::upload::Target { stack: &c.stack, reported };
        match crate::upload::upload_file(&state.pool, &c.actor, target, spool.path(), &name, |_| {}).await {
            Ok(outcome) => {
                all_ok &= outcome.errors.is_empty();
                lines.push(outcome.describe(&name));
            }
            Err(e) => {
                all_ok = false;
                lines.push(e.to_string());
            }
        }
    }
    if lines.is_empty() {
        return finish(c, Err(AppError::Validation("Choose at least one file.".into())), "usage", "").await;
    }
    let message = lines.join("\n");
    if all_ok {
        finish(c, Ok(()), "usage", &message).await
    } else {
        finish(c, Err(AppError::Validation(message)), "usage", "").await
    }
}
