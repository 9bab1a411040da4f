//! The provider usage API over HTTP (DOMAIN §1.2–1.6): bearer tokens, retries of busy answers, and paging by either
//! `nextLink` (what Azure's own API returns) or a top-level `continuationToken` (what the Azure Stack docs describe).
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;
use uuid::Uuid;

use super::failure::{no_answer, status_error};
pub use super::failure::{CollectError, MAX_PAGES, MAX_RESPONSE, REQUEST_TIMEOUT};

const USAGE_API_VERSION: &str = "2015-06-01-preview";
const SUBSCRIPTIONS_API_VERSION: &str = "2015-11-01";
const USAGE_API: &str = "usage API";
const SUBSCRIPTIONS_API: &str = "subscriptions API";
const TOKEN_ENDPOINT: &str = "token endpoint";
/// A token is renewed this long before it expires, so it cannot lapse between the check and the request.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// The documented example escapes `+00:00`, so the offset is written out rather than as `Z`.
const REPORTED_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");

/// How the collector signs in to the stack's admin ARM endpoint.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A fixed bearer token (testing, or a token minted elsewhere).
    Bearer(SecretString),
    /// Entra ID / AD FS client-credentials grant: POST token_url with grant_type=client_credentials, client_id,
    /// client_secret, scope.
    ClientCredentials {
        /// The OAuth 2.0 token endpoint.
        token_url: Url,
        /// The service principal's application ID.
        client_id: String,
        /// Its secret.
        client_secret: SecretString,
        /// The admin ARM endpoint's scope, e.g. `https://adminmanagement.local.azurestack.external/.default`.
        scope: String,
    },
}

/// Exponential back-off for busy answers (503, 429) and connection failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub base: Duration,
    /// The longest wait, also for a server's `Retry-After`.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 6, base: Duration::from_secs(2), max: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// The wait before try `failed + 1`.
    fn delay(&self, failed: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or_else(|| self.base.saturating_mul(2u32.saturating_pow(failed.saturating_sub(1))))
            .min(self.max)
    }
}

/// The seconds form only; an HTTP-date falls back to the policy's own back-off.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// Worth another try: the request may never have reached the server, or the answer was cut off.
fn transient(error: &reqwest::Error) -> bool {
    super::outbound::blocked(error).is_none()
        && (error.is_connect() || error.is_timeout() || error.is_request() || error.is_body())
}

struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: String,
}

enum Failed {
    Request(reqwest::Error),
    TooLarge,
}

impl From<reqwest::Error> for Failed {
    fn from(e: reqwest::Error) -> Self {
        Self::Request(e)
    }
}

