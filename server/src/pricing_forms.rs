//! The operator page's meter map and price list imports (multipart, field `file`): all rows or none, then the open
//! periods are re-rated in the same transaction.
use axum::extract::{Multipart, State};
use axum::response::Response;
use tower_sessions::Session;

use app::auth::session::AuthSession;
use app::directory::import::RowError;
use app::pricing::{db, import};

use crate::operator_forms::{back, operator};
use crate::state::AppState;

async fn file_text(form: &mut Multipart) -> Result<String, String> {
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            return field.text().await.map_err(|_| "The file could not be read as UTF-8 text.".to_string());
        }
    }
    Err("Choose a file.".into())
}

fn refused(what: &str, errors: &[RowError]) -> String {
    let lines: Vec<String> = errors.iter().take(100).map(|e| e.to_string()).collect();
    format!("{what} refused; nothing was stored:\n{}", lines.join("\n"))
}

/// `POST /operator/prices/import`
pub async fn import_prices(State(state): State<AppState>, session: Session, mut form: Multipart) -> Response {
    let session = AuthSession(session);
    let actor = match operator(&state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let text = match file_text(&mut form).await {
        Ok(t) => t,
        Err(m) => return back(&session, false, m).await,
    };
    let file = match import::parse_prices(&text) {
        Ok(f) => f,
        Err(e) => return back(&session, false, refused("Price list", &e)).await,
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        let s = db::import_prices(&mut tx, &actor, &file).await?;
        tx.commit().await?;
        Ok::<_, app::AppError>(s)
    }
    .await;
    match result {
        Ok(s) => back(&session, true, format!("Price list imported: {s}. Open periods re-rated.")).await,
        Err(e) => back(&session, false, e.to_string()).await,
    }
}

/// `POST /operator/meters/import`
pub async fn import_meter_map(State(state): State<AppState>, session: Session, mut form: Multipart) -> Response {
    let session = AuthSession(session);
    let actor = match operator(&state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let text = match file_text(&mut form).await {
        Ok(t) => t,
        Err(m) => return back(&session, false, m).await,
    };
    let rows = match import::parse_meter_map(&text) {
        Ok(r) => r,
        Err(e) => return back(&session, false, refused("Meter map", &e)).await,
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        let s = db::import_meter_map(&mut tx, &actor, &rows).await?;
        tx.commit().await?;
        Ok::<_, app::AppError>(s)
    }
    .await;
    match result {
        Ok(s) => back(&session, true, format!("Meter map imported: {s}. Open periods re-rated.")).await,
        Err(e) => back(&session, false, e.to_string()).await,
    }
}
