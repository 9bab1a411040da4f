//! A stand-in for a stack's admin ARM endpoint: the provider usage API, the user subscriptions list and a
//! client-credentials token endpoint, answering in the shapes and with the error codes of DOMAIN §1.2–1.6.
//! It records every request so tests can check what the collector asked for.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use url::Url;
use uuid::Uuid;

pub const CLIENT_ID: &str = "collector-test";
pub const CLIENT_SECRET: &str = "collector-secret";
pub const SCOPE: &str = "https://adminmanagement.local.azurestack.external/.default";

/// One usage record, served to requests whose reported window holds `reported`.
#[derive(Clone, Debug)]
pub struct Record {
    /// When the usage system received it (a whole hour).
    pub reported: OffsetDateTime,
    /// The start of the usage hour; hours before `reported` for late data.
    pub usage_start: OffsetDateTime,
    pub subscription_id: Uuid,
    pub meter_id: Uuid,
    /// Written into the page as it is, so it can carry the API's ten decimals.
    pub quantity: String,
    pub resource_uri: String,
}

impl Record {
    /// Usage of the hour before `reported`, the `n`th resource.
    pub fn on_time(reported: OffsetDateTime, n: u32) -> Self {
        Self::late(reported, 1, n)
    }

    /// Usage of an hour `hours` before `reported`.
    pub fn late(reported: OffsetDateTime, hours: i64, n: u32) -> Self {
        let subscription_id = Uuid::from_u128(0x5ab0_0000 + u128::from(n % 3));
        Self {
            reported,
            usage_start: reported - Duration::hours(hours),
            subscription_id,
            meter_id: Uuid::parse_str("fab6eb84-500b-4a09-a8ca-7358f8bbaea5").unwrap(),
            quantity: format!("{n}.5000000000"),
            resource_uri: format!(
                "/subscriptions/{subscription_id}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm{n}"
            ),
        }
    }
}

/// How further pages are announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// A `nextLink` URL, as Azure's own usage API does.
    NextLink,
    /// A top-level `continuationToken` to send back as a query parameter, as the Azure Stack docs describe.
    ContinuationToken,
}

/// What the stand-in serves; tests change fields from [`Config::new`]'s defaults.
#[derive(Clone, Debug)]
pub struct Config {
    pub provider_subscription: Uuid,
    pub records: Vec<Record>,
    /// Subscriptions as the subscriptions API lists them (see [`subscription`]).
    pub subscriptions: Vec<Value>,
    pub page_size: usize,
    pub paging: Paging,
    /// Usage and subscription requests answered 503 before any is served.
    pub unavailable_first: usize,
    /// The `Retry-After` seconds sent with a 503.
    pub retry_after_seconds: u64,
    /// The bearer token required; also what `/token` grants.
    pub token: String,
    /// Where nextLinks point (default: this stand-in), to play a server that sends the client elsewhere.
    pub next_link_base: Option<Url>,
}

impl Config {
    pub fn new() -> Self {
        Self {
            provider_subscription: Uuid::new_v4(),
            records: Vec::new(),
            subscriptions: Vec::new(),
            page_size: 1000,
            paging: Paging::ContinuationToken,
            unavailable_first: 0,
            retry_after_seconds: 0,
            token: "standin-token".into(),
            next_link_base: None,
        }
    }
}

/// A subscription as `Microsoft.Subscriptions.Admin/subscriptions` lists it.
pub fn subscription(id: Uuid, name: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{id}"),
        "subscriptionId": id,
        "delegatedProviderSubscriptionId": "default",
        "displayName": name,
        "owner": "owner@contoso.example",
        "tenantId": Uuid::from_u128(0x7e4a47),
        "routingResourceManagerType": "Default",
        "offerId": "/delegatedProviders/default/offers/basic",
        "state": "Enabled",
    })
}

#[derive(Clone)]
struct Shared {
    base: Url,
    config: Arc<Mutex<Config>>,
    requests: Arc<Mutex<Vec<String>>>,
    token_requests: Arc<Mutex<usize>>,
}

/// A running stand-in.
pub struct StandIn {
    /// Its admin ARM endpoint, also the origin of `/token`.
    pub base: Url,
    pub provider_subscription: Uuid,
    shared: Shared,
}

