//! The operator page's directory forms: routes and fields, written once.
use crate::web::Route;

/// Imports the directory (multipart, one file in [`crate::web::form::FILE_FIELD`]).
pub const IMPORT_DIRECTORY: Route = Route("/operator/directory/import");
/// Changes one subscription's status.
pub const SET_STATUS: Route = Route("/operator/directory/status");

crate::form! {
    /// A directory row's status form.
    pub struct StatusForm, names StatusFields {
        /// The subscription.
        pub subscription_id: String,
        /// `active`, `suspended` or `deleted`.
        pub status: String,
    }
}
