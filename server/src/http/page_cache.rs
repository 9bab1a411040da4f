//! Rendered bill pages kept in memory and served again while nothing they show has changed (issue 15, item 5).
//!
//! A bill page costs its statements and its rendering, the bills list of 50 customers more; partners open the same
//! bills again and again (the list, a bill, back to the list). So the portal keeps each rendered page per user and
//! address, and before serving it again asks PostgreSQL one question: did a transaction that the page's snapshot did
//! not see change anything of this partner's bills (`bill_inputs_changed_since`, fed by triggers on every table a
//! bill reads; migration `bill_input_changes`)? If so, or if the page is older than [`MAX_AGE`], or the hour changed
//! (a month may have ended), the page is rendered afresh. Every server asks the database, so a change made through
//! another server, the command line or `psql` is seen at once.
//!
//! Only plain views are kept: a partner user's GET of `/bills` or `/bills/{period}/{subscription}` with nothing
//! waiting to be shown once (a message, a key). Operators, errors, redirects and every other page go straight
//! through. A kept page is served with a script nonce of its own and the policy naming it.
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower_sessions::Session;
use uuid::Uuid;

use app::auth::session::AuthSession;

use crate::state::AppState;

/// The longest a page is kept; the database's log of changes is kept five times longer
/// ([`forget_old_changes`]), so every snapshot a kept page names can still be checked.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// How long the log of changes is kept.
const LOG_KEPT: &str = "5 minutes";
/// The memory all kept pages may take together.
const CAPACITY_BYTES: u64 = 64 << 20;
/// A page larger than this is not kept (the body is read whole to be kept).
const MAX_PAGE_BYTES: usize = 4 << 20;
/// Says whether a page came from the cache (`kept`) or was rendered for this request (`rendered`).
pub const SERVED_FROM: &str = "x-stackbill-page";

/// The pages kept, by user, address and hour.
pub struct PageCache(quick_cache::sync::Cache<Key, Arc<Page>, BodySize>);

