//! The sign-in, callback and sign-out routes.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use app::auth::db::{upsert_user, SignIn};
use app::auth::session::AuthSession;
use app::domain::Role;

use crate::oidc::{safe_next, PendingFlow, SignInError, VerifiedIdentity};
use crate::state::AppState;

const FLOW_KEY: &str = "oidc_flow";

/// `?next=/path` on `/auth/login`.
#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// What the provider sends back to `/auth/callback`.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Starts a sign-in: remembers state, nonce and PKCE verifier in the session and redirects to the provider.
pub async fn login(State(state): State<AppState>, session: Session, Query(q): Query<LoginQuery>) -> Response {
    let result = async {
        let (url, flow) = state.oidc.start(safe_next(q.next.as_deref())).await?;
        AuthSession(session).begin_sign_in(FLOW_KEY, flow).await.map_err(|_| SignInError::ProviderUnavailable)?;
        Ok::<_, SignInError>(Redirect::to(url.as_str()).into_response())
    };
    result.await.unwrap_or_else(|e| failure_page(&state.leptos_options, e))
}

/// Completes a sign-in. The pending flow is taken out of the session first, so a callback can be used once.
pub async fn callback(State(state): State<AppState>, session: Session, Query(q): Query<CallbackQuery>) -> Response {
    let auth = AuthSession(session);
    let result = async {
        let flow: PendingFlow = auth.take(FLOW_KEY).await.ok().flatten().ok_or(SignInError::NoFlow)?;
        if let Some(error) = q.error {
            return Err(SignInError::Provider(q.error_description.unwrap_or(error)));
        }
        let (Some(code), Some(returned_state)) = (q.code, q.state) else {
            return Err(SignInError::Verification);
        };
        let identity = state.oidc.finish(&flow, &returned_state, &code).await?;
        let sign_in = to_sign_in(&identity, state.oidc.settings());
        let (user_id, role) = upsert_user(&state.pool, &sign_in).await.map_err(|_| SignInError::Verification)?;
        let limits = &state.settings.session;
        let (idle, lifetime) = (time::Duration::minutes(limits.idle_minutes), time::Duration::hours(limits.max_hours));
        auth.log_in(user_id, idle, lifetime).await.map_err(|_| SignInError::Verification)?;
        tracing::info!(%user_id, role = role.as_db(), "signed in");
        let target = if role == Role::NoAccess { "/no-access".to_string() } else { flow.next };
        Ok(Redirect::to(&target).into_response())
    };
    result.await.unwrap_or_else(|e| failure_page(&state.leptos_options, e))
}

/// Ends the session (POST only, behind the cross-site check) and returns to the home page.
pub async fn logout(session: Session) -> Response {
    match AuthSession(session).log_out().await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn to_sign_in(identity: &VerifiedIdentity, settings: &crate::config::OidcSettings) -> SignIn {
    let partner_tenant = identity
        .extra
        .get(&settings.partner_claim)
        .and_then(|v| v.as_str())
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    // Entra ID sends `roles` as an array; some providers send one string.
    let roles = match identity.extra.get(&settings.roles_claim) {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(s)) => {
            s.split([' ', ',']).filter(|r| !r.is_empty()).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    };
    SignIn {
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        email: identity.email.clone(),
        display_name: identity.name.clone(),
        partner_tenant,
        roles,
    }
}

fn failure_page(options: &leptos::config::LeptosOptions, e: SignInError) -> Response {
    let status = match e {
        SignInError::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · Stackbill</title>\
         <link rel=\"stylesheet\" href=\"{}\"></head><body><main class=\"content\">\
         <h1>Sign-in failed</h1><p role=\"alert\">{}</p><p><a class=\"button\" href=\"/auth/login\">Sign in again</a></p>\
         </main></body></html>",
        app::shell::stylesheet_href(options),
        app::domain::text::html_escape(&e.to_string())
    );
    (status, Html(body)).into_response()
}
