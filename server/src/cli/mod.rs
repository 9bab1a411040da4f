//! The `stackbill` command line (PRODUCT §8). Every command goes through the same domain code and audit log as
//! the pages, with the command line as the actor.
mod billing;
mod recon;
mod registry;
mod usage;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use leptos::config::get_configuration;

use app::audit::Actor;
use app::partners::NewPartner;

use crate::collector::run::Reach;
use crate::config::Settings;
use crate::database::Database;
use crate::startup::Application;

/// Stackbill: usage and billing for Azure Stack Hub CSP partners.
#[derive(Debug, Parser)]
#[command(name = "stackbill", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the portal (its own PostgreSQL when DATABASE_URL is unset).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Load the demo data (idempotent).
    Demo,
    /// Manage partners.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Manage the commerce directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Manage stacks.
    #[command(subcommand)]
    Stack(registry::StackCommand),
    /// Register a stack or change its registration.
    #[command(subcommand)]
    Registration(registry::RegistrationCommand),
    /// Map customer tenants to their subscriptions.
    #[command(subcommand)]
    Tenant(registry::TenantCommand),
    /// Manage ingestion keys.
    #[command(subcommand)]
    Keys(registry::KeysCommand),
    /// Upload usage files.
    #[command(subcommand)]
    Usage(usage::UsageCommand),
    /// Upload a stack's local subscriptions.
    #[command(subcommand)]
    Subscriptions(usage::SubscriptionsCommand),
    /// Import the meter map.
    #[command(subcommand)]
    Meters(billing::MetersCommand),
    /// Import price lists.
    #[command(subcommand)]
    Prices(billing::PricesCommand),
    /// Export bills.
    #[command(subcommand)]
    Bills(billing::BillsCommand),
    /// Import Microsoft's reconciliation files.
    #[command(subcommand)]
    Recon(recon::ReconCommand),
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Import subscriptions from CSV or JSON, all or nothing.
    Import {
        /// The file (CSV with header SubscriptionId,OfferType,BillingPartnerId,CustomerTenantId,CustomerName,Status, or JSON).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// Add a CSP partner.
    Add {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Microsoft Partner ID (GUID).
        #[arg(long)]
        partner_id: String,
        /// MPN ID (digits).
        #[arg(long)]
        mpn_id: String,
        /// The partner organisation's directory tenant ID (GUID), matched against the sign-in claim.
        #[arg(long)]
        tenant: String,
        /// Billing currency (ISO 4217).
        #[arg(long, default_value = "USD")]
        currency: String,
    },
}

impl Cli {
    /// Runs the command; errors end the process with a message on stderr and a non-zero exit.
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = Settings::load()?;
        // The portal's connections have deadlines; an operator's command runs as long as its work takes.
        let deadlines = matches!(self.command, Command::Serve);
        let db = Database::open(&settings.database, deadlines).await?;
        let result = match self.command {
            Command::Serve => serve(settings, &db).await,
            Command::Migrate => {
                println!("migrations applied");
                Ok(())
            }
            Command::Demo => crate::demo::load(&db.pool).await.map(|summary| println!("{summary}")),
            Command::Partner(PartnerCommand::Add { name, partner_id, mpn_id, tenant, currency }) => {
                let new = NewPartner::parse(&name, &partner_id, &mpn_id, &tenant, &currency)?;
                let mut tx = db.pool.begin().await?;
                let p = app::partners::db::add_partner(&mut tx, &Actor::command_line(), &new).await?;
                tx.commit().await?;
                println!("added partner {} ({})", p.name, p.partner_id);
                Ok(())
            }
            Command::Directory(DirectoryCommand::Import { file }) => import_directory(&db, &file).await,
            Command::Stack(c) => c.run(&db.pool).await,
            Command::Registration(c) => c.run(&db.pool).await,
            Command::Tenant(c) => c.run(&db.pool).await,
            Command::Keys(c) => c.run(&db.pool).await,
            Command::Usage(c) => c.run(&db.pool).await,
            Command::Subscriptions(c) => c.run(&db.pool).await,
            Command::Meters(c) => c.run(&db.pool).await,
            Command::Prices(c) => c.run(&db.pool).await,
            Command::Bills(c) => c.run(&db.pool).await,
            Command::Recon(c) => c.run(&db.pool).await,
        };
        // Stop the private cluster (if this process started it) whether or not the command succeeded.
        db.close().await?;
        result
    }
}

