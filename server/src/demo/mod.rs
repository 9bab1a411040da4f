//! `stackbill demo`: a realistic, idempotent demo data set.
//!
//! Configuration (partners, directory, stacks, registrations, mappings) is created once; a second run finds the
//! demo partners and leaves it alone. Usage covers the 60 whole UTC days before today and today's hours up to the
//! last whole hour (so the dashboard and the explorer have usage on the 1st of a month too): running it again in
//! the same hour changes nothing, and later it only adds the hours since, like stacks that keep reporting.
mod billing;
mod directory;
mod recon;
mod reference;
mod usage;

use anyhow::Context;
use sqlx::PgPool;
use uuid::Uuid;

pub use directory::{CONTOSO, FABRIKAM};

/// Makes a demo GUID from a family prefix and a number, so every ID in the demo is stable across runs.
pub fn guid(prefix: u32, n: u64) -> Uuid {
    Uuid::from_u128(((prefix as u128) << 96) | (0x4000_8000_u128 << 48) | n as u128)
}

/// What a run added.
#[derive(Debug, Default)]
pub struct Summary {
    /// Local meters added to the catalogue.
    pub meters: u64,
    /// Price-list rows added.
    pub prices: u64,
    /// Whether partners, directory, stacks and registrations were created by this run.
    pub created_configuration: bool,
    /// Usage records added.
    pub usage_records: u64,
    /// Bills finalised.
    pub bills_finalised: u64,
    /// Lines of Microsoft's reconciliation file of last month imported.
    pub recon_lines: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = if self.created_configuration { "created" } else { "already present" };
        write!(
            f,
            "demo data: {} meters and {} prices added; partners, directory, stacks and registrations {config}; {} usage records added; {} bills finalised; {} lines of Microsoft's reconciliation file imported",
            self.meters, self.prices, self.usage_records, self.bills_finalised, self.recon_lines
        )
    }
}

/// Loads the demo in one transaction, as of now: all of it, or nothing.
pub async fn load(pool: &PgPool) -> anyhow::Result<Summary> {
    load_at(pool, app::domain::clock::now()).await
}

/// Loads the demo as of `now`.
pub async fn load_at(pool: &PgPool, now: time::OffsetDateTime) -> anyhow::Result<Summary> {
    let mut tx = pool.begin().await?;
    let now_text = now.format(&time::format_description::well_known::Rfc3339)?;
    sqlx::query("select set_config('stackbill.demo_now', $1, true)").bind(now_text).execute(&mut *tx).await?;
    let mut summary = Summary {
        meters: reference::load_meters(&mut tx).await.context("meter catalogue")?,
        prices: reference::load_prices(&mut tx).await.context("price list")?,
        ..Summary::default()
    };
    reference::load_meter_map(&mut tx).await.context("meter map")?;
    summary.created_configuration = directory::load(&mut tx).await.context("partners, directory and stacks")?;
    summary.usage_records = usage::load(&mut tx).await.context("usage")?;
    if summary.created_configuration {
        summary.bills_finalised = billing::load(&mut tx, now).await.context("bills")?;
        summary.recon_lines = recon::load(&mut tx, now).await.context("reconciliation")?;
    }
    tx.commit().await?;
    Ok(summary)
}
