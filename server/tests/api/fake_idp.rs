//! A stand-in OpenID Connect provider: discovery, JWKS and a token endpoint that signs whatever ID token the
//! test asks for (so tests can forge a nonce, an audience or an issuer). It checks PKCE like a real provider.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, EndUserName, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey, StandardClaims,
    SubjectIdentifier,
};
use server::oidc::ExtraClaims;
use sha2::{Digest, Sha256};

const KEY_PEM: &str = include_str!("test_signing_key.pem");
pub const CLIENT_ID: &str = "stackbill-test";
pub const CLIENT_SECRET: &str = "test-secret";

/// What the next token response carries.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    pub subject: String,
    pub name: String,
    pub tid: Option<String>,
    pub roles: Vec<String>,
    pub nonce: String,
    pub audience: String,
    /// The PKCE challenge from the authorize request; the token request's verifier must hash to it.
    pub code_challenge: String,
}

#[derive(Clone)]
struct IdpState {
    issuer: String,
    spec: Arc<Mutex<Option<TokenSpec>>>,
}

/// A running fake provider.
#[derive(Clone)]
pub struct FakeIdp {
    pub issuer: String,
    spec: Arc<Mutex<Option<TokenSpec>>>,
}

impl FakeIdp {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let spec = Arc::new(Mutex::new(None));
        let state = IdpState { issuer: issuer.clone(), spec: spec.clone() };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { issuer, spec }
    }

    /// Sets the ID token the next code exchange returns.
    pub fn will_issue(&self, spec: TokenSpec) {
        *self.spec.lock().unwrap() = Some(spec);
    }
}

async fn discovery(State(s): State<IdpState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": format!("{}/token", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

fn key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(KEY_PEM, Some(JsonWebKeyId::new("test-key".into()))).unwrap()
}

async fn jwks() -> Json<serde_json::Value> {
    let set = CoreJsonWebKeySet::new(vec![key().as_verification_key()]);
    Json(serde_json::to_value(set).unwrap())
}

async fn token(State(s): State<IdpState>, Form(form): Form<HashMap<String, String>>) -> impl IntoResponse {
    let Some(spec) = s.spec.lock().unwrap().clone() else {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != spec.code_challenge {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant", "error_description": "PKCE"})),
        )
            .into_response();
    }
    let mut extra = HashMap::new();
    if let Some(tid) = &spec.tid {
        extra.insert("tid".to_string(), serde_json::json!(tid));
    }
    extra.insert("roles".to_string(), serde_json::json!(spec.roles));
    let now = chrono::Utc::now();
    let claims = IdTokenClaims::<ExtraClaims, CoreGenderClaim>::new(
        IssuerUrl::new(s.issuer.clone()).unwrap(),
        vec![Audience::new(spec.audience.clone())],
        now + chrono::Duration::seconds(300),
        now,
        StandardClaims::new(SubjectIdentifier::new(spec.subject.clone()))
            .set_name(Some(EndUserName::new(spec.name.clone()).into())),
        ExtraClaims { extra },
    )
    .set_nonce(Some(Nonce::new(spec.nonce.clone())));
    let id_token =
        IdToken::<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>::new(
            claims,
            &key(),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
        .unwrap();
    Json(serde_json::json!({
        "access_token": "test-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}
