//! Cross-site request forgery defence and security headers.
//!
//! Session cookies are `SameSite=Lax`, so other sites cannot send them with a POST; on top of that every
//! state-changing request must carry an `Origin` (or, failing that, a `Referer`) of this portal. Browsers send
//! `Origin` on every POST, so a missing one means a non-browser client, which has no session cookie to abuse
//! unless it stole one; those are refused too.
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::state::AllowedOrigin;

/// The largest page body accepted (after decompression); larger ones get 413.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// The largest usage upload (all files of one post together).
pub const MAX_UPLOAD: usize = 1024 * 1024 * 1024;

/// Refuses unsafe methods whose `Origin`/`Referer` is not this portal.
pub async fn check_origin(State(allowed): State<AllowedOrigin>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Machine APIs authenticate with bearer keys, never cookies, so forgery does not apply to them.
    let machine_api = req.uri().path().starts_with("/api/v1/");
    if safe || machine_api || same_origin(req.headers(), &allowed.0) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "refused a cross-origin state-changing request");
    (StatusCode::FORBIDDEN, "Refused: this request did not come from a Stackbill page (cross-site request check).")
        .into_response()
}

fn same_origin(headers: &HeaderMap, allowed: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().map(|o| o == allowed).unwrap_or(false);
    }
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| Url::parse(r).ok())
        .map(|r| r.origin().ascii_serialization() == allowed)
        .unwrap_or(false)
}

/// Server functions answer an error as JSON with status 500 whatever it was; this gives a refused or missing thing
/// its own status (403, 404, 422) from the error itself, so no refusal looks like a crash.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let server_fn = req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && !req.uri().path().starts_with("/api/v1/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Every error of the ingest API is JSON (`{"error": …}`), also those answered before its handlers run: an
/// unsupported `Content-Encoding` (415 from the decompression layer), a wrong method (405), a deadline (503).
pub async fn api_errors_as_json(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let encoding = req.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !res.status().is_client_error() && !res.status().is_server_error() || json {
        return res;
    }
    let status = res.status();
    let error = match (status, encoding) {
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(e)) => {
            format!("Content-Encoding “{}” is not supported; send gzip or no encoding", app::domain::text::echo(&e))
        }
        _ => status.canonical_reason().unwrap_or("refused").to_lowercase(),
    };
    let mut json = (status, axum::Json(serde_json::json!({ "error": error }))).into_response();
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = res.headers().get(&name) {
            json.headers_mut().insert(name, v.clone());
        }
    }
    json
}

/// How much a request may send and how long it may take, by route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Body bytes as sent (before any decompression; the ingest API limits the decompressed size itself).
    pub body: usize,
    /// From the request to the response's head (a streamed export's body is not counted).
    pub deadline: std::time::Duration,
}

/// Forms and server functions send little; only the upload, the ingest API and the operator's imports send files.
pub fn limits(path: &str) -> Limits {
    use std::time::Duration;
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if path.starts_with("/stacks/") && path.ends_with("/usage/upload") {
        Limits { body: MAX_UPLOAD, deadline: Duration::from_secs(3600) }
    } else if path.starts_with("/api/v1/") {
        Limits { body: MAX_BODY, deadline: Duration::from_secs(120) }
    } else if path == app::recon::forms::IMPORT_RECON.pattern() {
        Limits { body: app::recon::forms::MAX_RECON_FILE, deadline: Duration::from_secs(600) }
    } else if path.starts_with("/operator/") && path.ends_with("/import") {
        Limits { body: 2 * MIB, deadline: Duration::from_secs(600) }
    } else {
        Limits { body: 64 * KIB, deadline: Duration::from_secs(60) }
    }
}

/// Applies [`limits`] to every request: a declared length over the limit is refused at once (413), a body that
/// grows past it fails to read (413 from the extractor), and a request that takes longer than its deadline is
/// abandoned (its transaction rolls back) with a 503.
pub async fn limit(req: Request, next: Next) -> Response {
    let limits = limits(req.uri().path());
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // The ingest API refuses a declared oversize itself, after the key check, so that the refusal is audited.
    if declared.is_some_and(|n| n > limits.body as u64) && !req.uri().path().starts_with("/api/v1/") {
        let size = match limits.body {
            b if b >= 1 << 20 => format!("{} MiB", b >> 20),
            b => format!("{} KiB", b >> 10),
        };
        return (StatusCode::PAYLOAD_TOO_LARGE, format!("Refused: the request is larger than {size}.")).into_response();
    }
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, limits.body)));
    match tokio::time::timeout(limits.deadline, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(deadline = ?limits.deadline, "a request took too long and was abandoned");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The request took too long and was stopped; try again, or with less at once.",
            )
                .into_response()
        }
    }
}

/// Adds the security headers to every response.
pub async fn headers(req: Request<Body>, next: Next) -> Response {
    let cache = cache_control(req.uri().path());
    let mut res = next.run(req).await;
    // A missing asset is answered with the not-found page, which names the signed-in user: never kept.
    let cache = if res.status().is_success() { cache } else { "no-store" };
    let h = res.headers_mut();
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(cache));
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    // Pages send their own policy naming their script nonce (`app::shell`); everything else gets it without one.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&app::shell::content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    res
}

/// How long a successful response may be kept: the fingerprinted bundle (`/pkg/stackbill.<hash>.js`, named anew whenever it
/// changes) for a year; other assets revalidated on every use; pages, exports and API answers (a partner's data)
/// never stored, so nothing of theirs stays in a shared or back-button cache.
fn cache_control(path: &str) -> &'static str {
    match path.strip_prefix("/pkg/") {
        Some(file) if file.split('.').count() >= 3 => "public, max-age=31536000, immutable",
        Some(_) => "no-cache",
        None => "no-store",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprinted_assets_are_kept_a_year_and_pages_never() {
        assert_eq!(cache_control("/pkg/stackbill.hqeCLAO40GgpT9gcjI1qmg.wasm"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("/pkg/stackbill.wasm"), "no-cache");
        assert_eq!(cache_control("/bills/2026-10/5b5c0000-0000-4000-8000-000000000001"), "no-store");
        assert_eq!(cache_control("/exports/usage"), "no-store");
    }

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn same_origin_post_is_allowed() {
        assert!(same_origin(&with(header::ORIGIN, "http://127.0.0.1:3000"), "http://127.0.0.1:3000"));
    }

    #[test]
    fn foreign_origin_is_refused_even_with_a_good_referer() {
        let mut h = with(header::ORIGIN, "https://evil.example");
        h.insert(header::REFERER, HeaderValue::from_static("http://127.0.0.1:3000/"));
        assert!(!same_origin(&h, "http://127.0.0.1:3000"));
    }

    #[test]
    fn referer_is_used_when_origin_is_missing() {
        assert!(same_origin(&with(header::REFERER, "http://127.0.0.1:3000/stacks?x=1"), "http://127.0.0.1:3000"));
        assert!(!same_origin(&with(header::REFERER, "http://127.0.0.1:3001/"), "http://127.0.0.1:3000"));
    }

    #[test]
    fn no_origin_and_no_referer_is_refused() {
        assert!(!same_origin(&HeaderMap::new(), "http://127.0.0.1:3000"));
    }
}