/// Sends and reads the answer, at most [`MAX_RESPONSE`] bytes of it.
async fn send(request: RequestBuilder) -> Result<Answer, Failed> {
    let mut response = request.timeout(REQUEST_TIMEOUT).send().await?;
    let status = response.status();
    let retry_after = retry_after(response.headers());
    if response.content_length().is_some_and(|n| n > MAX_RESPONSE as u64) {
        return Err(Failed::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(Failed::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, retry_after, body: String::from_utf8_lossy(&body).into_owned() })
}

struct CachedToken {
    token: SecretString,
    renew_at: Instant,
}

/// A client of one stack's provider usage API.
pub struct UsageApi {
    http: reqwest::Client,
    endpoint: Url,
    provider_subscription: Uuid,
    credentials: Credentials,
    retry: RetryPolicy,
    token: Mutex<Option<CachedToken>>,
}

impl UsageApi {
    /// A client of the admin ARM `endpoint` (e.g. `https://adminmanagement.local.azurestack.external`). `http` should
    /// follow no redirects: a redirect could carry the bearer token past the same-endpoint check on `nextLink`s.
    pub fn new(
        http: reqwest::Client,
        endpoint: Url,
        provider_subscription: Uuid,
        credentials: Credentials,
        retry: RetryPolicy,
    ) -> Self {
        Self { http, endpoint, provider_subscription, credentials, retry, token: Mutex::new(None) }
    }

    /// Pages of usage reported in [from, to), hourly granularity, following continuation. Both ends must be whole
    /// UTC hours; `to` must not be in the future (the API refuses it with `RequestEndTimeIsInFuture`).
    pub fn usage(&self, from: OffsetDateTime, to: OffsetDateTime) -> Pager<'_> {
        let first = reported_window(from, to).and_then(|(start, end)| {
            let mut url = self.resource_url("Microsoft.Commerce.Admin", "subscriberUsageAggregates")?;
            url.query_pairs_mut()
                .append_pair("reportedStartTime", &start)
                .append_pair("reportedEndTime", &end)
                .append_pair("aggregationGranularity", "Hourly")
                .append_pair("api-version", USAGE_API_VERSION);
            Ok(url)
        });
        Pager::new(self, USAGE_API, first)
    }

    /// Pages of the stack's user subscriptions (`{"value":[{"subscriptionId","tenantId","displayName",…}]}`).
    pub fn subscriptions(&self) -> Pager<'_> {
        let first = self.resource_url("Microsoft.Subscriptions.Admin", "subscriptions").map(|mut url| {
            url.query_pairs_mut().append_pair("api-version", SUBSCRIPTIONS_API_VERSION);
            url
        });
        Pager::new(self, SUBSCRIPTIONS_API, first)
    }

    fn resource_url(&self, namespace: &str, resource: &str) -> Result<Url, String> {
        let mut url = self.endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        let subscription = self.provider_subscription.to_string();
        url.path_segments_mut()
            .map_err(|()| format!("the endpoint {} is not an http(s) URL", self.endpoint))?
            .pop_if_empty()
            .extend(["subscriptions", &subscription, "providers", namespace, resource]);
        Ok(url)
    }

    /// One page's body; a 401 with a client-credentials token gets one more try with a fresh token.
    async fn get(&self, api: &'static str, url: &Url) -> Result<String, CollectError> {
        let mut renewed = false;
        loop {
            let token = self.token().await?;
            let request =
                || self.http.get(url.clone()).bearer_auth(token.expose_secret()).header(ACCEPT, "application/json");
            let answer = self.fetch(api, request).await?;
            match answer.status {
                status if status.is_success() => return Ok(answer.body),
                StatusCode::UNAUTHORIZED
                    if !renewed && matches!(self.credentials, Credentials::ClientCredentials { .. }) =>
                {
                    tracing::info!(api, "bearer token refused; fetching a new one");
                    *self.token.lock().await = None;
                    renewed = true;
                }
                status => return Err(status_error(api, status, &answer.body)),
            }
        }
    }

    /// Sends `request` until an answer that is not busy, within the retry policy.
    async fn fetch(&self, api: &'static str, request: impl Fn() -> RequestBuilder) -> Result<Answer, CollectError> {
        let mut failed = 0;
        loop {
            let (error, wait) = match send(request()).await {
                Ok(answer)
                    if matches!(answer.status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) =>
                {
                    (status_error(api, answer.status, &answer.body), answer.retry_after)
                }
                Ok(answer) => return Ok(answer),
                Err(Failed::TooLarge) => return Err(CollectError::TooLarge { api }),
                Err(Failed::Request(e)) if transient(&e) => (no_answer(api, &e), None),
                Err(Failed::Request(e)) => return Err(no_answer(api, &e)),
            };
            failed += 1;
            if failed >= self.retry.attempts {
                return Err(CollectError::GaveUp { attempts: failed, last: Box::new(error) });
            }
            let wait = self.retry.delay(failed, wait);
            tracing::warn!(api, %error, attempt = failed, ?wait, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn token(&self) -> Result<SecretString, CollectError> {
        let (token_url, client_id, client_secret, scope) = match &self.credentials {
            Credentials::Bearer(token) => return Ok(token.clone()),
            Credentials::ClientCredentials { token_url, client_id, client_secret, scope } => {
                (token_url, client_id, client_secret, scope)
            }
        };
        // Held across the fetch so that concurrent pagers wait for one token instead of each fetching their own.
        let mut cache = self.token.lock().await;
        if let Some(cached) = cache.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(cached.token.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
            ("scope", scope),
        ];
        let answer = self.fetch(TOKEN_ENDPOINT, || self.http.post(token_url.clone()).form(&form)).await?;
        if !answer.status.is_success() {
            return Err(status_error(TOKEN_ENDPOINT, answer.status, &answer.body));
        }
        let granted = Granted::parse(&answer.body)?;
        let renew_at = Instant::now() + granted.lifetime.saturating_sub(TOKEN_MARGIN);
        *cache = Some(CachedToken { token: granted.access_token.clone(), renew_at });
        Ok(granted.access_token)
    }
}

struct Granted {
    access_token: SecretString,
    lifetime: Duration,
}

impl Granted {
    /// Entra ID v1 and some AD FS versions send `expires_in` as a string. Nothing of the body is quoted in errors:
    /// it holds the token.
    fn parse(body: &str) -> Result<Self, CollectError> {
        #[derive(Deserialize)]
        struct Body {
            access_token: Option<SecretString>,
            expires_in: Option<serde_json::Value>,
        }
        let bad = |detail: &str| CollectError::BadBody { api: TOKEN_ENDPOINT, detail: detail.into() };
        let body: Body = serde_json::from_str(body).map_err(|_| bad("not a JSON object"))?;
        let access_token = body.access_token.ok_or_else(|| bad("no access_token"))?;
        let seconds = match body.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        // Without a lifetime the token is used for one request only, rather than until it fails.
        Ok(Self { access_token, lifetime: Duration::from_secs(seconds.unwrap_or(0)) })
    }
}

fn reported_window(from: OffsetDateTime, to: OffsetDateTime) -> Result<(String, String), String> {
    let (from, to) = (from.to_offset(UtcOffset::UTC), to.to_offset(UtcOffset::UTC));
    let whole_hour = |t: OffsetDateTime| t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0;
    if !(whole_hour(from) && whole_hour(to) && from < to) {
        return Err(format!("the reported window {from} to {to} is not whole UTC hours, start before end"));
    }
    let format = |t: OffsetDateTime| t.format(REPORTED_TIME).map_err(|e| format!("reported time {t}: {e}"));
    Ok((format(from)?, format(to)?))
}

/// Pages of one listing, fetched one at a time.
pub struct Pager<'a> {
    api: &'a UsageApi,
    name: &'static str,
    first: Url,
    /// The next page's URL, `None` when done; an error is kept so that later calls repeat it rather than end quietly.
    next: Result<Option<Url>, CollectError>,
    pages: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Links {
    next_link: Option<String>,
    continuation_token: Option<String>,
}

impl<'a> Pager<'a> {
    fn new(api: &'a UsageApi, name: &'static str, first: Result<Url, String>) -> Self {
        let (first, next) = match first {
            Ok(url) => (url.clone(), Ok(Some(url))),
            Err(detail) => (api.endpoint.clone(), Err(CollectError::BadRequest { api: name, detail })),
        };
        Self { api, name, first, next, pages: 0 }
    }

    /// The next page's raw JSON body (for `app::usage::parse::parse_page`), or `None` when done. After an error,
    /// every later call returns it again.
    pub async fn next(&mut self) -> Result<Option<String>, CollectError> {
        let url = match &self.next {
            Ok(Some(url)) => url.clone(),
            Ok(None) => return Ok(None),
            Err(e) => return Err(e.clone()),
        };
        if self.pages >= MAX_PAGES {
            self.next = Err(CollectError::TooManyPages { api: self.name });
            return Err(CollectError::TooManyPages { api: self.name });
        }
        tracing::debug!(api = self.name, %url, page = self.pages + 1, "fetching");
        match self.api.get(self.name, &url).await {
            Ok(body) => {
                self.pages += 1;
                // A refused link still lets this page through: it came from the configured endpoint.
                self.next = self.follow(&body);
                Ok(Some(body))
            }
            Err(e) => {
                self.next = Err(e.clone());
                Err(e)
            }
        }
    }

    fn follow(&self, body: &str) -> Result<Option<Url>, CollectError> {
        let bad = |e: serde_json::Error| CollectError::BadBody {
            api: self.name,
            detail: format!("not a JSON object (line {}, column {})", e.line(), e.column()),
        };
        let links: Links = serde_json::from_str(body).map_err(bad)?;
        if let Some(link) = links.next_link.filter(|l| !l.is_empty()) {
            let endpoint = &self.api.endpoint;
            let foreign = || CollectError::ForeignLink { api: self.name, endpoint: endpoint.to_string() };
            let url = endpoint.join(&link).map_err(|_| foreign())?;
            return if url.origin() == endpoint.origin() { Ok(Some(url)) } else { Err(foreign()) };
        }
        Ok(links.continuation_token.filter(|t| !t.is_empty()).map(|token| {
            let mut url = self.first.clone();
            url.query_pairs_mut().append_pair("continuationToken", &token);
            url
        }))
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
