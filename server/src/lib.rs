//! The Stackbill server: configuration, database, sign-in, routing and the command line.
pub mod bills_export;
pub mod cli;
pub mod collector;
pub mod config;
pub mod database;
pub mod demo;
pub mod http;
pub mod oidc;
pub mod pg;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod usage_files;
pub mod webhooks;
