//! The collector's HTTP client against the stand-in usage API: paging both ways, retries, tokens and refusals.
use std::time::Duration;

use secrecy::SecretString;
use time::{OffsetDateTime, Time};
use url::Url;

use server::collector::client::{CollectError, Credentials, Pager, RetryPolicy, UsageApi};

use crate::standin_usage_api::{subscription, Config, Paging, Record, StandIn, CLIENT_ID, CLIENT_SECRET, SCOPE};

fn this_hour() -> OffsetDateTime {
    let now = app::domain::clock::now();
    now.replace_time(Time::from_hms(now.hour(), 0, 0).unwrap())
}

fn hours(n: i64) -> time::Duration {
    time::Duration::hours(n)
}

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy { attempts, base: Duration::from_millis(10), max: Duration::from_millis(50) }
}

fn api(standin: &StandIn, credentials: Credentials, retry: RetryPolicy) -> UsageApi {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    UsageApi::new(http, standin.base.clone(), standin.provider_subscription, credentials, retry)
}

fn bearer(token: &str) -> Credentials {
    Credentials::Bearer(SecretString::from(token))
}

fn client_credentials(standin: &StandIn, secret: &str) -> Credentials {
    Credentials::ClientCredentials {
        token_url: standin.token_url(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(secret),
        scope: SCOPE.into(),
    }
}

async fn all_pages(mut pager: Pager<'_>) -> Result<Vec<String>, CollectError> {
    let mut pages = Vec::new();
    while let Some(page) = pager.next().await? {
        pages.push(page);
    }
    Ok(pages)
}

/// The resources of every record, through the parser the collector will feed.
fn resources(pages: &[String]) -> Vec<String> {
    let records = pages.iter().flat_map(|p| app::usage::parse::parse_page(p).unwrap());
    records.map(|r| r.resource_uri).collect()
}

fn query(request: &str) -> Vec<(String, String)> {
    Url::parse("http://standin").unwrap().join(request).unwrap().query_pairs().into_owned().collect()
}

fn param(request: &str, name: &str) -> Option<String> {
    query(request).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Seven records reported in the window [-3 h, -1 h), one of them five hours late, and two just outside it.
fn window_and_records() -> ((OffsetDateTime, OffsetDateTime), Vec<Record>, Vec<String>) {
    let (from, to) = (this_hour() - hours(3), this_hour() - hours(1));
    let mut inside: Vec<Record> = (0..6).map(|n| Record::on_time(from + hours(i64::from(n % 2)), n)).collect();
    inside.push(Record::late(from, 5, 6));
    let expected = inside.iter().map(|r| r.resource_uri.clone()).collect();
    let outside = [Record::on_time(to, 7), Record::on_time(from - hours(1), 8)];
    ((from, to), inside.into_iter().chain(outside).collect(), expected)
}

async fn follows_pages(paging: Paging, token_parameter: &str) {
    let ((from, to), records, expected) = window_and_records();
    let standin = StandIn::start(Config { records, page_size: 3, paging, ..Config::new() }).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));

    let pages = all_pages(api.usage(from, to)).await.unwrap();

    assert_eq!(pages.len(), 3);
    assert_eq!(resources(&pages), expected);
    let requests = standin.requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    let tokens: Vec<_> = requests.iter().map(|r| param(r, token_parameter)).collect();
    assert_eq!(tokens, [None, Some("offset-3".into()), Some("offset-6".into())]);
    for request in &requests {
        assert_eq!(
            param(request, "reportedStartTime"),
            Some(format!("{}T{:02}:00:00+00:00", from.date(), from.hour()))
        );
        assert_eq!(param(request, "reportedEndTime"), Some(format!("{}T{:02}:00:00+00:00", to.date(), to.hour())));
        assert_eq!(param(request, "aggregationGranularity").as_deref(), Some("Hourly"), "{request}");
    }
}

#[tokio::test]
async fn usage_follows_top_level_continuation_tokens_across_pages() {
    follows_pages(Paging::ContinuationToken, "continuationToken").await;
}

#[tokio::test]
async fn usage_follows_next_links_across_pages() {
    follows_pages(Paging::NextLink, "$skiptoken").await;
}

