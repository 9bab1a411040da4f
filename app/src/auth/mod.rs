//! Who is signed in, and what they may see.
pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod session;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Role;
use crate::AppError;

/// The partner a user belongs to, as shown in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRef {
    /// The Microsoft Partner ID.
    pub partner_id: Uuid,
    /// The partner's display name.
    pub name: String,
}

/// The signed-in user, loaded from the database on every request so a role change takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// Stackbill's own user ID.
    pub user_id: Uuid,
    /// Name (or e-mail, or subject) to show.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// The user's partner; `None` for operators and for users without access.
    pub partner: Option<PartnerRef>,
}

/// Which partners' data a query may touch. Every query that reads partner data takes one (PRODUCT §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Operators: every partner.
    All,
    /// Partner users: exactly this partner.
    Partner(Uuid),
}

impl CurrentUser {
    /// The data scope of this user, or `Forbidden` when the user has no access at all.
    pub fn scope(&self) -> Result<Scope, AppError> {
        match (self.role, &self.partner) {
            (Role::Operator, _) => Ok(Scope::All),
            (Role::PartnerAdmin | Role::PartnerReader, Some(p)) => Ok(Scope::Partner(p.partner_id)),
            _ => Err(AppError::Forbidden),
        }
    }

    /// Whether the user may change data (operators and partner admins).
    pub fn can_write(&self) -> bool {
        matches!(self.role, Role::Operator | Role::PartnerAdmin)
    }
}

impl Scope {
    /// The partner filter for SQL: `None` means every partner (`$1 is null or partner_id = $1`).
    pub fn partner_filter(self) -> Option<Uuid> {
        match self {
            Self::All => None,
            Self::Partner(id) => Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, partner: Option<Uuid>) -> CurrentUser {
        CurrentUser {
            user_id: Uuid::nil(),
            display_name: "t".into(),
            role,
            partner: partner.map(|partner_id| PartnerRef { partner_id, name: "P".into() }),
        }
    }

    #[test]
    fn no_access_user_has_no_scope() {
        assert_eq!(user(Role::NoAccess, None).scope(), Err(AppError::Forbidden));
    }

    #[test]
    fn partner_user_is_scoped_to_their_partner() {
        let p = Uuid::from_u128(7);
        assert_eq!(user(Role::PartnerReader, Some(p)).scope(), Ok(Scope::Partner(p)));
        assert!(!user(Role::PartnerReader, Some(p)).can_write());
    }

    #[test]
    fn operator_sees_all() {
        assert_eq!(user(Role::Operator, None).scope(), Ok(Scope::All));
    }
}
