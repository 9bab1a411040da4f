//! Registrations and tenant subscriptions (PRODUCT §3).
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod mappings;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod writes;