async fn import_directory(db: &Database, file: &std::path::Path) -> anyhow::Result<()> {
    use app::directory::{db::import, import::parse};
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let refused = |errors| billing::refused("directory import", file, errors);
    let rows = parse(&text).map_err(refused)?;
    let mut tx = db.pool.begin().await?;
    let summary = import(&mut tx, &Actor::command_line(), &rows).await.map_err(refused)?;
    tx.commit().await?;
    println!("directory import: {} added, {} updated, {} unchanged", summary.added, summary.updated, summary.unchanged);
    Ok(())
}

async fn serve(settings: Settings, db: &Database) -> anyhow::Result<()> {
    let conf = get_configuration(None).context("reading the Leptos configuration (LEPTOS_* variables)")?;
    let mut options = conf.leptos_options;
    // `cargo leptos build` fingerprints the bundle and writes the hashes beside the binary; use them when there.
    options.hash_files |= beside_binary(&options.hash_file).is_some_and(|p| p.exists());
    let addr: SocketAddr = options.site_addr;
    let public_url = settings.public_url.clone();
    let listener = Application::bind(addr).await?;
    let mut conn = db.pool.acquire().await?;
    let sealed = app::collector::db::seal_stored(&mut conn, &settings.secret_key).await?;
    drop(conn);
    if sealed > 0 {
        tracing::info!(sealed, "sealed collector secrets stored before sealing existed");
    }
    let reach = Reach::new(settings.outbound.clone(), std::sync::Arc::new(settings.secret_key.clone()))?;
    let (settings_outbound, settings_key) = (settings.outbound.clone(), settings.secret_key.clone());
    let app = Application::build(listener, settings, options, db.pool.clone())?;
    tokio::spawn(crate::collector::run::run_forever(db.pool.clone(), reach, Default::default()));
    tokio::spawn(rerate_forever(db.pool.clone()));
    tokio::spawn(fold_forever(db.pool.clone()));
    let sender =
        crate::webhooks::Sender::new(settings_outbound, std::sync::Arc::new(settings_key), crate::webhooks::TIMEOUT)?;
    tokio::spawn(crate::webhooks::deliver_forever(db.pool.clone(), sender));
    println!("Stackbill is running at {public_url} (listening on {addr}); Ctrl-C stops it.");
    app.run_until(shutdown_signal()).await
}

/// Every second: runs queued re-rates (price list and meter map imports queue them), stack by stack.
async fn rerate_forever(pool: sqlx::PgPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        match app::charges::db::run_queued(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(stacks = n, "re-rated"),
            Err(e) => tracing::warn!(error = %e, "re-rating failed; tried again in a second"),
        }
    }
}

/// Every second: folds the months whose charges changed into the monthly bill lines. A task of its own, so a long
/// re-rate does not hold the fold back (bills stay right meanwhile, read from the day rows, only slower).
/// Every minute, also forgets the changes that no kept bill page can still need (`http::page_cache`).
async fn fold_forever(pool: sqlx::PgPool) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    for second in 0u64.. {
        tick.tick().await;
        if let Err(e) = app::charges::db::fold_monthly(&pool).await {
            tracing::warn!(error = %e, "folding the monthly bill lines failed; tried again in a second");
        }
        if second % 60 == 0 {
            if let Err(e) = crate::http::page_cache::forget_old_changes(&pool).await {
                tracing::warn!(error = %e, "forgetting old bill changes failed; tried again in a minute");
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// The path of `file` in the server binary's directory.
fn beside_binary(file: &str) -> Option<std::path::PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(file))
}
