//! Uploading usage files (PRODUCT §5), shared by the stack page and `stackbill usage upload`: a usage API JSON page,
//! the CSV of AzureStack-Tools' Usagesummary script, or the stack's list of local subscriptions (JSON). Each file is
//! stored whole in one transaction or refused whole with its bad rows named. A CSV is streamed: a reader thread
//! parses it in chunks while this task stages the previous chunk in a temporary table, so memory stays flat however
//! long the file and the stack's usage is locked only by the final statement that stores the staged records.
use std::io::Read;
use std::path::Path;

use serde_json::json;
use sqlx::PgPool;
use tokio::sync::mpsc;

use app::audit::db::{record, Event};
use app::audit::Actor;
use app::domain::number;
use app::local_subscriptions::db::{store_list, ListSummary};
use app::registrations::db::StackRef;
use app::usage::db::{apply_staged, store_reported_page, PageSummary};
use app::usage::parse::{parse_page, RecordError, UsageRecord};
use app::usage::usagesummary::{looks_like_json, UsageSummaryReader};
use app::AppError;

/// Records per statement when storing a CSV.
const CHUNK: usize = 5_000;
/// Problems reported per file at most.
const MAX_ERRORS: usize = 100;

/// What kind of file an upload turned out to be, named in its outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileKind {
    /// AzureStack-Tools' `Usagesummary.ps1` output.
    #[default]
    UsageCsv,
    /// One page of the usage API (`{"value":[…]}` of usage records).
    UsagePage,
    /// The stack's local subscriptions (`{"value":[…]}` or an array).
    SubscriptionList,
}

impl FileKind {
    fn label(self) -> &'static str {
        match self {
            Self::UsageCsv => "Usagesummary CSV",
            Self::UsagePage => "usage API page, JSON",
            Self::SubscriptionList => "local subscription list, JSON",
        }
    }
}

/// What one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOutcome {
    /// What the file was read as.
    pub kind: FileKind,
    /// Records read.
    pub records: u64,
    /// New, changed and unchanged records (all zero when refused).
    pub stored: PageSummary,
    /// Records refused (the whole file is then refused).
    pub refused: u64,
    /// Why, by record or line and field (at most 100).
    pub errors: Vec<RecordError>,
    /// Set when the file was the stack's list of local subscriptions rather than usage.
    pub subscriptions: Option<ListSummary>,
}

impl FileOutcome {
    /// One line for people: "page.json (usage API page, JSON): 1,234 records: 1,200 new, 34 changed, 0 unchanged",
    /// or the refusal with its bad rows.
    pub fn describe(&self, name: &str) -> String {
        let name = format!("{name} ({})", self.kind.label());
        let records = |n| number::count(n, "record", "records");
        let counts = |new: u64, changed: u64, unchanged: u64| {
            let n = |v: u64| number::grouped(v.into());
            format!("{} new, {} changed, {} unchanged", n(new), n(changed), n(unchanged))
        };
        if self.refused > 0 || !self.errors.is_empty() {
            let lines: Vec<String> = self.errors.iter().map(describe_error).collect();
            let bad = format!("{} of {} bad", number::grouped(self.refused.into()), records(self.records));
            format!("{name}: refused, nothing stored ({bad}):\n{}", lines.join("\n"))
        } else if let Some(s) = self.subscriptions {
            format!("{name}: {}", counts(s.new, s.changed, s.unchanged))
        } else {
            let s = self.stored;
            format!("{name}: {}: {}", records(self.records), counts(s.new, s.changed, s.unchanged))
        }
    }
}

fn describe_error(e: &RecordError) -> String {
    match (e.line, e.index) {
        (Some(line), _) => format!("  line {line}, {}: {}", e.field, e.message),
        (None, Some(i)) => format!("  record {i}, {}: {}", e.field, e.message),
        (None, None) => format!("  {}: {}", e.field, e.message),
    }
}

/// A reader that reports how many bytes have gone through it.
struct Counting<R, F> {
    inner: R,
    progress: F,
}

impl<R: Read, F: FnMut(u64)> Read for Counting<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

enum Chunk {
    Records(Vec<UsageRecord>),
    Refused { rows: u64, errors: Vec<RecordError> },
    Done { records: u64 },
}