impl Default for PageCache {
    fn default() -> Self {
        Self(quick_cache::sync::Cache::with_weighter(1_000, CAPACITY_BYTES, BodySize))
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    user: Uuid,
    uri: String,
    /// Hours since the epoch by the portal's clock: what a page says of "now" (whether its month has ended, the
    /// default period) changes at most on the hour.
    hour: i64,
}

/// A rendered page and what it was rendered from.
pub struct Page {
    partner: Uuid,
    /// The snapshot taken before the page was rendered (`pg_snapshot` as text): everything committed before it is
    /// on the page.
    seen: String,
    taken: Instant,
    headers: HeaderMap,
    html: String,
    nonce: String,
}

#[derive(Clone)]
pub struct BodySize;

impl quick_cache::Weighter<Key, Arc<Page>> for BodySize {
    fn weight(&self, key: &Key, page: &Arc<Page>) -> u64 {
        (key.uri.len() + page.html.len() + page.seen.len()) as u64 + 256
    }
}

/// The middleware: serves a kept page if it is still right, else renders and keeps it.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A request (its body) is not `Sync`: no reference to it is held across an await.
    let Some((session, uri)) = candidate(&request) else {
        return next.run(request).await;
    };
    let Some(key) = key_of(session, uri).await else {
        return next.run(request).await;
    };
    let pages = &state.pages.0;
    if let Some(page) = pages.get(&key) {
        if page.taken.elapsed() < MAX_AGE {
            match changed_since(&state.pool, &page).await {
                Ok(false) => return page.response(),
                Ok(true) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check a kept page; rendering it"),
            }
        }
        pages.remove(&key);
    }
    let taken = Instant::now();
    let (seen, partner) = match snapshot_and_partner(&state.pool, key.user).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take a snapshot for a page; rendering it unkept");
            return next.run(request).await;
        }
    };
    let mut response = next.run(request).await;
    let nonce = response.headers().get(header::CONTENT_SECURITY_POLICY).and_then(nonce_of);
    let (Some(partner), Some(nonce), StatusCode::OK) = (partner, nonce, response.status()) else {
        return response;
    };
    response.headers_mut().insert(SERVED_FROM, HeaderValue::from_static("rendered"));
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, uri = key.uri, "cannot read a rendered page");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if let Ok(html) = std::str::from_utf8(&bytes) {
        let mut headers = parts.headers.clone();
        // A new nonce may be longer or shorter than this one.
        headers.remove(header::CONTENT_LENGTH);
        let page = Page { partner, seen, taken, headers, html: html.to_owned(), nonce };
        pages.insert(key, Arc::new(page));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The session and address of a GET of a bill page or the bills list: a request that may be served from the cache.
fn candidate(request: &Request) -> Option<(Session, String)> {
    if request.method() != Method::GET || !is_bill_page(request.uri().path()) {
        return None;
    }
    Some((request.extensions().get::<Session>()?.clone(), request.uri().to_string()))
}

/// The cache key of a view by a signed-in user with nothing waiting to be shown once.
async fn key_of(session: Session, uri: String) -> Option<Key> {
    let user = AuthSession(session).user_of_repeatable_view().await.ok()??;
    let hour = app::domain::clock::now().unix_timestamp().div_euclid(3600);
    Some(Key { user, uri, hour })
}

/// `/bills` and `/bills/{period}/{subscription}`.
fn is_bill_page(path: &str) -> bool {
    match path.strip_prefix("/bills") {
        Some("") => true,
        Some(rest) => {
            let mut segments = rest.split('/');
            matches!((segments.next(), segments.next(), segments.next(), segments.next()),
                (Some(""), Some(p), Some(s), None) if !p.is_empty() && !s.is_empty())
        }
        None => false,
    }
}

/// A snapshot taken now, and the partner of `user` (`None` for operators and users without access: their pages are
/// not kept).
async fn snapshot_and_partner(pool: &PgPool, user: Uuid) -> sqlx::Result<(String, Option<Uuid>)> {
    sqlx::query_as("select pg_current_snapshot()::text, (select partner_id from users where user_id = $1)")
        .bind(user)
        .fetch_one(pool)
        .await
}

/// Whether anything the page shows changed after its snapshot.
async fn changed_since(pool: &PgPool, page: &Page) -> sqlx::Result<bool> {
    sqlx::query_scalar("select bill_inputs_changed_since($1, $2::text::pg_snapshot)")
        .bind(page.partner)
        .bind(&page.seen)
        .fetch_one(pool)
        .await
}

/// The script nonce a page's Content-Security-Policy names.
fn nonce_of(policy: &HeaderValue) -> Option<String> {
    let policy = policy.to_str().ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(policy[start..start + len].to_owned())
}

impl Page {
    /// The kept page, with a new nonce on its scripts and in its policy.
    fn response(&self) -> Response {
        let nonce = Uuid::new_v4().simple().to_string();
        let mut response = Response::new(Body::from(self.html.replace(&self.nonce, &nonce)));
        *response.headers_mut() = self.headers.clone();
        if let Ok(policy) = HeaderValue::from_str(&app::shell::content_security_policy(Some(&nonce))) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response.headers_mut().insert(SERVED_FROM, HeaderValue::from_static("kept"));
        response
    }
}

/// Forgets the changes no kept page can still need (older than [`LOG_KEPT`]); the server does this every minute.
pub async fn forget_old_changes(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("select forget_old_bill_input_changes($1::interval)").bind(LOG_KEPT).fetch_one(pool).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bills_list_and_bill_pages_are_kept() {
        for kept in ["/bills", "/bills/2026-10/00000000-0000-4000-8000-000000000001"] {
            assert!(is_bill_page(kept), "{kept}");
        }
        for not in
            ["/", "/billsx", "/bills/", "/bills/2026-10", "/bills/2026-10/", "/bills/2026-10/s/invoice", "/customers"]
        {
            assert!(!is_bill_page(not), "{not}");
        }
    }

    #[test]
    fn the_nonce_is_read_from_the_policy_the_shell_sends() {
        let policy = HeaderValue::from_str(&app::shell::content_security_policy(Some("abc123"))).unwrap();
        assert_eq!(nonce_of(&policy).as_deref(), Some("abc123"));
        let none = HeaderValue::from_str(&app::shell::content_security_policy(None)).unwrap();
        assert_eq!(nonce_of(&none), None);
    }
}
