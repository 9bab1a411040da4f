//! The commerce directory: Azure subscriptions, their offer type, billing partner and customer (PRODUCT §2).
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod writes;
