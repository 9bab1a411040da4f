//! The operator page's own route (its forms live with their features: directory, partners, pricing).
use crate::web::Route;

/// The operator page, where the operator's forms return.
pub const OPERATOR_PAGE: Route = Route("/operator");
