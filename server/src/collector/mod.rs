//! The usage collector: reads usage straight from a stack's provider usage API (DOMAIN §1.2) instead of waiting for
//! pages pushed to the ingest API.
pub mod client;
mod failure;
pub mod outbound;
pub mod run;
