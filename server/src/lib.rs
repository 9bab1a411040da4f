//! The Stackbill server: configuration, database, sign-in, routing and the command line.
pub mod auth_routes;
pub mod cli;
mod cli_registry;
pub mod config;
pub mod database;
pub mod demo;
pub mod forms;
pub mod ingest;
pub mod oidc;
pub mod operator_forms;
pub mod pg;
pub mod security;
pub mod startup;
pub mod state;
pub mod telemetry;
