//! The stack page's usage upload: route and input names, written once. The post is multipart and read field by
//! field as it streams in (by `server`'s upload handler), so it has names rather than a struct.
use crate::web::Route;

/// Uploads usage files to a stack.
pub const UPLOAD_USAGE: Route = Route("/stacks/{cloud_id}/usage/upload");

/// The upload form's input names.
#[derive(Debug, Clone, Copy)]
pub struct UploadFields {
    /// The files (several allowed), each stored whole or refused whole.
    pub files: &'static str,
    /// The reported hour the files are one query of (`datetime-local`, UTC), optional.
    pub reported_hour: &'static str,
}

/// The upload form's input names.
pub const UPLOAD_FIELDS: UploadFields = UploadFields { files: "files", reported_hour: "reported_hour" };

/// Sent by the page's script with an upload it sends itself (to show its progress): the answer is then `200` with
/// the page to go to in [`THEN_HEADER`] instead of a `303`, which the script would follow unseen (taking the outcome
/// meant for the page).
pub const PROGRESS_HEADER: &str = "x-stackbill-upload";
/// Where the page goes after an upload sent by its script (see [`PROGRESS_HEADER`]).
pub const THEN_HEADER: &str = "x-stackbill-then";
