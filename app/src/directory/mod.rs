//! The commerce directory: Azure subscriptions, their offer type, billing partner and customer (PRODUCT §2).
pub mod db;
pub mod import;
