//! Stackbill's pages and server functions: rendered on the server (`ssr`) and hydrated in the browser (`hydrate`).
#![recursion_limit = "256"]

pub mod audit;
pub mod auth;
pub mod bills;
pub mod charges;
pub mod charts;
pub mod collector;
pub mod customers;
pub mod dashboard;
#[cfg(feature = "ssr")]
pub mod db;
pub mod directory;
pub mod domain;
pub mod error;
pub mod explorer;
#[cfg(feature = "ssr")]
pub mod form_routes;
pub mod home;
pub mod keys;
pub mod layout;
pub mod local_subscriptions;
pub mod operator;
pub mod paging;
pub mod partners;
pub mod pricing;
pub mod recon;
pub mod registrations;
#[cfg(feature = "ssr")]
pub mod rows;
pub mod shell;
pub mod sorting;
pub mod stacks;
pub mod usage;
pub mod web;
pub mod webhooks;

pub use error::AppError;

/// Entry point of the WebAssembly bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(shell::App);
}
