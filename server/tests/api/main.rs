//! Integration tests: one binary (STYLE L12), each test on a fresh database from `#[sqlx::test]`.
mod auth;
mod cli;
mod database;
mod demo;
mod directory;
mod fake_idp;
mod helpers;
mod ingest;
mod operator;
mod private_cluster;
mod registrations;
mod rules_http;
mod security;
mod stack_pages;
