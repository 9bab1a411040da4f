//! Registrations and tenant subscriptions (PRODUCT §3).
pub mod rules;
