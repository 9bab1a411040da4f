//! `stackbill meters import`, `prices import` and `bills export`: the operator page's imports and the bills CSV.
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use app::audit::Actor;
use app::bills::db::Period;
use app::directory::import::RowError;

fn refused(what: &str, file: &std::path::Path, errors: Vec<RowError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {}: {e}", file.display())).collect();
    anyhow::anyhow!("the {what} was refused; nothing was stored:\n{}", lines.join("\n"))
}

/// `stackbill meters …`
#[derive(Debug, Subcommand)]
pub enum MetersCommand {
    /// Import the meter map (Local Meter ID,Commerce Meter ID,Factor), all or nothing; open periods are re-rated.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `stackbill prices …`
#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Import a price list CSV (Azure Stack rows only), all or nothing; open periods are re-rated.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

impl MetersCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let MetersCommand::Import { file } = self;
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let rows = app::pricing::import::parse_meter_map(&text).map_err(|e| refused("meter map", &file, e))?;
        let mut tx = pool.begin().await?;
        let s = app::pricing::db::import_meter_map(&mut tx, &Actor::command_line(), &rows).await?;
        tx.commit().await?;
        println!("meter map: {s}");
        Ok(())
    }
}

impl PricesCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let PricesCommand::Import { file } = self;
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let prices = app::pricing::import::parse_prices(&text).map_err(|e| refused("price list", &file, e))?;
        let mut tx = pool.begin().await?;
        let s = app::pricing::db::import_prices(&mut tx, &Actor::command_line(), &prices).await?;
        tx.commit().await?;
        println!("price list: {s}");
        Ok(())
    }
}

/// `stackbill bills …`
#[derive(Debug, Subcommand)]
pub enum BillsCommand {
    /// Write a partner's bill lines of a month as CSV on stdout (the header of PRODUCT §6).
    Export {
        /// The partner's Partner ID.
        #[arg(long)]
        partner: String,
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        period: String,
        /// Only this customer (billing subscription ID).
        #[arg(long)]
        customer: Option<String>,
    },
}

impl BillsCommand {
    /// Streams the CSV to stdout.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let BillsCommand::Export { partner, period, customer } = self;
        let partner =
            Uuid::parse_str(partner.trim()).with_context(|| format!("--partner: “{partner}” is not a GUID"))?;
        let period = Period::parse(&period).context("--period")?;
        let only = customer
            .map(|c| Uuid::parse_str(c.trim()).with_context(|| format!("--customer: “{c}” is not a GUID")))
            .transpose()?;
        let known: bool = sqlx::query_scalar("select exists (select 1 from partners where partner_id = $1)")
            .bind(partner)
            .fetch_one(pool)
            .await?;
        anyhow::ensure!(known, "--partner: no partner has the Partner ID {partner}");
        let (send, mut receive) = mpsc::channel(4);
        let pool = pool.clone();
        let writer = tokio::spawn(async move { crate::bills_export::write(&pool, partner, period, only, &send).await });
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = receive.recv().await {
            out.write_all(&chunk?)?;
        }
        out.flush()?;
        writer.await??;
        Ok(())
    }
}
