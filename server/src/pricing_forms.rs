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

/// Reads the uploaded file with `parse`, stores it with `store` in one transaction, and says what happened.
async fn import<T, S: std::fmt::Display>(
    state: &AppState,
    session: Session,
    mut form: Multipart,
    what: &str,
    parse: fn(&str) -> Result<T, Vec<RowError>>,
    store: impl AsyncFnOnce(&mut sqlx::PgConnection, &app::audit::Actor, &T) -> Result<S, app::AppError>,
) -> Response {
    let session = AuthSession(session);
    let actor = match operator(state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let text = match file_text(&mut form).await {
        Ok(t) => t,
        Err(m) => return back(&session, false, m).await,
    };
    let parsed = match parse(&text) {
        Ok(p) => p,
        Err(e) => return back(&session, false, refused(what, &e)).await,
    };
    let result = async {
        let mut tx = state.pool.begin().await?;
        let s = store(&mut tx, &actor, &parsed).await?;
        tx.commit().await?;
        Ok::<_, app::AppError>(s)
    }
    .await;
    match result {
        Ok(s) => {
            let text = format!("{what} imported: {s}. Stacks are re-rated in the background; bills say so until done.");
            back(&session, true, text).await
        }
        Err(e) => back(&session, false, e.to_string()).await,
    }
}

/// `POST /operator/prices/import`
pub async fn import_prices(State(state): State<AppState>, session: Session, form: Multipart) -> Response {
    import(&state, session, form, "Price list", import::parse_prices, async |c, a, f| db::import_prices(c, a, f).await)
        .await
}

/// `POST /operator/meters/import`
pub async fn import_meter_map(State(state): State<AppState>, session: Session, form: Multipart) -> Response {
    import(&state, session, form, "Meter map", import::parse_meter_map, async |c, a, rows| {
        db::import_meter_map(c, a, rows).await
    })
    .await
}
