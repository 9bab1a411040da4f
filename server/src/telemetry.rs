//! Logging: `tracing` with an `EnvFilter` (`RUST_LOG`), JSON when `LOG_FORMAT=json` (STYLE L13).
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing (tests call it per test).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