/// What an upload is of: the stack, and the reported hour its usage was reported in (PRODUCT §4 R10), if the file
/// is one reported hour's query; without one its records are totals that replace.
pub struct Target<'a> {
    /// The stack.
    pub stack: &'a StackRef,
    /// The start of the reported hour.
    pub reported: Option<time::OffsetDateTime>,
}

/// Uploads one file for a stack; `progress` gets the bytes read as they are read.
pub async fn upload_file(
    pool: &PgPool,
    actor: &Actor,
    target: Target<'_>,
    path: &Path,
    name: &str,
    progress: impl FnMut(u64) + Send + 'static,
) -> Result<FileOutcome, AppError> {
    let Target { stack, reported } = target;
    let file = std::fs::File::open(path).map_err(|e| AppError::Validation(format!("{name}: cannot open: {e}")))?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, Counting { inner: file, progress });
    let head = std::io::BufRead::fill_buf(&mut reader).map_err(|e| AppError::Validation(format!("{name}: {e}")))?;
    if is_blank(head) {
        return Err(AppError::Validation(format!("{name}: the file is empty; nothing stored")));
    }
    // One transaction per file: its records and its audit event are stored together, or (refused) not at all.
    let mut conn = pool.acquire().await?;
    app::stacks::db::refuse_if_archived(&mut conn, stack.stack_id, &stack.name).await?;
    if looks_like_json(head) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let outcome = json_page(&mut tx, stack, reader, name, reported).await?;
        return settle(tx, actor, stack, name, outcome).await;
    }
    // A CSV is staged first (a temporary table: no locks on the stack's usage while the file is read), then stored
    // in one statement of a short transaction.
    app::usage::db::begin_staging(&mut conn).await?;
    let result = async {
        let mut outcome = stage_csv(&mut conn, reader).await?;
        if !outcome.errors.is_empty() {
            return Ok(outcome);
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        outcome.stored = apply_staged(&mut tx, stack.partner_id, stack.stack_id, reported).await?;
        settle(tx, actor, stack, name, outcome).await
    }
    .await;
    // Whatever happened; a table left behind is dropped by the connection's next upload anyway.
    if let Err(e) = app::usage::db::end_staging(&mut conn).await {
        tracing::warn!(error = %e, "could not drop an upload's staging table");
    }
    result
}

/// Whether a file's start holds nothing but an optional BOM and white space (a file is read in 256 KiB: a longer
/// run of white space counts as content, and is refused by its reader).
fn is_blank(head: &[u8]) -> bool {
    head.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(head).iter().all(u8::is_ascii_whitespace)
}

/// Commits the file with its audit event, or rolls it back when refused.
async fn settle(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    actor: &Actor,
    stack: &StackRef,
    name: &str,
    mut outcome: FileOutcome,
) -> Result<FileOutcome, AppError> {
    if outcome.errors.is_empty() {
        audit(&mut tx, actor, stack, name, &outcome).await?;
        tx.commit().await?;
    } else {
        outcome.stored = PageSummary::default();
        tx.rollback().await?;
    }
    Ok(outcome)
}

async fn audit(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    stack: &StackRef,
    name: &str,
    o: &FileOutcome,
) -> Result<(), AppError> {
    let (action, after) = match o.subscriptions {
        Some(s) => (
            "subscriptions.sync",
            json!({ "file": name, "new": s.new, "changed": s.changed, "unchanged": s.unchanged }),
        ),
        None => (
            "usage.upload",
            json!({ "file": name, "records": o.records, "new": o.stored.new, "changed": o.stored.changed,
                    "unchanged": o.stored.unchanged }),
        ),
    };
    let event = Event {
        partner_id: Some(stack.partner_id),
        action,
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: None,
        after: Some(after),
    };
    record(conn, actor, event).await
}

