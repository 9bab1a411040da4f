//! `stackbill recon import --partner P FILE`: a partner's Partner Center reconciliation file of a month (DOMAIN §7).
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::Actor;

use super::billing::refused;

/// `stackbill recon …`
#[derive(Debug, Subcommand)]
pub enum ReconCommand {
    /// Import Partner Center's daily rated usage reconciliation CSV of one month, all or nothing; Azure Stack Hub
    /// lines are kept, other lines counted and set aside; a re-import of the month replaces the earlier one.
    Import {
        /// The partner's Partner ID.
        #[arg(long)]
        partner: String,
        /// The CSV file, as Partner Center exports it.
        file: PathBuf,
    },
}

impl ReconCommand {
    /// Runs it; prints what the import did.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let ReconCommand::Import { partner, file } = self;
        let id = Uuid::parse_str(partner.trim()).with_context(|| format!("--partner: “{partner}” is not a GUID"))?;
        anyhow::ensure!(app::partners::db::exists(pool, id).await?, "--partner: no partner has the Partner ID {id}");
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let parsed = app::recon::parse::parse_recon(&text).map_err(|e| refused("reconciliation file", &file, e))?;
        let name = file.file_name().map_or_else(|| "recon.csv".into(), |n| n.to_string_lossy().into_owned());
        let mut tx = pool.begin().await?;
        let s = app::recon::db::import(&mut tx, &Actor::command_line(), id, &name, &parsed)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        tx.commit().await?;
        println!("{s}");
        Ok(())
    }
}
