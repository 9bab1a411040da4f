//! The operator page's form posts: directory import (file upload), status changes, partners.
use axum::extract::{Form, Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use app::audit::Actor;
use app::auth::session::AuthSession;
use app::auth::Scope;
use app::domain::SubscriptionStatus;
use app::partners::NewPartner;
use app::stacks::detail::Flash;
use app::AppError;

use crate::forms::{error_page, signed_in};
use crate::state::AppState;

/// The signed-in operator, or the error response.
pub(crate) async fn operator(state: &AppState, session: &AuthSession) -> Result<Actor, Response> {
    let user = signed_in(state, session).await?;
    match user.scope() {
        Ok(Scope::All) => Ok(Actor::user(user.user_id, user.display_name)),
        _ => Err(error_page(&AppError::Forbidden)),
    }
}

pub(crate) async fn back(session: &AuthSession, ok: bool, message: String) -> Response {
    if let Err(e) = session.put("flash", Flash { ok, form: "operator".into(), message, field: None }).await {
        return error_page(&e);
    }
    Redirect::to("/operator").into_response()
}

/// `POST /operator/directory/import` (multipart, field `file`): all rows or none.
pub async fn import_directory(State(state): State<AppState>, session: Session, mut form: Multipart) -> Response {
    let session = AuthSession(session);
    let actor = match operator(&state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let mut text = String::new();
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            match field.text().await {
                Ok(t) => text = t,
                Err(_) => return back(&session, false, "The file could not be read as UTF-8 text.".into()).await,
            }
        }
    }
    let refused = |errors: Vec<app::directory::import::RowError>| {
        let lines: Vec<String> = errors.iter().take(100).map(|e| e.to_string()).collect();
        format!("Import refused; nothing was stored:\n{}", lines.join("\n"))
    };
    let rows = match app::directory::import::parse(&text) {
        Ok(rows) => rows,
        Err(e) => return back(&session, false, refused(e)).await,
    };
    let result = async {
        let mut tx = state.pool.begin().await.map_err(|e| {
            vec![app::directory::import::RowError {
                line: 0,
                column: "file".into(),
                message: AppError::from(e).to_string(),
            }]
        })?;
        let summary = app::directory::db::import(&mut tx, &actor, &rows).await?;
        tx.commit().await.map_err(|e| {
            vec![app::directory::import::RowError {
                line: 0,
                column: "file".into(),
                message: AppError::from(e).to_string(),
            }]
        })?;
        Ok::<_, Vec<app::directory::import::RowError>>(summary)
    }
    .await;
    match result {
        Ok(s) => {
            back(
                &session,
                true,
                format!("Directory imported: {} added, {} updated, {} unchanged.", s.added, s.updated, s.unchanged),
            )
            .await
        }
        Err(e) => back(&session, false, refused(e)).await,
    }
}

/// Fields of a directory row's status form.
#[derive(Deserialize)]
pub struct StatusForm {
    subscription_id: String,
    status: String,
}

/// `POST /operator/directory/status`
pub async fn set_status(State(state): State<AppState>, session: Session, Form(f): Form<StatusForm>) -> Response {
    let session = AuthSession(session);
    let actor = match operator(&state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let result = async {
        let id = uuid::Uuid::parse_str(f.subscription_id.trim()).map_err(|_| AppError::NotFound)?;
        let status = SubscriptionStatus::parse(&f.status)?;
        let mut tx = state.pool.begin().await?;
        app::directory::db::set_status(&mut tx, &actor, id, status).await?;
        tx.commit().await?;
        Ok::<_, AppError>(format!("Subscription {id} is now {}.", status.as_str()))
    }
    .await;
    match result {
        Ok(m) => back(&session, true, m).await,
        Err(e) => back(&session, false, e.to_string()).await,
    }
}

/// Fields of the "add a partner" form.
#[derive(Deserialize)]
pub struct PartnerForm {
    name: String,
    partner_id: String,
    mpn_id: String,
    tenant: String,
    #[serde(default)]
    currency: String,
}

/// `POST /operator/partners`
pub async fn add_partner(State(state): State<AppState>, session: Session, Form(f): Form<PartnerForm>) -> Response {
    let session = AuthSession(session);
    let actor = match operator(&state, &session).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let currency = if f.currency.trim().is_empty() { "USD" } else { f.currency.as_str() };
    let result = async {
        let new = NewPartner::parse(&f.name, &f.partner_id, &f.mpn_id, &f.tenant, currency)?;
        let mut tx = state.pool.begin().await?;
        let p = app::partners::db::add_partner(&mut tx, &actor, &new).await?;
        tx.commit().await?;
        Ok::<_, AppError>(format!("Partner {} added.", p.name))
    }
    .await;
    match result {
        Ok(m) => back(&session, true, m).await,
        Err(e) => back(&session, false, e.to_string()).await,
    }
}
