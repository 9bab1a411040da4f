//! Charges (PRODUCT §4): usage routed to billing subscriptions and rated, kept current by the database as usage
//! arrives (see migration `create_charges`). This module re-rates when routing or prices change.
#[cfg(feature = "ssr")]
pub mod db;