async fn json_page(
    conn: &mut sqlx::PgConnection,
    stack: &StackRef,
    reader: impl Read,
    name: &str,
    reported: Option<time::OffsetDateTime>,
) -> Result<FileOutcome, AppError> {
    let mut text = String::new();
    let limit = crate::http::security::MAX_BODY as u64;
    reader
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| AppError::Validation(format!("{name}: not UTF-8 text: {e}")))?;
    if text.len() as u64 > limit {
        return Err(AppError::Validation(format!("{name}: a JSON page may be at most 16 MiB; split it into pages")));
    }
    let text = text.trim_start_matches('\u{feff}');
    match parse_page(text) {
        // A usage page's entries have `properties`; a subscription list's have `subscriptionId` and `tenantId`, so a
        // file is never both.
        Err(errors) => match app::local_subscriptions::parse::parse_list(text) {
            Ok(list) if !list.is_empty() => {
                let s = store_list(conn, stack.partner_id, stack.stack_id, list).await?;
                Ok(FileOutcome { kind: FileKind::SubscriptionList, subscriptions: Some(s), ..FileOutcome::default() })
            }
            // Not a page at all (its errors name no record): say what the file would have to be.
            _ if errors.iter().all(|e| e.index.is_none()) => Err(AppError::Validation(format!(
                "{name}: a JSON file, but neither a usage API page ({{\"value\":[…]}} of usage records with \
                 `properties`) nor a list of local subscriptions (`subscriptionId`, `tenantId`); nothing stored"
            ))),
            _ => {
                let refused = errors.iter().filter_map(|e| e.index).collect::<std::collections::BTreeSet<_>>().len();
                let kind = FileKind::UsagePage;
                Ok(FileOutcome { kind, refused: refused as u64, errors, ..FileOutcome::default() })
            }
        },
        Ok(records) => {
            let count = records.len() as u64;
            let stored = store_reported_page(conn, stack.partner_id, stack.stack_id, &records, reported).await?;
            Ok(FileOutcome { kind: FileKind::UsagePage, records: count, stored, ..FileOutcome::default() })
        }
    }
}

/// Reads a Usagesummary CSV into the staging table (in chunks, while the next chunk is parsed); the outcome without
/// what was stored.
async fn stage_csv(conn: &mut sqlx::PgConnection, reader: impl Read + Send + 'static) -> Result<FileOutcome, AppError> {
    let (send, mut receive) = mpsc::channel::<Chunk>(2);
    let parser = tokio::task::spawn_blocking(move || parse_csv(reader, &send));
    let mut outcome = FileOutcome::default();
    while let Some(chunk) = receive.recv().await {
        match chunk {
            // Once a row is bad the file is refused: stop writing, keep reading to report every bad row.
            Chunk::Records(records) if outcome.errors.is_empty() => app::usage::db::stage(conn, records).await?,
            Chunk::Records(_) => {}
            Chunk::Refused { rows, mut errors } => {
                outcome.refused += rows;
                let room = MAX_ERRORS.saturating_sub(outcome.errors.len());
                errors.truncate(room);
                outcome.errors.append(&mut errors);
            }
            Chunk::Done { records } => outcome.records = records,
        }
    }
    parser.await.map_err(|e| AppError::Validation(format!("the file could not be read: {e}")))?;
    Ok(outcome)
}

fn parse_csv(reader: impl Read, send: &mpsc::Sender<Chunk>) {
    let rows = match UsageSummaryReader::new(reader) {
        Ok(rows) => rows,
        Err(e) => {
            let _ = send.blocking_send(Chunk::Refused { rows: 1, errors: vec![e] });
            return;
        }
    };
    let (mut batch, mut count) = (Vec::with_capacity(CHUNK), 0u64);
    for row in rows {
        count += 1;
        match row {
            Ok(r) => batch.push(r),
            Err(errors) => {
                if send.blocking_send(Chunk::Refused { rows: 1, errors }).is_err() {
                    return;
                }
            }
        }
        if batch.len() == CHUNK && send.blocking_send(Chunk::Records(std::mem::take(&mut batch))).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = send.blocking_send(Chunk::Records(batch));
    }
    let _ = send.blocking_send(Chunk::Done { records: count });
}

/// A temporary file for an upload, removed when dropped.
pub struct Spool(std::path::PathBuf);

impl Spool {
    /// A new, unique path in the system's temporary directory.
    pub fn new() -> Self {
        Self(std::env::temp_dir().join(format!("stackbill-upload-{}", uuid::Uuid::new_v4())))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for Spool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
