//! OpenID Connect sign-in: authorization code + PKCE, `state` and `nonce` checked, ID token verified against the
//! provider's JWKS (signature, issuer, audience, expiry). Plain axum routes, because they are top-level browser
//! redirects (STYLE L8).
use std::collections::HashMap;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    reqwest, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use url::Url;

use crate::config::OidcSettings;

/// Claims beyond the standard ones (`tid`, `roles`, …), whatever the provider sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    /// Every non-standard claim by name.
    #[serde(flatten)]
    pub extra: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

type TokenFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;
/// The oauth2 5 typestate client after discovery, behind one alias (STYLE P9).
pub type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in failed; every message is safe to show.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The provider could not be reached or its discovery document is unusable.
    #[error("The identity provider is not reachable right now. Please try again in a minute.")]
    ProviderUnavailable,
    /// No sign-in was started in this browser session (cookie missing, expired, or a replayed callback).
    #[error(
        "No sign-in is in progress in this browser (the sign-in cookie is missing or expired). Please start again."
    )]
    NoFlow,
    /// The `state` parameter is not the one this browser was given.
    #[error("The sign-in response does not belong to this browser (state mismatch). Please start again.")]
    StateMismatch,
    /// The provider refused or the user cancelled.
    #[error("The identity provider refused the sign-in: {0}")]
    Provider(String),
    /// Code exchange or ID-token verification failed.
    #[error("The identity provider's answer could not be verified. Please start again.")]
    Verification,
}

/// The sign-in flow's secrets, kept in the session between the redirect and the callback.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingFlow {
    /// `state`, compared with the callback's.
    pub state: String,
    /// `nonce`, compared with the ID token's.
    pub nonce: String,
    /// PKCE verifier for the code exchange.
    pub verifier: String,
    /// Where to go after signing in (a same-origin path).
    pub next: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`.
    pub email: Option<String>,
    /// `name`, else `preferred_username`.
    pub name: Option<String>,
    /// Every other claim.
    pub extra: HashMap<String, serde_json::Value>,
}

/// The OpenID Connect client, discovered on first use so the portal starts even while the provider is down.
pub struct Oidc {
    settings: OidcSettings,
    redirect: RedirectUrl,
    http: reqwest::Client,
    client: OnceCell<OidcClient>,
}

impl Oidc {
    /// A client for the configured provider, redirecting back to `{public_url}/auth/callback`.
    pub fn new(settings: OidcSettings, public_url: &Url) -> anyhow::Result<Self> {
        let redirect = RedirectUrl::new(public_url.join("/auth/callback")?.to_string())?;
        // Never follow redirects from the token endpoint (SSRF, STYLE P9).
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self { settings, redirect, http, client: OnceCell::new() })
    }

    /// The configured settings (claim names).
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    async fn client(&self) -> Result<&OidcClient, SignInError> {
        self.client
            .get_or_try_init(|| async {
                // Issuer comparison is exact: keep the configured string as written, without a trailing slash.
                let issuer = self.settings.issuer.as_str().trim_end_matches('/').to_string();
                let issuer = IssuerUrl::new(issuer).map_err(|e| {
                    tracing::error!(error = %e, "OIDC_ISSUER_URL is not a valid issuer");
                    SignInError::ProviderUnavailable
                })?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
                    tracing::error!(error = ?e, "OpenID Connect discovery failed");
                    SignInError::ProviderUnavailable
                })?;
                Ok(OidcClient::from_provider_metadata(
                    metadata,
                    ClientId::new(self.settings.client_id.clone()),
                    Some(ClientSecret::new(self.settings.client_secret.expose_secret().to_string())),
                )
                .set_redirect_uri(self.redirect.clone()))
            })
            .await
    }

    /// Starts a sign-in: the provider URL to redirect to, and the secrets to keep in the session.
    pub async fn start(&self, next: String) -> Result<(Url, PendingFlow), SignInError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in self.settings.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let flow = PendingFlow {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next,
        };
        Ok((url, flow))
    }

    /// Completes a sign-in: checks `state`, exchanges the code with the PKCE verifier, verifies the ID token
    /// (signature by JWKS, issuer, audience, expiry, nonce).
    pub async fn finish(&self, flow: &PendingFlow, state: &str, code: &str) -> Result<VerifiedIdentity, SignInError> {
        if !app::domain::constant_time_eq(flow.state.as_bytes(), state.as_bytes()) {
            return Err(SignInError::StateMismatch);
        }
        let client = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| {
                tracing::error!(error = ?e, "provider has no token endpoint");
                SignInError::ProviderUnavailable
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = ?e, "code exchange failed");
                SignInError::Verification
            })?;
        let id_token = tokens.id_token().ok_or(SignInError::Verification)?;
        let claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim> =
            id_token.claims(&client.id_token_verifier(), &Nonce::new(flow.nonce.clone())).map_err(|e| {
                tracing::warn!(error = ?e, "ID token refused");
                SignInError::Verification
            })?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| claims.preferred_username().map(|u| u.to_string()));
        Ok(VerifiedIdentity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            name,
            extra: claims.additional_claims().extra.clone(),
        })
    }
}

/// Only same-origin paths are allowed as the post-sign-in destination (no open redirect): a path starting with one
/// `/`, without backslashes, control characters or white space (browsers drop tabs and newlines from URLs, so
/// `/<tab>/evil.example` would become `//evil.example`), that stays on the origin when resolved.
pub fn safe_next(next: Option<&str>) -> String {
    let base = Url::parse("https://stackbill.invalid/").expect("a valid URL");
    let same_origin = |n: &str| base.join(n).is_ok_and(|u| u.origin() == base.origin());
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && same_origin(n) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/stacks?x=1")), "/stacks?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
