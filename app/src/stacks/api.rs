//! Server functions for stacks.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PartnerSummary, StackSummary};
use crate::auth::CurrentUser;
use crate::paging::Paged;
use crate::sorting::ListAt;
use crate::AppError;

/// What the home page shows: the user, their stacks, and for operators every partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The signed-in user.
    pub user: CurrentUser,
    /// A page of the stacks in the user's scope.
    pub stacks: Paged<StackSummary>,
    /// A page of all partners (operators only; empty for partner users).
    pub partners: Paged<PartnerSummary>,
    /// The outcome of the last "add a stack" post.
    pub flash: Option<crate::web::Flash>,
    /// Whether the archived stacks are listed (`?archived=1`).
    pub with_archived: bool,
    /// How many stacks in scope are archived.
    pub archived: i64,
}

/// Rows per page of the home page's lists.
pub const HOME_PAGE_SIZE: i64 = 100;

/// The home page's data: a page of the stacks and one of the partners, each in its order. Users without access get
/// `Forbidden`, never data.
#[server]
pub async fn home_overview(stacks: ListAt, partners: ListAt, with_archived: bool) -> Result<Overview, AppError> {
    use crate::auth::Scope;
    use crate::paging::PageOf;
    let crate::web::caller::Caller { user, scope, session } = crate::web::caller::Caller::of_page().await?;
    let pool = crate::db::pool()?;
    let page = PageOf::new("page", stacks.page, HOME_PAGE_SIZE)?;
    let stacks = super::db::list_stacks(&pool, scope, with_archived, page, &stacks.order).await?;
    let archived = super::db::archived_count(&pool, scope).await?;
    let (partners_page, partners_order) =
        (PageOf::new("partners_page", partners.page, HOME_PAGE_SIZE)?, partners.order);
    let partners = match scope {
        Scope::All => super::db::list_partners(&pool, partners_page, &partners_order).await?,
        Scope::Partner(_) => partners_page.of(Vec::new()),
    };
    let flash = session.take_flash().await?;
    Ok(Overview { user, stacks, partners, flash, with_archived, archived })
}