#[tokio::test]
async fn usage_query_asks_for_hourly_aggregates_of_an_encoded_reported_window() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));
    let (from, to) = (this_hour() - hours(2), this_hour() - hours(1));

    let pages = all_pages(api.usage(from, to)).await.unwrap();

    assert_eq!(pages.len(), 1);
    let request = &standin.requests()[0];
    let (h0, h1) = (from.hour(), to.hour());
    let date = |t: OffsetDateTime| t.date().to_string();
    let expected = format!(
        "/subscriptions/{}/providers/Microsoft.Commerce.Admin/subscriberUsageAggregates?\
         reportedStartTime={}T{h0:02}%3A00%3A00%2B00%3A00&reportedEndTime={}T{h1:02}%3A00%3A00%2B00%3A00\
         &aggregationGranularity=Hourly&api-version=2015-06-01-preview",
        standin.provider_subscription,
        date(from),
        date(to),
    );
    assert_eq!(request, &expected);
}

#[tokio::test]
async fn a_window_of_part_hours_is_refused_without_asking() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));
    let from = this_hour() - hours(2) + time::Duration::minutes(30);

    let error = all_pages(api.usage(from, this_hour())).await.unwrap_err();

    assert!(matches!(error, CollectError::BadRequest { .. }), "{error}");
    assert!(standin.requests().is_empty());
}

#[tokio::test]
async fn busy_answers_are_retried_until_served() {
    let ((from, to), records, expected) = window_and_records();
    let standin = StandIn::start(Config { records, unavailable_first: 2, ..Config::new() }).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));

    let pages = all_pages(api.usage(from, to)).await.unwrap();

    assert_eq!(resources(&pages), expected);
    assert_eq!(standin.requests().len(), 3);
}

#[tokio::test]
async fn a_stack_busy_for_good_fails_after_the_configured_attempts() {
    let standin = StandIn::start(Config { unavailable_first: usize::MAX, ..Config::new() }).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(4));

    let error = all_pages(api.usage(this_hour() - hours(2), this_hour())).await.unwrap_err();

    let CollectError::GaveUp { attempts: 4, last } = &error else { panic!("{error:?}") };
    assert!(matches!(**last, CollectError::Status { status: 503, .. }), "{last:?}");
    assert_eq!(error.to_string(), "usage API answered 503: busy (gave up after 4 attempts)");
    assert_eq!(standin.requests().len(), 4);
}

#[tokio::test]
async fn retry_after_is_capped_at_the_policys_longest_wait() {
    let config = Config { unavailable_first: 1, retry_after_seconds: 3600, ..Config::new() };
    let standin = StandIn::start(config).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));

    let run = all_pages(api.usage(this_hour() - hours(2), this_hour()));
    let pages = tokio::time::timeout(Duration::from_secs(20), run).await.expect("waited out Retry-After").unwrap();

    assert_eq!(pages.len(), 1);
    assert_eq!(standin.requests().len(), 2);
}

#[tokio::test]
async fn a_wrong_bearer_token_fails_naming_401_without_retrying() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, bearer("wrong"), fast_retries(6));

    let error = all_pages(api.usage(this_hour() - hours(2), this_hour())).await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "usage API answered 401: the credentials were refused; check the token or the client secret"
    );
    assert_eq!(standin.requests().len(), 1);
}

#[tokio::test]
async fn an_end_in_the_future_is_refused_with_the_apis_own_code() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));

    let error = all_pages(api.usage(this_hour() - hours(1), this_hour() + hours(2))).await.unwrap_err();

    assert!(
        matches!(&error, CollectError::Status { status: 400, code: Some(c), .. } if c == "RequestEndTimeIsInFuture"),
        "{error:?}"
    );
    assert_eq!(standin.requests().len(), 1);
}

#[tokio::test]
async fn a_client_credentials_token_is_fetched_once_and_reused_across_pages() {
    let ((from, to), records, expected) = window_and_records();
    let subscriptions = vec![subscription(uuid::Uuid::new_v4(), "one")];
    let standin = StandIn::start(Config { records, subscriptions, page_size: 3, ..Config::new() }).await;
    let api = api(&standin, client_credentials(&standin, CLIENT_SECRET), fast_retries(6));

    let pages = all_pages(api.usage(from, to)).await.unwrap();
    let listed = all_pages(api.subscriptions()).await.unwrap();

    assert_eq!(resources(&pages), expected);
    assert_eq!(listed.len(), 1);
    assert_eq!(standin.token_requests(), 1);
    assert_eq!(standin.requests().iter().filter(|r| r.starts_with("/token")).count(), 1);
}

