//! Validated domain types shared by the server and the browser (STYLE L4).
mod role;

pub use role::Role;
