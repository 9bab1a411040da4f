//! The usage collector: reads usage straight from a stack's provider usage API (DOMAIN §1.2) instead of waiting for
//! pages pushed to the ingest API.
pub mod client;
pub mod outbound;
mod pager;
pub mod run;
