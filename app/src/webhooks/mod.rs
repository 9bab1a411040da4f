//! Webhooks (issue 14, item 3): events a partner's systems can act on, sent as signed JSON to the partner's endpoints.
//! Events are queued in the database when they happen (a bill finalised, a reconciliation imported, a collector
//! failing) or when the server's detector notices them once a minute (a stack silent, unpriced usage, a customer
//! over its threshold); the server delivers them, retrying with back-off for a day (see the README's "Webhooks").
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod detect;
pub mod forms;
pub mod page;
#[cfg(feature = "ssr")]
pub mod writes;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::web::Flash;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A customer's bill was finalised.
    BillFinalised,
    /// Microsoft's reconciliation file differs from Stackbill's charges by more than the partner's threshold.
    ReconDifferences,
    /// A registered stack has sent no usage for the partner's number of hours.
    StackSilent,
    /// A stack's collector failed the partner's number of runs in a row.
    CollectorFailing,
    /// Usage on a commerce meter the price list has no price for.
    UnpricedUsage,
    /// A customer's month-to-date charges passed the partner's threshold.
    CustomerThreshold,
}

impl EventKind {
    /// Every event, in the order the settings page lists them.
    pub const ALL: [Self; 6] = [
        Self::BillFinalised,
        Self::ReconDifferences,
        Self::StackSilent,
        Self::CollectorFailing,
        Self::UnpricedUsage,
        Self::CustomerThreshold,
    ];

    /// The event's type in the body and the `Stackbill-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BillFinalised => "bill.finalised",
            Self::ReconDifferences => "reconciliation.differences",
            Self::StackSilent => "stack.silent",
            Self::CollectorFailing => "collector.failing",
            Self::UnpricedUsage => "usage.unpriced",
            Self::CustomerThreshold => "customer.threshold",
        }
    }

    /// The event a type names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// In plain words, for the settings page.
    pub fn label(self) -> &'static str {
        match self {
            Self::BillFinalised => "A bill is finalised",
            Self::ReconDifferences => "Microsoft's bill differs from Stackbill's by more than the threshold",
            Self::StackSilent => "A stack sends no usage for the set hours",
            Self::CollectorFailing => "A collector fails the set number of runs in a row",
            Self::UnpricedUsage => "Usage arrives on a meter without a price",
            Self::CustomerThreshold => "A customer's charges this month pass the threshold",
        }
    }
}

/// A partner's thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Settings {
    /// Hours without usage before a stack is "silent".
    pub silent_hours: i32,
    /// Failed collector runs in a row before "collector failing".
    pub collector_failures: i32,
    /// The month's gap with Microsoft's bill, either way, that is reported.
    pub recon_threshold: Decimal,
    /// A customer's month-to-date charges that are reported; `None`: never.
    pub customer_threshold: Option<Decimal>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { silent_hours: 6, collector_failures: 3, recon_threshold: Decimal::ONE, customer_threshold: None }
    }
}

/// An endpoint as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Endpoint {
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The events it receives (`EventKind::as_str`).
    pub events: Vec<String>,
    /// When it was added.
    pub created_at: time::OffsetDateTime,
}

/// One delivery in the log, with its latest attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Delivery {
    /// The delivery (the `Stackbill-Delivery` header; the same on every attempt).
    pub delivery_id: Uuid,
    /// The endpoint's URL.
    pub url: String,
    /// The event's type.
    pub event: String,
    /// When the event was queued.
    pub created_at: time::OffsetDateTime,
    /// Attempts so far.
    pub attempts: i32,
    /// When the endpoint accepted it (a 2xx answer).
    pub delivered_at: Option<time::OffsetDateTime>,
    /// When retrying stopped (a day after the event).
    pub given_up_at: Option<time::OffsetDateTime>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: time::OffsetDateTime,
    /// The latest answer's HTTP status.
    pub last_status: Option<i32>,
    /// The latest answer's start, or why there was none.
    pub last_answer: Option<String>,
}

impl Delivery {
    /// "delivered", "given up" or "pending".
    pub fn state(&self) -> &'static str {
        match (self.delivered_at, self.given_up_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "given up",
            _ => "pending",
        }
    }
}

/// The webhook settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    /// The partner's name.
    pub partner_name: String,
    /// Its currency (thresholds are in it).
    pub currency: String,
    /// Its thresholds.
    pub settings: Settings,
    /// Its endpoints.
    pub endpoints: Vec<Endpoint>,
    /// The latest deliveries.
    pub deliveries: Vec<Delivery>,
    /// A new endpoint's signing secret, shown once after it was added.
    pub new_secret: Option<String>,
    /// Whether the viewer may change things.
    pub can_write: bool,
    /// The last form's outcome.
    pub flash: Option<Flash>,
}
