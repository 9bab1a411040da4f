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
    /// The Azure commerce meter priced (the price list's Meter ID).
    pub commerce_meter_id: uuid::Uuid,
    /// Name.
    pub meter_name: String,
    /// The unit the price is per, as the price list writes it (e.g. `1 Hour`, `1 GB/Month`).
    pub unit: String,
    /// Price, as text (exact).
    pub unit_price: String,
    /// The price's currency (ISO 4217); a partner is charged prices in its own currency only.
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
    /// The stack's meter (the usage API's `meterId`).
    pub local_meter_id: uuid::Uuid,
    /// Its name in the catalogue, if known.
    pub local_name: Option<String>,
    /// The Azure commerce meter it is billed as.
    pub commerce_meter_id: uuid::Uuid,
    /// Factor, as text (exact).
    pub factor: String,
}
