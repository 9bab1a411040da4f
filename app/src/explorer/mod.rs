//! The usage explorer (PRODUCT §6): usage and its cost by day, meter or resource, filtered by period, stack,
//! customer and meter; a table, a chart and a CSV of the same view. Days and meters come from the charges rollup;
//! resources need the raw records, so that view is capped on the page (the CSV has every row).
#[cfg(feature = "ssr")]
pub mod db;
pub mod page;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the explorer's rows are per: UTC day, local meter or resource (a resource needs the raw records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grouping {
    /// Per UTC day (and meter).
    #[default]
    Day,
    /// Per local meter.
    Meter,
    /// Per resource (and meter).
    Resource,
}

impl Grouping {
    /// Every grouping, in the order the form offers them.
    pub const ALL: [Self; 3] = [Self::Day, Self::Meter, Self::Resource];

    /// The word in the URL and the form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Meter => "meter",
            Self::Resource => "resource",
        }
    }

    /// The grouping a URL names; empty means per day.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" => Some(Self::Day),
            s => Self::ALL.into_iter().find(|g| g.as_str() == s),
        }
    }
}

/// The filters, as the form and the CSV link carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// First day (UTC, `YYYY-MM-DD`); default 29 days before today (the last 30 days).
    #[serde(default)]
    pub from: String,
    /// Last day (UTC), inclusive; default today.
    #[serde(default)]
    pub to: String,
    /// Stack cloud ID, or empty for all.
    #[serde(default)]
    pub stack: String,
    /// Customer directory tenant, or empty for all.
    #[serde(default)]
    pub customer: String,
    /// Local meter, or empty for all.
    #[serde(default)]
    pub meter: String,
    /// `day`, `meter` or `resource`.
    #[serde(default)]
    pub group: String,
    /// Operators: the Partner ID whose usage is shown (default the first partner). Partner users see their own.
    #[serde(default)]
    pub partner: String,
    /// The column the rows are ordered by (`key`, `meter`, `quantity`, `cost`), or empty for the grouping's order.
    #[serde(default)]
    pub sort: String,
    /// `1`: descending.
    #[serde(default)]
    pub desc: String,
}

impl Filters {
    /// The query string of these filters.
    pub fn query(&self) -> String {
        let enc = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>();
        format!(
            "from={}&to={}&stack={}&customer={}&meter={}&group={}&partner={}&sort={}&desc={}",
            enc(&self.from),
            enc(&self.to),
            enc(&self.stack),
            enc(&self.customer),
            enc(&self.meter),
            enc(&self.group),
            enc(&self.partner),
            enc(&self.sort),
            enc(&self.desc)
        )
    }
}

/// One row of the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct UsageRow {
    /// The day, meter name or resource URI grouped by.
    pub key: String,
    /// The local meter.
    pub meter_id: Uuid,
    /// Its name (or "unknown meter").
    pub meter_name: String,
    /// Its unit.
    pub unit: String,
    /// Quantity in that unit.
    pub quantity: Decimal,
    /// Cost at list price (none for informational meters).
    pub cost: Option<Decimal>,
    /// The customer (by the partner's directory) whose resource it is, in the per-resource view.
    pub customer: Option<String>,
}

/// An option of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Choice {
    /// The value.
    pub id: Uuid,
    /// What is shown.
    pub name: String,
}
