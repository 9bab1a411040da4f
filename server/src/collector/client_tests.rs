use super::*;

fn api() -> UsageApi {
    let endpoint = Url::parse("http://127.0.0.1:9/").unwrap();
    let credentials = Credentials::Bearer(SecretString::from("t"));
    UsageApi::new(reqwest::Client::new(), endpoint, Uuid::nil(), credentials, RetryPolicy::default())
}

#[tokio::test]
async fn a_pager_stops_after_max_pages_without_asking_again() {
    let api = api();
    let mut pager = api.subscriptions();
    pager.pages = MAX_PAGES;
    let error = pager.next().await.unwrap_err();
    assert_eq!(error, CollectError::TooManyPages { api: SUBSCRIPTIONS_API });
    assert_eq!(pager.next().await.unwrap_err(), error, "an error must not turn into a quiet end");
}

#[test]
fn back_off_doubles_up_to_max_and_honours_retry_after_within_max() {
    let policy = RetryPolicy { attempts: 6, base: Duration::from_secs(2), max: Duration::from_secs(60) };
    let waits: Vec<u64> = (1..=6).map(|n| policy.delay(n, None).as_secs()).collect();
    assert_eq!(waits, [2, 4, 8, 16, 32, 60]);
    assert_eq!(policy.delay(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
    assert_eq!(policy.delay(1, Some(Duration::from_secs(3600))), Duration::from_secs(60));
}

#[test]
fn error_answers_are_told_in_our_words_and_their_bodies_never_quoted() {
    let arm = r#"{"error":{"code":"AuthorizationFailed","message":"internal banner: redis 7.2 at 10.0.0.5"}}"#;
    let e = status_error(USAGE_API, StatusCode::FORBIDDEN, arm);
    assert_eq!(
        e.to_string(),
        "usage API answered 403: access denied; the account needs access to the provider subscription"
    );
    assert!(matches!(e, CollectError::Status { code: Some(ref c), .. } if c == "AuthorizationFailed"));
    let oauth = r#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#;
    let e = status_error(TOKEN_ENDPOINT, StatusCode::UNAUTHORIZED, oauth);
    assert!(!e.to_string().contains("AADSTS"), "{e}");
    let e = status_error(USAGE_API, StatusCode::BAD_GATEWAY, "SSH-2.0-OpenSSH_9.6");
    assert_eq!(e.to_string(), "usage API answered 502: a server error");
}

#[test]
fn a_window_of_part_hours_or_backwards_is_refused() {
    let hour = time::macros::datetime!(2024-05-01 10:00 UTC);
    assert!(reported_window(hour, hour + time::Duration::minutes(30)).is_err());
    assert!(reported_window(hour, hour).is_err());
    let (start, end) = reported_window(hour, hour + time::Duration::hours(1)).unwrap();
    assert_eq!((start.as_str(), end.as_str()), ("2024-05-01T10:00:00+00:00", "2024-05-01T11:00:00+00:00"));
}
