//! The ingestion-key forms of the stack page: routes and fields, written once.
use crate::web::Route;

/// Creates a key.
pub const CREATE_KEY: Route = Route("/stacks/{cloud_id}/keys");
/// Revokes a key.
pub const REVOKE_KEY: Route = Route("/stacks/{cloud_id}/keys/revoke");

crate::form! {
    /// The create-key form.
    pub struct NewKeyForm, names NewKeyFields {
        /// A name to recognise the key by (where it is used).
        pub name: String,
    }
}

crate::form! {
    /// A key's revoke button.
    pub struct RevokeKeyForm, names RevokeKeyFields {
        /// The key's ID.
        pub key_id: String,
        /// `yes` once asked and agreed (`web::confirm`).
        pub confirmed: String,
    }
}
