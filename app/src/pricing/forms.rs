//! The operator page's price-list and meter-map imports: routes (multipart, one file in
//! [`crate::web::form::FILE_FIELD`]), written once.
use crate::web::Route;

/// Imports a price list.
pub const IMPORT_PRICES: Route = Route("/operator/prices/import");
/// Imports the meter map.
pub const IMPORT_METER_MAP: Route = Route("/operator/meters/import");
