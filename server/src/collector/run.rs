//! Running collectors: a scheduler claims due collectors (so two servers never run the same one at once), and each
//! run reads the stack's subscriptions, then its usage one whole reported hour at a time, from the watermark minus an
//! overlap (the usage API can show a report some time after its reported time) up to the current whole hour. Each
//! page is stored whole in its own transaction with the reported hour it came from, so a usage hour reported in
//! pieces adds up and reading a reported hour again replaces only that hour's part (PRODUCT §4 R10). Only a complete
//! run moves the watermark; a failed one is retried later from the same place. Every run, failed ones included,
//! leaves an audit event.
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use app::collector::runs::RunSettings;
use app::collector::AuthKind;
use app::domain::outbound::Outbound;
use app::domain::secrets::SecretKey;
use app::usage::db::PageSummary;
use app::AppError;

use super::client::{Credentials, RetryPolicy, UsageApi};

/// How collectors are run.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// How often the scheduler looks for due collectors.
    pub tick: Duration,
    /// Time between successful runs of one collector.
    pub every: Duration,
    /// Time before a failed run is tried again.
    pub retry_after: Duration,
    /// How far before the watermark each run reads again (reports the API shows late), idempotently.
    pub overlap: Duration,
    /// Back-off for busy answers within a run.
    pub retry: RetryPolicy,
    /// The longest one run may take; a slow or hostile endpoint delays only its own stack, and only this long.
    pub deadline: Duration,
    /// Collectors run at once.
    pub concurrent: usize,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(60),
            every: Duration::from_secs(3600),
            retry_after: Duration::from_secs(15 * 60),
            overlap: Duration::from_secs(3 * 3600),
            retry: RetryPolicy::default(),
            deadline: Duration::from_secs(30 * 60),
            concurrent: 8,
        }
    }
}

/// What one run stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Usage pages read.
    pub pages: u64,
    /// Usage records: new, changed and unchanged.
    pub usage: PageSummary,
    /// Local subscriptions read.
    pub subscriptions: u64,
}

impl RunSummary {
    fn text(&self) -> String {
        format!(
            "({} pages: {} new, {} changed, {} unchanged records; {} subscriptions)",
            self.pages, self.usage.new, self.usage.changed, self.usage.unchanged, self.subscriptions
        )
    }
}

/// What a run reaches the outside with: the client that keeps to the outbound rules, the rules themselves (for the
/// addresses as stored) and the key the credentials are sealed with.
#[derive(Clone)]
pub struct Reach {
    /// Built by [`super::outbound::client`] from `rules`.
    pub http: reqwest::Client,
    /// The operator's outbound rules.
    pub rules: Outbound,
    /// Opens the stored credentials.
    pub key: Arc<SecretKey>,
}

impl Reach {
    /// A client keeping to `rules`; each request ends after the usage API's own deadline
    /// (`client::REQUEST_TIMEOUT`, 5 minutes), and a whole run at [`Schedule::deadline`].
    pub fn new(rules: Outbound, key: Arc<SecretKey>) -> anyhow::Result<Self> {
        let http = super::outbound::client(rules.clone(), Duration::from_secs(300))?;
        Ok(Self { http, rules, key })
    }
}

/// Runs due collectors every `schedule.tick`, for as long as the server runs: up to `schedule.concurrent` at once,
/// each within `schedule.deadline`, so one slow endpoint holds up only its own stack.
pub async fn run_forever(pool: PgPool, reach: Reach, schedule: Schedule) {
    let mut tick = tokio::time::interval(schedule.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let slots = Arc::new(tokio::sync::Semaphore::new(schedule.concurrent));
    loop {
        tick.tick().await;
        let due = match claim_due(&pool, schedule, slots.available_permits()).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for due collectors");
                continue;
            }
        };
        for stack in due {
            let Ok(slot) = slots.clone().acquire_owned().await else { return };
            let (pool, reach) = (pool.clone(), reach.clone());
            tokio::spawn(async move {
                if let Err(e) = collect_once(&pool, &reach, stack, app::domain::clock::now(), schedule).await {
                    tracing::warn!(%stack, error = %e, "collector run failed");
                }
                drop(slot);
            });
        }
    }
}

/// Claims the due collectors for this server: their next run moves past the time one run can take, so another
/// server's scheduler skips them (`skip locked` keeps two schedulers from waiting on each other).
pub async fn claim_due(pool: &PgPool, schedule: Schedule, at_most: usize) -> Result<Vec<Uuid>, AppError> {
    app::collector::runs::claim_due(pool, schedule.retry_after.max(schedule.deadline), at_most).await
}

struct Target {
    partner_id: Uuid,
    cloud_id: Uuid,
    api: UsageApi,
    watermark: OffsetDateTime,
}

