//! Users in the database.
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{CurrentUser, PartnerRef};
use crate::domain::Role;
use crate::AppError;

/// What the identity provider told us about a user at sign-in.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// Token issuer.
    pub issuer: String,
    /// Subject (`sub`), unique per issuer.
    pub subject: String,
    /// E-mail claim, if given.
    pub email: Option<String>,
    /// Name claim, if given.
    pub display_name: Option<String>,
    /// The partner-tenant claim (default `tid`), if given.
    pub partner_tenant: Option<Uuid>,
    /// The roles claim (default `roles`).
    pub roles: Vec<String>,
}

/// Creates or updates the user of a sign-in and returns their ID and role.
/// The partner is the one whose directory tenant matches the tenant claim; no match means no partner.
#[tracing::instrument(skip(db))]
pub async fn upsert_user(db: impl PgExecutor<'_> + Copy, s: &SignIn) -> Result<(Uuid, Role), AppError> {
    let partner: Option<Uuid> = match s.partner_tenant {
        Some(tid) => {
            sqlx::query_scalar("select partner_id from partners where directory_tenant_id = $1")
                .bind(tid)
                .fetch_optional(db)
                .await?
        }
        None => None,
    };
    let role = Role::from_claims(s.roles.iter().map(String::as_str), partner.is_some());
    // Operators act across partners, so they carry none; users without access keep none either.
    let partner = if matches!(role, Role::PartnerAdmin | Role::PartnerReader) { partner } else { None };
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (issuer, subject, email, display_name, partner_id, role)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (issuer, subject) do update
           set email = excluded.email, display_name = excluded.display_name,
               partner_id = excluded.partner_id, role = excluded.role, last_login_at = now()
         returning user_id",
    )
    .bind(&s.issuer)
    .bind(&s.subject)
    .bind(&s.email)
    .bind(&s.display_name)
    .bind(partner)
    .bind(role.as_db())
    .fetch_one(db)
    .await?;
    Ok((user_id, role))
}

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: Uuid,
    display_name: Option<String>,
    email: Option<String>,
    subject: String,
    role: String,
    partner_id: Option<Uuid>,
    partner_name: Option<String>,
}

impl From<UserRow> for CurrentUser {
    fn from(r: UserRow) -> Self {
        let partner = match (r.partner_id, r.partner_name) {
            (Some(partner_id), Some(name)) => Some(PartnerRef { partner_id, name }),
            _ => None,
        };
        CurrentUser {
            user_id: r.user_id,
            display_name: r.display_name.or(r.email).unwrap_or(r.subject),
            role: Role::from_db(&r.role),
            partner,
        }
    }
}

/// Loads a user with their partner; `None` if the user no longer exists.
pub async fn load_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<UserRow> = sqlx::query_as(
        "select u.user_id, u.display_name, u.email, u.subject, u.role, u.partner_id, p.name as partner_name
         from users u left join partners p on p.partner_id = u.partner_id
         where u.user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(CurrentUser::from))
}
