//! `stackbill usage upload` and `stackbill subscriptions upload`: the same code as the stack page's upload and the
//! ingest API, with a progress bar on stderr (hidden when stderr is not a terminal) and a summary on stdout.
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use uuid::Uuid;

use app::audit::db::{record, Event};
use app::audit::Actor;
use app::auth::Scope;
use app::registrations::db::{stack_by_cloud_id, StackRef};

async fn stack(pool: &PgPool, cloud_id: &str) -> anyhow::Result<StackRef> {
    let cloud = Uuid::parse_str(cloud_id.trim()).with_context(|| format!("--stack: “{cloud_id}” is not a GUID"))?;
    let mut conn = pool.acquire().await?;
    stack_by_cloud_id(&mut conn, Scope::All, cloud).await.context("--stack: no stack has this cloud ID")
}

fn target(stack: &StackRef, reported: Option<time::OffsetDateTime>) -> crate::usage_files::Target<'_> {
    crate::usage_files::Target { stack, reported }
}

/// `stackbill usage …`
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Upload usage API JSON pages or Usagesummary CSV files; each file is stored whole or refused whole.
    Upload {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// The start of the reported hour the files are the query of (RFC 3339, a whole hour): their usage adds to
        /// other reported hours' parts (PRODUCT §4 R10). Without it the files hold totals that replace.
        #[arg(long)]
        reported_hour: Option<String>,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

impl UsageCommand {
    /// Uploads every file (one refused file does not stop the others) and fails if any was refused.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let UsageCommand::Upload { stack: cloud_id, reported_hour, files } = self;
        let stack = stack(pool, &cloud_id).await?;
        let reported = reported_hour
            .map(|t| {
                let at = time::OffsetDateTime::parse(t.trim(), &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("--reported-hour: “{t}” is not an RFC 3339 time"))?;
                Ok::<_, anyhow::Error>(app::usage::parse::whole_hour("--reported-hour", at)?)
            })
            .transpose()?;
        let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("a valid template")
            .progress_chars("=> ");
        let mut refused = 0;
        for file in files {
            let name = file.display().to_string();
            let size = std::fs::metadata(&file).with_context(|| format!("cannot read {name}"))?.len();
            let bar = ProgressBar::new(size).with_style(style.clone()).with_message(name.clone());
            let tick = bar.clone();
            let outcome = crate::usage_files::upload_file(
                pool,
                &Actor::command_line(),
                target(&stack, reported),
                &file,
                &name,
                move |n| tick.inc(n),
            )
            .await;
            bar.finish_and_clear();
            match outcome {
                Ok(o) if o.errors.is_empty() => println!("{}", o.describe(&name)),
                Ok(o) => {
                    refused += 1;
                    eprintln!("{}", o.describe(&name));
                }
                Err(e) => {
                    refused += 1;
                    eprintln!("{name}: {e}");
                }
            }
        }
        anyhow::ensure!(refused == 0, "{refused} file(s) refused; the others were stored");
        Ok(())
    }
}

/// `stackbill subscriptions …`
#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// Upload the stack's local subscriptions (JSON, as the admin API lists them), all or nothing.
    Upload {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// The file.
        file: PathBuf,
    },
}

impl SubscriptionsCommand {
    /// Stores the list in one transaction, audited.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let SubscriptionsCommand::Upload { stack: cloud_id, file } = self;
        let stack = stack(pool, &cloud_id).await?;
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {name}"))?;
        let list =
            app::local_subscriptions::parse::parse_list(text.trim_start_matches('\u{feff}')).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| {
                        format!(
                            "  {name}: subscription {}, {}: {}",
                            e.index.map_or("-".into(), |i| i.to_string()),
                            e.field,
                            e.message
                        )
                    })
                    .collect();
                anyhow::anyhow!("the subscription list was refused; nothing was stored:\n{}", lines.join("\n"))
            })?;
        let mut tx = pool.begin().await?;
        app::stacks::db::refuse_if_archived(&mut tx, stack.stack_id, &stack.name).await?;
        let s = app::local_subscriptions::db::store_list(&mut tx, stack.partner_id, stack.stack_id, list).await?;
        let event = Event {
            partner_id: Some(stack.partner_id),
            action: "subscriptions.sync",
            entity_type: "stack",
            entity_id: stack.cloud_id.to_string(),
            before: None,
            after: Some(
                serde_json::json!({ "file": name, "new": s.new, "changed": s.changed, "unchanged": s.unchanged }),
            ),
        };
        record(&mut tx, &Actor::command_line(), event).await?;
        tx.commit().await?;
        println!("{name}: {} new, {} changed, {} unchanged local subscriptions", s.new, s.changed, s.unchanged);
        Ok(())
    }
}
