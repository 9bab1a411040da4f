//! The stack page's data: registration, tenant mappings (current or with history), and the partner's
//! subscriptions for the pickers.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{MappingRow, StackSummary, SubscriptionOption};
use crate::AppError;

/// Everything the stack page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackDetail {
    /// The stack with its current registration summary.
    pub stack: StackSummary,
    /// Whether the viewer may change it.
    pub can_write: bool,
    /// A page of the mappings: current ones, or all with history.
    pub mappings: crate::paging::Paged<MappingRow>,
    /// The owner's directory subscriptions.
    pub subscriptions: Vec<SubscriptionOption>,
    /// The last form's outcome.
    pub flash: Option<crate::web::Flash>,
    /// The mapping version the forms were rendered with (see `registrations::db::mappings_version`).
    pub mappings_version: i64,
    /// Ingestion keys.
    pub keys: Vec<crate::keys::KeyRow>,
    /// A key created by the last post, shown this once.
    pub new_key: Option<String>,
    /// A page of the stack's own subscriptions.
    pub local_subscriptions: crate::paging::Paged<crate::local_subscriptions::LocalSubscriptionRow>,
    /// The collector, if set up.
    pub collector: Option<crate::collector::CollectorStatus>,
    /// Usage received.
    pub usage: crate::usage::panel::UsageStatus,
}

/// Rows per page of the stack page's lists (mappings, local subscriptions).
pub const STACK_PAGE_SIZE: i64 = 100;

/// The stack page's data, with page `mappings_page` of the mappings and `subs_page` of the local subscriptions;
/// `NotFound` for stacks outside the caller's scope.
#[server]
pub async fn load_stack_page(
    cloud_id: String,
    history: bool,
    mappings_page: i64,
    subs_page: i64,
) -> Result<StackDetail, AppError> {
    use crate::paging::PageOf;
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let cloud_id = uuid::Uuid::parse_str(&cloud_id).map_err(|_| AppError::NotFound)?;
    let pool = crate::db::pool()?;
    let mappings_page = PageOf::new("mappings_page", mappings_page, STACK_PAGE_SIZE)?;
    let subs_page = PageOf::new("subs_page", subs_page, STACK_PAGE_SIZE)?;
    let (stack, mappings, subscriptions) = super::db::detail(&pool, scope, cloud_id, history, mappings_page).await?;
    let flash = session.take_flash().await?;
    // Sealed in the session table: the plain key exists only in this response.
    let new_key = match session.take_new_key().await? {
        Some(sealed) => Some(crate::db::secret_key()?.open(&sealed).map_err(|_| AppError::Internal)?),
        None => None,
    };
    let mappings_version = crate::registrations::db::version_now(&pool, stack.stack_id).await?;
    Ok(StackDetail {
        keys: crate::keys::db::list_keys(&pool, stack.stack_id).await?,
        local_subscriptions: crate::local_subscriptions::db::list_for_stack(&pool, stack.stack_id, subs_page).await?,
        collector: crate::collector::db::status(&pool, stack.stack_id).await?,
        usage: super::db::usage_status(&pool, &stack).await?,
        stack,
        can_write: user.can_write(),
        mappings,
        subscriptions,
        flash,
        new_key,
        mappings_version,
    })
}
