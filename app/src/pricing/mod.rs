//! Meter map and price lists (PRODUCT §2, §4): operator imports, all or nothing, versioned prices.
#[cfg(feature = "ssr")]
pub mod db;
pub mod forms;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod writes;

use serde::{Deserialize, Serialize};

/// A price list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct PriceEntry {
    /// Commerce meter.
    pub commerce_meter_id: uuid::Uuid,
    /// Name.
    pub meter_name: String,
    /// Unit.
    pub unit: String,
    /// Price, as text (exact).
    pub unit_price: String,
    /// Currency.
    pub currency: String,
    /// From (UTC day).
    pub effective_from: String,
    /// To (UTC day), if superseded.
    pub effective_to: Option<String>,
}

/// A meter map entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct MeterMapEntry {
    /// Local meter.
    pub local_meter_id: uuid::Uuid,
    /// Its name in the catalogue, if known.
    pub local_name: Option<String>,
    /// Commerce meter.
    pub commerce_meter_id: uuid::Uuid,
    /// Factor, as text (exact).
    pub factor: String,
}
