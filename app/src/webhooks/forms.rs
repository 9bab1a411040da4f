//! The webhook settings page's routes and forms.
use crate::web::Route;

/// The settings page.
pub const WEBHOOKS_PAGE: Route = Route("/settings/webhooks");
/// Adds an endpoint.
pub const ADD_ENDPOINT: Route = Route("/settings/webhooks/endpoints");
/// Removes an endpoint.
pub const REMOVE_ENDPOINT: Route = Route("/settings/webhooks/endpoints/remove");
/// Saves the thresholds.
pub const SAVE_THRESHOLDS: Route = Route("/settings/webhooks/thresholds");

crate::form! {
    /// A new endpoint: its URL and the events it receives (checkboxes, each `events=<type>`).
    pub struct EndpointForm, names EndpointFields {
        /// `https://…`.
        pub url: String,
        /// One field per event received (`events=bill.finalised&events=…`); the handler reads the pairs.
        pub events: String,
    }
}

crate::form! {
    /// Removing an endpoint.
    pub struct RemoveEndpointForm, names RemoveEndpointFields {
        /// The endpoint's ID.
        pub endpoint_id: String,
        /// `yes` once asked and agreed (`web::confirm`).
        pub confirmed: String,
    }
}

crate::form! {
    /// The thresholds.
    pub struct ThresholdsForm, names ThresholdsFields {
        /// Hours.
        pub silent_hours: String,
        /// Runs.
        pub collector_failures: String,
        /// An amount.
        pub recon_threshold: String,
        /// An amount, or empty for none.
        pub customer_threshold: String,
    }
}
