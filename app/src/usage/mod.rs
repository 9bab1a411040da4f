//! Usage in: parsing usage API pages and storing them whole, idempotently (PRODUCT §5).
#[cfg(feature = "ssr")]
pub(crate) mod culture_dates;
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
pub mod panel;
#[cfg(feature = "ssr")]
pub mod parse;
#[cfg(feature = "ssr")]
pub mod usagesummary;

#[cfg(all(test, feature = "ssr"))]
mod fuzz_tests;