async fn target(pool: &PgPool, reach: &Reach, stack: Uuid, retry: RetryPolicy) -> Result<Target, String> {
    let RunSettings {
        partner_id,
        cloud_id,
        endpoint,
        provider_subscription: sub,
        auth_kind: kind,
        bearer_token: token,
        token_url,
        client_id,
        client_secret: secret,
        scope,
        watermark,
    } = app::collector::runs::run_settings(pool, stack)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the collector was removed")?;
    // Checked again when used: the rules may have changed since the address was saved.
    let checked = |what: &str, u: &str| {
        let url = Url::parse(u).map_err(|_| format!("the {what} is not a URL"))?;
        reach.rules.check_url(&url).map_err(|e| format!("the {what} is refused: {e}"))?;
        Ok::<_, String>(url)
    };
    let endpoint = checked("endpoint", &endpoint.unwrap_or_default())?;
    let open = |sealed: String| reach.key.open(&sealed).map(SecretString::from).map_err(|e| e.to_string());
    let credentials = match (kind, token, token_url, client_id, secret, scope) {
        (AuthKind::Bearer, Some(t), ..) => Credentials::Bearer(open(t)?),
        (AuthKind::ClientCredentials, _, Some(u), Some(id), Some(secret), Some(scope)) => {
            Credentials::ClientCredentials {
                token_url: checked("token endpoint", &u)?,
                client_id: id,
                client_secret: open(secret)?,
                scope,
            }
        }
        _ => return Err("the collector's credentials are incomplete".into()),
    };
    let api = UsageApi::new(reach.http.clone(), endpoint, sub, credentials, retry);
    Ok(Target { partner_id, cloud_id, api, watermark })
}

fn floor_hour(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_minute(0).and_then(|t| t.replace_second(0)).and_then(|t| t.replace_nanosecond(0)).unwrap_or(t)
}

/// Runs one collector now and records the outcome on it (shown on the stack page).
pub async fn collect_once(
    pool: &PgPool,
    reach: &Reach,
    stack: Uuid,
    now: OffsetDateTime,
    schedule: Schedule,
) -> Result<RunSummary, String> {
    let result = match target(pool, reach, stack, schedule.retry).await {
        Ok(t) => match tokio::time::timeout(schedule.deadline, run(pool, stack, &t, now, schedule)).await {
            Ok(outcome) => outcome.map(|s| (t, s)),
            Err(_) => Err(format!(
                "the run took longer than {} seconds and was stopped; what it stored is kept and the next run \
                 continues from the last complete one",
                schedule.deadline.as_secs()
            )),
        },
        Err(e) => Err(e),
    };
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let recorded = match &result {
        Ok((t, summary)) => {
            let text = summary.text();
            let shown = json!({ "text": text, "pages": summary.pages, "new": summary.usage.new,
                                "changed": summary.usage.changed, "unchanged": summary.usage.unchanged });
            let owner = (stack, t.partner_id, t.cloud_id);
            app::collector::runs::record_success(&mut tx, owner, floor_hour(now), shown, schedule.every).await
        }
        Err(message) => app::collector::runs::record_failure(&mut tx, stack, message, schedule.retry_after).await,
    };
    recorded.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    result.map(|(_, summary)| summary)
}

async fn run(
    pool: &PgPool,
    stack: Uuid,
    t: &Target,
    now: OffsetDateTime,
    schedule: Schedule,
) -> Result<RunSummary, String> {
    let mut summary = RunSummary::default();
    let mut subs = t.api.subscriptions();
    while let Some(body) = subs.next().await.map_err(|e| e.to_string())? {
        let list = app::local_subscriptions::parse::parse_list(&body).map_err(|e| refused("subscription list", &e))?;
        summary.subscriptions += list.len() as u64;
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        app::local_subscriptions::db::store_list(&mut tx, t.partner_id, stack, list)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let to = floor_hour(now);
    let mut hour = floor_hour(t.watermark - schedule.overlap).min(to - time::Duration::HOUR);
    while hour < to {
        collect_hour(pool, stack, t, hour, &mut summary).await?;
        hour += time::Duration::HOUR;
    }
    Ok(summary)
}

/// Reads and stores the usage reported in one reported hour; pages without records are not counted.
async fn collect_hour(
    pool: &PgPool,
    stack: Uuid,
    t: &Target,
    hour: OffsetDateTime,
    summary: &mut RunSummary,
) -> Result<(), String> {
    let mut pages = t.api.usage(hour, hour + time::Duration::HOUR);
    while let Some(body) = pages.next().await.map_err(|e| e.to_string())? {
        let records = app::usage::parse::parse_page(&body).map_err(|e| refused("usage page", &e))?;
        if records.is_empty() {
            continue;
        }
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        let s = app::usage::db::store_reported_page(&mut tx, t.partner_id, stack, &records, Some(hour))
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        summary.pages += 1;
        summary.usage.new += s.new;
        summary.usage.changed += s.changed;
        summary.usage.unchanged += s.unchanged;
    }
    Ok(())
}

/// Names where the first problem is, not what it is: parse messages quote values, and these values came from a
/// server a partner pointed us at.
fn refused(what: &str, errors: &[app::usage::parse::RecordError]) -> String {
    let first = errors.first().map(|e| match e.index {
        Some(i) => format!("record {i}, {}", e.field),
        None => e.field.clone(),
    });
    format!(
        "the stack sent a {what} Stackbill refuses ({} problems; the first in {})",
        errors.len(),
        first.unwrap_or_default()
    )
}