#[tokio::test]
async fn a_revoked_token_is_renewed_once_after_a_401() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, client_credentials(&standin, CLIENT_SECRET), fast_retries(6));
    let window = (this_hour() - hours(2), this_hour());
    all_pages(api.usage(window.0, window.1)).await.unwrap();

    standin.rotate_token("rotated-token");
    let pages = all_pages(api.usage(window.0, window.1)).await.unwrap();

    assert_eq!(pages.len(), 1);
    assert_eq!(standin.token_requests(), 2);
}

#[tokio::test]
async fn a_refused_client_secret_says_the_token_endpoint_refused_it() {
    let standin = StandIn::start(Config::new()).await;
    let api = api(&standin, client_credentials(&standin, "not-the-secret"), fast_retries(6));

    let error = all_pages(api.subscriptions()).await.unwrap_err();

    assert!(matches!(&error, CollectError::Status { status: 401, code: Some(c), .. } if c == "invalid_client"));
    assert_eq!(
        error.to_string(),
        "token endpoint answered 401: the credentials were refused; check the token or the client secret"
    );
    assert!(standin.requests().iter().all(|r| r.starts_with("/token")));
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let elsewhere = StandIn::start(Config::new()).await;
    let ((from, to), records, _) = window_and_records();
    let config = Config {
        records,
        page_size: 3,
        paging: Paging::NextLink,
        next_link_base: Some(elsewhere.base.clone()),
        ..Config::new()
    };
    let standin = StandIn::start(config).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));
    let mut pager = api.usage(from, to);

    let first = pager.next().await.unwrap();
    let error = pager.next().await.unwrap_err();

    assert_eq!(resources(&[first.unwrap()]).len(), 3);
    assert!(matches!(error, CollectError::ForeignLink { .. }), "{error:?}");
    assert_eq!(pager.next().await.unwrap_err(), error);
    assert!(elsewhere.requests().is_empty(), "the token went to {:?}", elsewhere.requests());
}

#[tokio::test]
async fn subscriptions_are_listed_across_pages() {
    let ids: Vec<uuid::Uuid> = (0..5).map(|_| uuid::Uuid::new_v4()).collect();
    let subscriptions = ids.iter().map(|id| subscription(*id, "tenant")).collect();
    let config = Config { subscriptions, page_size: 2, paging: Paging::NextLink, ..Config::new() };
    let standin = StandIn::start(config).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));

    let pages = all_pages(api.subscriptions()).await.unwrap();

    let listed: Vec<uuid::Uuid> = pages
        .iter()
        .flat_map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap()["value"].as_array().unwrap().clone())
        .map(|s| s["subscriptionId"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(listed, ids);
    assert!(standin.requests().iter().all(|r| param(r, "api-version").as_deref() == Some("2015-11-01")));
}

#[tokio::test]
async fn a_success_that_is_not_json_is_an_error_that_quotes_nothing_of_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let html = axum::Router::new().fallback(|| async { "<html>Sign in to continue</html>" });
    tokio::spawn(async move { axum::serve(listener, html).await.unwrap() });
    let http = reqwest::Client::new();
    let api = UsageApi::new(http, base, uuid::Uuid::new_v4(), bearer("t"), fast_retries(6));

    let error = all_pages(api.subscriptions()).await.unwrap_err();

    assert!(matches!(error, CollectError::BadBody { .. }), "{error:?}");
    assert!(!error.to_string().contains("Sign in"), "the body is not quoted: {error}");
}

#[tokio::test]
async fn late_usage_comes_in_the_window_it_was_reported_in() {
    let hour = this_hour() - hours(2);
    let standin = StandIn::start(Config { records: vec![Record::on_time(hour, 0)], ..Config::new() }).await;
    let api = api(&standin, bearer("standin-token"), fast_retries(6));
    let first = all_pages(api.usage(hour, hour + hours(1))).await.unwrap();

    standin.set_records(vec![Record::on_time(hour, 0), Record::late(hour + hours(1), 4, 1)]);
    let next = all_pages(api.usage(hour + hours(1), hour + hours(2))).await.unwrap();

    assert_eq!(resources(&first).len(), 1);
    let late = app::usage::parse::parse_page(&next[0]).unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].start, hour - hours(3), "usage time is hours before the reported window");
}
