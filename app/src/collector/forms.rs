//! The collector form of the stack page: route and fields, written once.
use crate::web::Route;

/// Saves the stack's collector settings.
pub const SAVE_COLLECTOR: Route = Route("/stacks/{cloud_id}/collector");

crate::form! {
    /// The collector form as posted; blank secrets keep the stored ones.
    pub struct CollectorForm, names CollectorFields {
        /// Admin ARM endpoint, e.g. `https://adminmanagement.local.azurestack.external` (outbound rules apply).
        pub endpoint: String,
        /// The default provider subscription the usage API is called on (a GUID).
        pub provider_subscription: String,
        /// `bearer` or `client_credentials`.
        pub auth_kind: String,
        /// A bearer token; blank keeps the stored one.
        pub bearer_token: String,
        /// The token endpoint of client credentials (outbound rules apply).
        pub token_url: String,
        /// The application (client) ID of client credentials.
        pub client_id: String,
        /// The client secret; blank keeps the stored one while the addresses stay the same.
        pub client_secret: String,
        /// The scope asked of the token endpoint.
        pub scope: String,
        /// Collect usage reported from this day (UTC, `YYYY-MM-DD`); empty: 7 days back, or unchanged.
        pub collect_from: String,
        /// The checkbox: present when the collector should run hourly.
        pub enabled: Option<String>,
    }
}
