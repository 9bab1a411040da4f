//! Validated domain types shared by the server and the browser (STYLE L4).
mod directory;
mod role;

pub use directory::{BillingModel, OfferType, SubscriptionStatus};
pub use role::Role;
