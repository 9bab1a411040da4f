//! The stack forms' routes and fields, written once for the page and the handler.
use crate::web::Route;

/// The stack page, where every stack form returns.
pub const STACK_PAGE: Route = Route("/stacks/{cloud_id}");
/// Adds a stack (home page).
pub const ADD_STACK: Route = Route("/stacks");
/// Renames a stack.
pub const RENAME: Route = Route("/stacks/{cloud_id}/rename");
/// Archives a stack (its history and bills are kept; no more usage is taken).
pub const ARCHIVE: Route = Route("/stacks/{cloud_id}/archive");
/// Restores an archived stack.
pub const RESTORE: Route = Route("/stacks/{cloud_id}/restore");

crate::form! {
    /// The home page's "add a stack" form.
    pub struct AddStackForm, names AddStackFields {
        /// Operators only: the Microsoft Partner ID of the owner (partner users add to their own partner).
        pub partner: String,
        /// The stack's display name.
        pub name: String,
        /// The Azure Stack Hub cloud ID (CloudDeploymentID).
        pub cloud_id: String,
        /// A free region label.
        pub region: String,
        /// The admin ARM endpoint, optional.
        pub endpoint: String,
    }
}

crate::form! {
    /// The rename form.
    pub struct RenameForm, names RenameFields {
        /// The new display name.
        pub name: String,
    }
}
