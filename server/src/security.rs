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

/// The origin (`scheme://host:port`) requests must come from.
#[derive(Clone, Debug)]
pub struct AllowedOrigin(pub String);

impl AllowedOrigin {
    /// The origin of the public URL.
    pub fn from_public_url(url: &Url) -> Self {
        Self(url.origin().ascii_serialization())
    }
}

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

/// Adds the security headers to every response.
pub async fn headers(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    // Leptos' hydration bootstrap is an inline module script; WebAssembly needs 'wasm-unsafe-eval'.
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self' ws://127.0.0.1:3001 ws://localhost:3001; frame-ancestors 'none'; base-uri 'self'",
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

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