impl StandIn {
    pub async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let provider_subscription = config.provider_subscription;
        let shared = Shared {
            base: base.clone(),
            config: Arc::new(Mutex::new(config)),
            requests: Arc::default(),
            token_requests: Arc::default(),
        };
        let app = Router::new()
            .route("/subscriptions/{provider}/providers/Microsoft.Commerce.Admin/subscriberUsageAggregates", get(usage))
            .route(
                "/subscriptions/{provider}/providers/Microsoft.Subscriptions.Admin/subscriptions",
                get(subscriptions),
            )
            .route("/token", post(token))
            .layer(middleware::from_fn_with_state(shared.clone(), record))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, provider_subscription, shared }
    }

    /// The token endpoint, for `Credentials::ClientCredentials`.
    pub fn token_url(&self) -> Url {
        self.base.join("token").unwrap()
    }

    /// Every request so far, as path and query exactly as received.
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many tokens `/token` has granted.
    pub fn token_requests(&self) -> usize {
        *self.shared.token_requests.lock().unwrap()
    }

    pub fn set_records(&self, records: Vec<Record>) {
        self.shared.config.lock().unwrap().records = records;
    }

    /// Revokes the current token: only `token` is accepted, and `/token` grants it from now on.
    pub fn rotate_token(&self, token: &str) {
        self.shared.config.lock().unwrap().token = token.into();
    }
}

async fn record(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let seen = uri.path_and_query().map_or_else(|| uri.path().to_string(), ToString::to_string);
    s.requests.lock().unwrap().push(seen);
    next.run(request).await
}

/// An answer in ARM's error shape, `{"error":{"code","message"}}`.
struct ArmError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after_seconds: Option<u64>,
}

fn arm_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ArmError {
    ArmError { status, code, message: message.into(), retry_after_seconds: None }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Refuses what the real endpoint would refuse before reading any data; `Err` is the answer to send.
fn admit(s: &Shared, provider: Uuid, headers: &HeaderMap, query: &HashMap<String, String>) -> Result<Config, ArmError> {
    let mut config = s.config.lock().unwrap();
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if bearer != Some(format!("Bearer {}", config.token).as_str()) {
        return Err(arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid."));
    }
    if provider != config.provider_subscription {
        return Err(arm_error(StatusCode::NOT_FOUND, "SubscriptionNotFound", "The subscription was not found."));
    }
    if !query.contains_key("api-version") {
        return Err(arm_error(StatusCode::BAD_REQUEST, "NoApiVersion", "The api-version query parameter is missing."));
    }
    if config.unavailable_first > 0 {
        config.unavailable_first -= 1;
        let busy = arm_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The service is busy.");
        return Err(ArmError { retry_after_seconds: Some(config.retry_after_seconds), ..busy });
    }
    Ok(config.clone())
}

fn reported_time(query: &HashMap<String, String>, name: &str) -> Result<OffsetDateTime, ArmError> {
    let value = query.get(name).map(String::as_str).unwrap_or_default();
    let invalid = || arm_error(StatusCode::BAD_REQUEST, "InvalidProperty", format!("{name} '{value}' is invalid."));
    let time = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| invalid())?;
    if time.minute() != 0 || time.second() != 0 || time.nanosecond() != 0 {
        return Err(invalid());
    }
    Ok(time)
}

async fn usage(
    State(s): State<Shared>,
    Path(provider): Path<Uuid>,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let config = match admit(&s, provider, &headers, &query) {
        Ok(config) => config,
        Err(refusal) => return refusal.into_response(),
    };
    let (start, end) = match (reported_time(&query, "reportedStartTime"), reported_time(&query, "reportedEndTime")) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(refusal), _) | (_, Err(refusal)) => return refusal.into_response(),
    };
    if end > app::domain::clock::now() {
        return arm_error(StatusCode::BAD_REQUEST, "RequestEndTimeIsInFuture", "ReportedEndTime is in the future.")
            .into_response();
    }
    let granularity = query.get("aggregationGranularity").map(|g| g.to_ascii_lowercase());
    if !matches!(granularity.as_deref(), None | Some("daily" | "hourly")) {
        return arm_error(StatusCode::BAD_REQUEST, "InvalidAggregationGranularity", "Use Daily or Hourly.")
            .into_response();
    }
    // Like the real API, one aggregate per usage window, resource and meter: the parts of it reported inside the
    // queried window, summed (DOMAIN §1.5).
    let mut aggregates: Vec<Record> = Vec::new();
    for r in config.records.iter().filter(|r| start <= r.reported && r.reported < end) {
        let same = |a: &&mut Record| {
            (a.subscription_id, a.meter_id, a.usage_start, &a.resource_uri)
                == (r.subscription_id, r.meter_id, r.usage_start, &r.resource_uri)
        };
        match aggregates.iter_mut().find(|a| same(a)) {
            Some(a) => {
                let sum = a.quantity.parse::<rust_decimal::Decimal>().unwrap()
                    + r.quantity.parse::<rust_decimal::Decimal>().unwrap();
                a.quantity = format!("{sum:.10}");
            }
            None => aggregates.push(r.clone()),
        }
    }
    let items: Vec<Value> = aggregates.iter().map(|r| usage_item(config.provider_subscription, r)).collect();
    page(&s, &config, &uri, &query, items)
}

