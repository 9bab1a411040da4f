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
    /// When it took effect.
    pub effective_from: time::OffsetDateTime,
    /// When a later price replaced it, if one did.
    pub effective_to: Option<time::OffsetDateTime>,
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
