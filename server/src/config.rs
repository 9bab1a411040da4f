//! Settings: environment variables (plus `.env` in development), loaded once, failing fast (STYLE L9).
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use secrecy::SecretString;
use url::Url;

/// Everything the portal needs to run, read once at start-up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the data lives.
    pub database: DatabaseSettings,
    /// Sign-in; `None` when no provider is configured (the CLI does not need one).
    pub oidc: Option<OidcSettings>,
    /// Cookies.
    pub session: SessionSettings,
    /// The address users reach the portal at, e.g. `https://billing.example.com`.
    pub public_url: Url,
}

/// `DATABASE_URL`, or the portal's own cluster under `STACKBILL_DATA_DIR`.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// An external server; when unset the portal runs its own cluster.
    pub url: Option<SecretString>,
    /// Home of the private cluster (`.stackbill` by default).
    pub data_dir: PathBuf,
}

/// The OpenID Connect provider and which claims carry the partner and the role (PRODUCT §1).
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The issuer, whose `/.well-known/openid-configuration` is read.
    pub issuer: Url,
    /// This portal's client ID at the provider.
    pub client_id: String,
    /// This portal's client secret.
    pub client_secret: SecretString,
    /// The claim holding the partner organisation's directory tenant (default `tid`).
    pub partner_claim: String,
    /// The claim holding the app roles (default `roles`).
    pub roles_claim: String,
    /// Scopes asked for (default `openid profile email`).
    pub scopes: Vec<String>,
}

/// Session cookie settings.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// Send the cookie over https only (default: when `STACKBILL_PUBLIC_URL` is https).
    pub cookie_secure: bool,
    /// Sign out after this many minutes without a request.
    pub idle_minutes: i64,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Reads the environment (after `.env`, if present). A malformed value fails with its variable's name.
    pub fn load() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        let public_url = var("STACKBILL_PUBLIC_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let public_url = Url::parse(&public_url).context("STACKBILL_PUBLIC_URL is not a URL")?;
        let cookie_secure = match var("SESSION_COOKIE_SECURE") {
            Some(v) => parse_bool(&v).context("SESSION_COOKIE_SECURE must be true or false")?,
            None => public_url.scheme() == "https",
        };
        let idle_minutes = match var("SESSION_IDLE_MINUTES") {
            Some(v) => v.parse().context("SESSION_IDLE_MINUTES must be a whole number of minutes")?,
            None => 480,
        };
        Ok(Self {
            database: DatabaseSettings {
                url: var("DATABASE_URL").map(SecretString::from),
                data_dir: var("STACKBILL_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| ".stackbill".into()),
            },
            oidc: OidcSettings::load()?,
            session: SessionSettings { cookie_secure, idle_minutes },
            public_url,
        })
    }

    /// The sign-in settings, or an error naming the variables `serve` needs.
    pub fn require_oidc(&self) -> anyhow::Result<&OidcSettings> {
        self.oidc.as_ref().ok_or_else(|| {
            anyhow!("OIDC_ISSUER_URL is not set: `stackbill serve` needs OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
        })
    }
}

impl OidcSettings {
    fn load() -> anyhow::Result<Option<Self>> {
        let Some(issuer) = var("OIDC_ISSUER_URL") else {
            return Ok(None);
        };
        let issuer = Url::parse(&issuer).context("OIDC_ISSUER_URL is not a URL")?;
        let client_id = var("OIDC_CLIENT_ID").ok_or_else(|| anyhow!("OIDC_CLIENT_ID is not set"))?;
        let client_secret = var("OIDC_CLIENT_SECRET").ok_or_else(|| anyhow!("OIDC_CLIENT_SECRET is not set"))?;
        let scopes = var("OIDC_SCOPES").unwrap_or_else(|| "openid profile email".into());
        Ok(Some(Self {
            issuer,
            client_id,
            client_secret: SecretString::from(client_secret),
            partner_claim: var("OIDC_PARTNER_CLAIM").unwrap_or_else(|| "tid".into()),
            roles_claim: var("OIDC_ROLES_CLAIM").unwrap_or_else(|| "roles".into()),
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        }))
    }
}

fn parse_bool(v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(anyhow!("not a boolean: {v}")),
    }
}
