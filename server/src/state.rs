//! What every request handler can reach.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;
use uuid::Uuid;

use crate::config::Settings;
use crate::oidc::Oidc;

/// Shared state of the router (STYLE L7).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' site settings (paths of the bundle and assets).
    pub leptos_options: LeptosOptions,
    /// The database.
    pub pool: PgPool,
    /// The OpenID Connect client.
    pub oidc: Arc<Oidc>,
    /// Settings read at start-up.
    pub settings: Arc<Settings>,
    /// Where state-changing requests must come from.
    pub origin: AllowedOrigin,
    /// Ingest requests in flight per stack.
    pub in_flight: Arc<InFlight>,
    /// Slots for the heavy work (ingest pages, stored uploads, usage exports) all together: fewer than the pool's
    /// connections, so page views always find one free.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// Uploads being received (spooled to disk) at once.
    pub spooling: Spooling,
    /// Rendered bill pages, served again while nothing they show has changed.
    pub pages: Arc<crate::http::page_cache::PageCache>,
}

impl FromRef<AppState> for app::domain::secrets::SecretKey {
    fn from_ref(state: &AppState) -> Self {
        state.settings.secret_key.clone()
    }
}

impl FromRef<AppState> for app::domain::outbound::Outbound {
    fn from_ref(state: &AppState) -> Self {
        state.settings.outbound.clone()
    }
}

/// Slots for uploads being received, [`Spooling::SLOTS`] at once (each up to 1 GiB on the temporary disk).
#[derive(Clone)]
pub struct Spooling(pub Arc<tokio::sync::Semaphore>);

impl Spooling {
    /// Uploads received at once.
    pub const SLOTS: usize = 4;
}

impl Default for Spooling {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(Self::SLOTS)))
    }
}

/// The heavy work's share of a pool of `connections`: three quarters, at least one.
pub fn heavy_share(connections: u32) -> usize {
    (connections as usize * 3 / 4).max(1)
}

/// The origin (`scheme://host:port`) requests must come from.
#[derive(Clone, Debug)]
pub struct AllowedOrigin(pub String);

impl AllowedOrigin {
    /// The origin of the public URL.
    pub fn from_public_url(url: &Url) -> Self {
        Self(url.origin().ascii_serialization())
    }
}

/// Requests of one stack in flight at once; more get 429. Pages of one stack mostly touch the same index pages, so
/// more parallelism only queues them on row locks while holding connections other stacks need.
pub const PER_STACK_IN_FLIGHT: usize = 4;

/// Per-stack request slots.
#[derive(Default)]
pub struct InFlight(Mutex<HashMap<Uuid, Arc<Semaphore>>>);

impl InFlight {
    /// A slot for a request of `stack`, if it has one free.
    pub fn try_acquire(&self, stack: Uuid) -> Option<OwnedSemaphorePermit> {
        let sem = self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(stack)
            .or_insert_with(|| Arc::new(Semaphore::new(PER_STACK_IN_FLIGHT)))
            .clone();
        sem.try_acquire_owned().ok()
    }
}
