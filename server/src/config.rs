//! Settings: environment variables (plus `.env` in development), loaded once, failing fast (STYLE L9).
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use secrecy::SecretString;
use url::Url;

use app::domain::outbound::Outbound;
use app::domain::secrets::SecretKey;

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
    /// Seals collector credentials and new ingestion keys (`STACKBILL_SECRET_KEY`, or the data directory's key file).
    pub secret_key: SecretKey,
    /// Where the collector may connect (`STACKBILL_OUTBOUND_ALLOW_HTTP`, `STACKBILL_OUTBOUND_ALLOW_NETWORKS`).
    pub outbound: Outbound,
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
    /// Sign out this many hours after signing in, however active (`SESSION_MAX_HOURS`, default 12).
    pub max_hours: i64,
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
        let idle_minutes = number("SESSION_IDLE_MINUTES", 480, "a whole number of minutes")?;
        let max_hours = number("SESSION_MAX_HOURS", 12, "a whole number of hours")?;
        let database = DatabaseSettings {
            url: var("DATABASE_URL").map(SecretString::from),
            data_dir: var("STACKBILL_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| ".stackbill".into()),
        };
        let allow_http = match var("STACKBILL_OUTBOUND_ALLOW_HTTP") {
            Some(v) => parse_bool(&v).context("STACKBILL_OUTBOUND_ALLOW_HTTP must be true or false")?,
            None => false,
        };
        let networks = var("STACKBILL_OUTBOUND_ALLOW_NETWORKS").unwrap_or_default();
        let outbound = Outbound::from_settings(allow_http, &networks)
            .map_err(|e| anyhow!("STACKBILL_OUTBOUND_ALLOW_NETWORKS: {e}"))?;
        Ok(Self {
            secret_key: secret_key(&database)?,
            database,
            oidc: OidcSettings::load()?,
            session: SessionSettings { cookie_secure, idle_minutes, max_hours },
            public_url,
            outbound,
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

fn number(name: &str, default: i64, what: &str) -> anyhow::Result<i64> {
    match var(name) {
        Some(v) => v.trim().parse().ok().filter(|n: &i64| *n > 0).ok_or_else(|| anyhow!("{name} must be {what}")),
        None => Ok(default),
    }
}

/// `STACKBILL_SECRET_KEY`; without it, the key file in the data directory, made on first use (the private
/// development setup). Several servers sharing one database must share the key: set the variable there.
fn secret_key(database: &DatabaseSettings) -> anyhow::Result<SecretKey> {
    if let Some(text) = var("STACKBILL_SECRET_KEY") {
        return SecretKey::from_base64(&text).map_err(|e| anyhow!("STACKBILL_SECRET_KEY {e}"));
    }
    let path = database.data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return SecretKey::from_base64(&text).map_err(|e| anyhow!("{}: the key {e}", path.display()));
    }
    if database.url.is_some() {
        tracing::warn!(path = %path.display(), "STACKBILL_SECRET_KEY is unset; using a key file made for this server");
    }
    let key = SecretKey::generate();
    std::fs::create_dir_all(&database.data_dir)
        .with_context(|| format!("cannot create {} for the secret key", database.data_dir.display()))?;
    write_private(&path, &key.to_base64()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key)
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

fn parse_bool(v: &str) -> anyhow::Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(anyhow!("not a boolean: {v}")),
    }
}
