//! Server functions for stacks.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PartnerSummary, StackSummary};
use crate::auth::CurrentUser;
use crate::AppError;

/// What the home page shows: the user, their stacks, and for operators every partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// The signed-in user.
    pub user: CurrentUser,
    /// Stacks in the user's scope.
    pub stacks: Vec<StackSummary>,
    /// All partners (operators only; empty for partner users).
    pub partners: Vec<PartnerSummary>,
    /// The outcome of the last "add a stack" post.
    pub flash: Option<super::detail::Flash>,
}

/// The home page's data. Users without access get `Forbidden`, never data.
#[server]
pub async fn home_overview() -> Result<Overview, AppError> {
    use crate::auth::{api::ssr::require_user, Scope};
    let user = require_user().await?;
    let scope = user.scope()?;
    let pool = crate::db::pool()?;
    let stacks = super::db::list_stacks(&pool, scope).await?;
    let partners = match scope {
        Scope::All => super::db::list_partners(&pool).await?,
        Scope::Partner(_) => Vec::new(),
    };
    let flash = crate::auth::session::AuthSession::from_request().await?.take("flash").await?;
    Ok(Overview { user, stacks, partners, flash })
}
