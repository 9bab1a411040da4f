//! Usage in: parsing usage API pages and storing them whole, idempotently (PRODUCT §5).
pub mod db;
pub mod parse;
