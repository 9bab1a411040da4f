//! Meter map and price lists (PRODUCT §2, §4): operator imports, all or nothing, versioned prices.
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod writes;