fn usage_item(provider: Uuid, r: &Record) -> Value {
    let instance_data = json!({ "Microsoft.Resources": {
        "resourceUri": r.resource_uri, "location": "local", "tags": null, "additionalInfo": null,
    }});
    let time = |t: OffsetDateTime| t.format(&Rfc3339).unwrap().replace('Z', "+00:00");
    json!({
        "id": format!("/subscriptions/{provider}/providers/Microsoft.Commerce.Admin/UsageAggregate/{}-{}", r.subscription_id, r.meter_id),
        "name": format!("{}-{}", r.subscription_id, r.meter_id),
        "type": "Microsoft.Commerce.Admin/UsageAggregate",
        "properties": {
            "subscriptionId": r.subscription_id,
            "usageStartTime": time(r.usage_start),
            "usageEndTime": time(r.usage_start + Duration::hours(1)),
            "instanceData": instance_data.to_string(),
            "quantity": RawValue::from_string(r.quantity.clone()).unwrap(),
            "meterId": r.meter_id,
        }
    })
}

async fn subscriptions(
    State(s): State<Shared>,
    Path(provider): Path<Uuid>,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match admit(&s, provider, &headers, &query) {
        Ok(config) => page(&s, &config, &uri, &query, config.subscriptions.clone()),
        Err(refusal) => refusal.into_response(),
    }
}

/// One page of `items`, from the offset its token names. The token is opaque to the client; in nextLinks it travels
/// as `$skiptoken`, as in ARM, so tests can tell which paging the client followed.
fn page(s: &Shared, config: &Config, uri: &Uri, query: &HashMap<String, String>, items: Vec<Value>) -> Response {
    let token = query.get("continuationToken").or_else(|| query.get("$skiptoken"));
    let offset = match token.map(|t| t.strip_prefix("offset-").and_then(|n| n.parse::<usize>().ok())) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return arm_error(StatusCode::BAD_REQUEST, "InvalidProperty", "continuationToken is invalid.")
                .into_response()
        }
    };
    let end = (offset + config.page_size).min(items.len());
    let mut body = json!({ "value": items.get(offset..end).unwrap_or_default() });
    if end < items.len() {
        let token = format!("offset-{end}");
        match config.paging {
            Paging::ContinuationToken => body["continuationToken"] = json!(token),
            Paging::NextLink => body["nextLink"] = json!(next_link(s, config, uri.path(), query, &token)),
        }
    }
    Json(body).into_response()
}

fn next_link(s: &Shared, config: &Config, path: &str, query: &HashMap<String, String>, token: &str) -> String {
    let mut link = config.next_link_base.clone().unwrap_or_else(|| s.base.clone());
    link.set_path(path);
    let mut pairs = link.query_pairs_mut();
    for (name, value) in query.iter().filter(|(n, _)| !matches!(n.as_str(), "continuationToken" | "$skiptoken")) {
        pairs.append_pair(name, value);
    }
    pairs.append_pair("$skiptoken", token);
    drop(pairs);
    link.to_string()
}

async fn token(State(s): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") || field("scope") != Some(SCOPE) {
        let body = json!({ "error": "invalid_request", "error_description": "AADSTS900144: grant or scope" });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        let body = json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret." });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    *s.token_requests.lock().unwrap() += 1;
    let token = s.config.lock().unwrap().token.clone();
    // Entra ID v1 sends expires_in as a string; the client must take both.
    Json(json!({ "token_type": "Bearer", "expires_in": "3599", "access_token": token })).into_response()
}
