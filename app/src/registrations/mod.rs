//! Registrations and tenant subscriptions (PRODUCT §3).
#[cfg(feature = "ssr")]
pub mod db;
pub mod rules;
