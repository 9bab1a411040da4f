//! Delivering webhooks (issue 14, item 3). Each pass claims, per endpoint, its oldest pending delivery when it is due
//! (so an endpoint's events arrive in order, and a slow or failing endpoint holds up only its own), signs it and posts
//! it through the collector's outbound rules. A claim is a lease: the delivery's next attempt moves two minutes on,
//! so a server that dies mid-send leaves it to be tried again. A 2xx answer within [`TIMEOUT`] delivers it; anything
//! else is tried again after 30 s, then twice as long each time (at most 2 hours apart), until a day after the event.
//! Every attempt is logged with its answer.
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use app::domain::outbound::Outbound;
use app::domain::secrets::SecretKey;
use app::AppError;

/// How long an endpoint has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed delivery is left to its sender before it may be claimed again.
const LEASE_SECS: f64 = 120.0;
/// How long deliveries are retried after their event.
const GIVE_UP_AFTER: time::Duration = time::Duration::days(1);
/// Characters of an answer's body kept in the log.
const ANSWER_CHARS: usize = 200;

/// `Stackbill-Signature` of `body` at `t`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most 2 hours.
pub fn backoff(attempts: i32) -> time::Duration {
    let doublings = attempts.clamp(1, 16) - 1;
    time::Duration::seconds((30_i64 << doublings).min(7200))
}

/// A delivery claimed for sending.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    delivery_id: Uuid,
    event: String,
    body: String,
    attempts: i32,
    created_at: OffsetDateTime,
    url: String,
    secret: String,
}

/// What sends: a client under the outbound rules, and the key the endpoints' secrets are sealed with.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    rules: Outbound,
    key: Arc<SecretKey>,
    timeout: Duration,
}

impl Sender {
    /// A sender keeping to `rules`, each request ending after `timeout`.
    pub fn new(rules: Outbound, key: Arc<SecretKey>, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self { http: crate::collector::outbound::client(rules.clone(), timeout)?, rules, key, timeout })
    }
}

/// Claims each endpoint's oldest pending delivery that is due at `now`.
pub async fn claim(pool: &PgPool, now: OffsetDateTime) -> Result<Vec<Claimed>, AppError> {
    Ok(sqlx::query_as(
        "update webhook_deliveries d
         set next_attempt_at = $1 + make_interval(secs => $2), attempts = d.attempts + 1
         from webhook_endpoints e
         where e.endpoint_id = d.endpoint_id and e.removed_at is null
           and d.delivered_at is null and d.given_up_at is null
           and d.delivery_id = (select x.delivery_id from webhook_deliveries x
                                where x.endpoint_id = e.endpoint_id and x.delivered_at is null and x.given_up_at is null
                                order by x.seq limit 1)
           and d.next_attempt_at <= $1
         returning d.delivery_id, d.event, d.body, d.attempts, d.created_at, e.url, e.secret",
    )
    .bind(now)
    .bind(LEASE_SECS)
    .fetch_all(pool)
    .await?)
}

/// Sends one claimed delivery and records the answer: delivered, tried again later, or given up (a day after the
/// event, as of `now`).
pub async fn send(pool: &PgPool, sender: &Sender, d: Claimed, now: OffsetDateTime) -> Result<(), AppError> {
    let started = std::time::Instant::now();
    let (status, answer) = match post(sender, &d).await {
        Ok((status, text)) => (Some(i32::from(status)), text.chars().take(ANSWER_CHARS).collect::<String>()),
        Err(why) => (None, why),
    };
    let delivered = status.is_some_and(|s| (200..300).contains(&s));
    let give_up = !delivered && now + backoff(d.attempts) > d.created_at + GIVE_UP_AFTER;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "insert into webhook_attempts (delivery_id, attempt, status, answer, duration_ms) values ($1, $2, $3, $4, $5)
         on conflict do nothing",
    )
    .bind(d.delivery_id)
    .bind(d.attempts)
    .bind(status)
    .bind(&answer)
    .bind(i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update webhook_deliveries set delivered_at = case when $2 then now() end,
                given_up_at = case when $3 then now() end, next_attempt_at = $4
         where delivery_id = $1 and delivered_at is null and given_up_at is null",
    )
    .bind(d.delivery_id)
    .bind(delivered)
    .bind(give_up)
    .bind(now + backoff(d.attempts))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Posts the body, signed now; the answer's status and text, or why there was none (in our words).
async fn post(sender: &Sender, d: &Claimed) -> Result<(u16, String), String> {
    let url = url::Url::parse(&d.url).map_err(|_| "the endpoint's address is not a URL".to_string())?;
    // Checked again when used: the rules may have changed since the address was saved.
    sender.rules.check_url(&url).map_err(|e| format!("the endpoint is refused: {e}"))?;
    let secret = sender.key.open(&d.secret).map_err(|_| "the endpoint's secret cannot be opened".to_string())?;
    let t = app::domain::clock::now().unix_timestamp();
    let answer = sender
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Stackbill-Webhooks/1")
        .header("stackbill-event", &d.event)
        .header("stackbill-delivery", d.delivery_id.to_string())
        .header("stackbill-signature", signature(&secret, t, &d.body))
        .body(d.body.clone())
        .send()
        .await
        .map_err(|e| {
            if let Some(b) = crate::collector::outbound::blocked(&e) {
                b.to_string()
            } else if e.is_timeout() {
                format!("no answer within {} seconds", sender.timeout.as_secs())
            } else {
                "could not connect (the name does not resolve, the host is unreachable, or TLS failed)".into()
            }
        })?;
    let status = answer.status().as_u16();
    Ok((status, start_of(answer).await))
}

/// The start of an answer's body (its first KiB, as text): an endpoint cannot make us read more.
async fn start_of(mut answer: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < 1024 {
        match answer.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(1024);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// For as long as the server runs: every 5 seconds, claims due deliveries and sends each on its own task (a slow
/// endpoint holds only its own); once a minute, notices the states (silent stacks, unpriced usage, customers over
/// their threshold).
pub async fn deliver_forever(pool: PgPool, sender: Sender) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_detect: Option<std::time::Instant> = None;
    loop {
        tick.tick().await;
        if last_detect.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            last_detect = Some(std::time::Instant::now());
            if let Err(e) = detect(&pool).await {
                tracing::warn!(error = %e, "could not look for webhook events");
            }
        }
        match claim(&pool, app::domain::clock::now()).await {
            Ok(claimed) => {
                for d in claimed {
                    let (pool, sender) = (pool.clone(), sender.clone());
                    tokio::spawn(async move {
                        let id = d.delivery_id;
                        if let Err(e) = send(&pool, &sender, d, app::domain::clock::now()).await {
                            tracing::warn!(delivery = %id, error = %e, "could not record a webhook delivery");
                        }
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not claim webhook deliveries"),
        }
    }
}

/// One pass of the state detectors, in one transaction.
pub async fn detect(pool: &PgPool) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    let queued = app::webhooks::detect::states(&mut tx, app::domain::clock::now()).await?;
    tx.commit().await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_and_body() {
        // Known answer, from Python's hmac: hmac.new(b"key", b"1.{}", hashlib.sha256).hexdigest().
        let s = signature("key", 1, "{}");
        assert_eq!(s, "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
        assert_ne!(s, signature("key", 2, "{}"), "the timestamp is signed");
        assert_ne!(s, signature("other", 1, "{}"), "the secret is the key");
    }

    #[test]
    fn retries_back_off_from_30_seconds_to_at_most_two_hours() {
        let secs: Vec<i64> = (1..=10).map(|a| backoff(a).whole_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3840, 7200, 7200]);
    }
}
