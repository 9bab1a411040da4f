//! `stackbill meters import`, `prices import` and `bills export|list|finalise`: the operator page's imports, the
//! bills CSV, and month-end close from a scheduler.
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use app::audit::Actor;
use app::bills::Bill;
use app::domain::Period;
use app::rows::RowError;

/// The refusal of a file, every problem prefixed with the file's name.
pub(super) fn refused(what: &str, file: &std::path::Path, errors: Vec<RowError>) -> anyhow::Error {
    anyhow::anyhow!(app::rows::refusal(&format!("the {what} was"), &format!("  {}: ", file.display()), &errors))
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

/// Runs the re-rates an import queued (a running portal's worker would too; the command does not wait for it).
async fn rerate_now(pool: &PgPool) -> anyhow::Result<()> {
    let n = app::charges::db::run_queued(pool).await?;
    if n > 0 {
        println!("re-rated {n} stacks");
    }
    Ok(())
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
        rerate_now(pool).await
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
        rerate_now(pool).await
    }
}

/// `stackbill bills …`
#[derive(Debug, Subcommand)]
pub enum BillsCommand {
    /// Write a partner's bill lines of a month as CSV on stdout (the header of PRODUCT §6).
    Export(MonthArgs),
    /// List a partner's bills of a month: customer, status, amount, customer price and warnings (tab-separated).
    List(MonthArgs),
    /// Finalise a partner's bills of a month (or one customer's) with the page's checks and audit; bills already
    /// final are left alone. Exits 1 naming each bill that could not be finalised.
    Finalise(MonthArgs),
}

/// Which bills: a partner's month, or one customer's bill of it.
#[derive(Debug, clap::Args)]
pub struct MonthArgs {
    /// The partner's Partner ID.
    #[arg(long)]
    partner: String,
    /// The month, YYYY-MM (UTC).
    #[arg(long)]
    period: String,
    /// Only this customer (billing subscription ID).
    #[arg(long)]
    customer: Option<String>,
}

/// The partner, period and customer arguments read and checked (the partner must exist).
async fn month_args(pool: &PgPool, args: &MonthArgs) -> anyhow::Result<(Uuid, Period, Option<Uuid>)> {
    let MonthArgs { partner, period, customer } = args;
    let id = Uuid::parse_str(partner.trim()).with_context(|| format!("--partner: “{partner}” is not a GUID"))?;
    let period = Period::parse(period).context("--period")?;
    let only = customer
        .as_deref()
        .map(|c| Uuid::parse_str(c.trim()).with_context(|| format!("--customer: “{c}” is not a GUID")))
        .transpose()?;
    let known = app::partners::db::exists(pool, id).await?;
    anyhow::ensure!(known, "--partner: no partner has the Partner ID {id}");
    Ok((id, period, only))
}

/// What a partner should look at before sending a bill.
fn warnings(b: &Bill) -> String {
    let mut w = Vec::new();
    if b.lines.iter().any(|l| l.line_type == app::bills::LineType::Adjustment) {
        w.push("adjustments for earlier months".to_string());
    }
    for u in b.uncharged.iter().filter(|u| u.is_unpriced()) {
        w.push(format!("unpriced usage of {} blocks finalising", u.meter_name));
    }
    if !b.fell_through.is_empty() {
        w.push(format!("usage of {} unmapped tenant(s) or unknown subscription(s) fell through", b.fell_through.len()));
    }
    w.join("; ")
}

impl BillsCommand {
    /// Runs it.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        match self {
            BillsCommand::Export(args) => {
                let (partner, period, only) = month_args(pool, &args).await?;
                export(pool, partner, period, only).await
            }
            BillsCommand::List(args) => {
                let (partner, period, only) = month_args(pool, &args).await?;
                anyhow::ensure!(only.is_none(), "--customer: bills list lists every customer of the month");
                list(pool, partner, period).await
            }
            BillsCommand::Finalise(args) => {
                let (partner, period, only) = month_args(pool, &args).await?;
                finalise_month(pool, partner, period, only).await
            }
        }
    }
}

/// Prints the month's bills, one a line, tab-separated, with a header.
async fn list(pool: &PgPool, partner: Uuid, period: Period) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let bills = app::bills::list::bills(&mut conn, partner, period).await?;
    println!("Customer\tSubscription\tStatus\tAmount\tCustomerPrice\tCurrency\tWarnings");
    for b in &bills {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            b.customer_name,
            b.subscription_id,
            b.status,
            b.total_amount,
            b.total_customer_price,
            b.currency,
            warnings(b)
        );
    }
    Ok(())
}

/// Finalises each bill that is not final yet, each in its own transaction (one refusal does not hold back the
/// others); a named customer whose bill is already final, or any refusal, makes the command fail.
async fn finalise_month(pool: &PgPool, partner: Uuid, period: Period, only: Option<Uuid>) -> anyhow::Result<()> {
    let subs = match only {
        Some(sub) => vec![sub],
        None => {
            let mut conn = pool.acquire().await?;
            let bills = app::bills::list::bills(&mut conn, partner, period).await?;
            bills.into_iter().filter(|b| b.status != app::bills::BillStatus::Final).map(|b| b.subscription_id).collect()
        }
    };
    let mut refused = Vec::new();
    for sub in subs {
        let mut tx = pool.begin().await?;
        match app::bills::lifecycle::finalise(&mut tx, &Actor::command_line(), partner, sub, period).await {
            Ok(b) => {
                tx.commit().await?;
                println!("finalised {period} {} ({sub}): {} {}", b.customer_name, b.total_amount, b.currency);
                if !b.fell_through.is_empty() {
                    println!("  note: {}", warnings(&b));
                }
            }
            Err(e) => refused.push(format!("  {period} {sub}: {e}")),
        }
    }
    anyhow::ensure!(refused.is_empty(), "some bills were not finalised:\n{}", refused.join("\n"));
    Ok(())
}

/// Streams the CSV to stdout.
async fn export(pool: &PgPool, partner: Uuid, period: Period, only: Option<Uuid>) -> anyhow::Result<()> {
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
