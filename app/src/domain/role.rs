//! What a signed-in user may do (PRODUCT §1).
use serde::{Deserialize, Serialize};

/// A user's role, taken from the identity provider's roles claim at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Runs the portal: sees and manages everything.
    Operator,
    /// Manages one partner's data.
    PartnerAdmin,
    /// Reads one partner's data.
    PartnerReader,
    /// Signed in, but the claims match no partner and no operator role: sees nothing.
    NoAccess,
}

impl Role {
    /// The spelling stored in `users.role`.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::PartnerAdmin => "partner_admin",
            Self::PartnerReader => "partner_reader",
            Self::NoAccess => "none",
        }
    }

    /// Reads the spelling stored in `users.role`; anything unknown grants nothing.
    pub fn from_db(s: &str) -> Self {
        match s {
            "operator" => Self::Operator,
            "partner_admin" => Self::PartnerAdmin,
            "partner_reader" => Self::PartnerReader,
            _ => Self::NoAccess,
        }
    }

    /// Picks the strongest role named in an identity provider's roles claim
    /// (`Operator`, `Partner.Admin`, `Partner.Reader`, as in PRODUCT §1). Partner roles need a partner.
    pub fn from_claims<'a>(roles: impl IntoIterator<Item = &'a str>, has_partner: bool) -> Self {
        let roles: Vec<&str> = roles.into_iter().collect();
        let has = |name: &str| roles.iter().any(|r| r.eq_ignore_ascii_case(name));
        if has("Operator") {
            Self::Operator
        } else if has_partner && has("Partner.Admin") {
            Self::PartnerAdmin
        } else if has_partner && has("Partner.Reader") {
            Self::PartnerReader
        } else {
            Self::NoAccess
        }
    }

    /// Words for the page header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Operator => "Operator",
            Self::PartnerAdmin => "Partner admin",
            Self::PartnerReader => "Partner reader",
            Self::NoAccess => "No access",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn operator_wins_over_partner_roles() {
        assert_eq!(Role::from_claims(["Partner.Reader", "Operator"], true), Role::Operator);
    }

    #[test]
    fn admin_wins_over_reader() {
        assert_eq!(Role::from_claims(["Partner.Reader", "Partner.Admin"], true), Role::PartnerAdmin);
    }

    #[test]
    fn partner_roles_without_a_partner_grant_nothing() {
        assert_eq!(Role::from_claims(["Partner.Admin"], false), Role::NoAccess);
    }

    #[test]
    fn unknown_roles_grant_nothing() {
        assert_eq!(Role::from_claims(["Admin", "Reader"], true), Role::NoAccess);
    }

    #[test]
    fn db_spelling_round_trips() {
        for role in [Role::Operator, Role::PartnerAdmin, Role::PartnerReader, Role::NoAccess] {
            assert_eq!(Role::from_db(role.as_db()), role);
        }
    }
}
