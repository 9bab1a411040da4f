//! Partners in the database.
use sqlx::PgConnection;

use super::{NewPartner, Partner};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::AppError;

/// Whether a partner has the Microsoft Partner ID `partner_id` (the one place this is asked).
pub async fn exists(conn: impl sqlx::PgExecutor<'_>, partner_id: uuid::Uuid) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar("select exists(select 1 from partners where partner_id = $1)")
        .bind(partner_id)
        .fetch_one(conn)
        .await?)
}

/// `Ok` when the partner exists; otherwise a refusal naming the Partner ID.
pub async fn must_exist(conn: impl sqlx::PgExecutor<'_>, partner_id: uuid::Uuid) -> Result<(), AppError> {
    if exists(conn, partner_id).await? {
        Ok(())
    } else {
        Err(AppError::Validation(format!("Partner ID: no partner has Partner ID {partner_id}")))
    }
}

/// The partners a caller may look at (operators: all, by name) and the one a page shows: the one `wanted` (a
/// Partner ID from the URL) when it is among them, else the first. `NotFound` when there is none.
pub async fn choose(
    conn: impl sqlx::PgExecutor<'_>,
    scope: crate::auth::Scope,
    wanted: Option<&str>,
) -> Result<PartnerChoice, AppError> {
    let partners: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("select partner_id, name from partners where $1::uuid is null or partner_id = $1 order by name")
            .bind(scope.partner_filter())
            .fetch_all(conn)
            .await?;
    let wanted = wanted.and_then(|p| uuid::Uuid::parse_str(p.trim()).ok());
    let chosen =
        partners.iter().find(|p| Some(p.0) == wanted).or(partners.first()).cloned().ok_or(AppError::NotFound)?;
    Ok(PartnerChoice { partners, chosen })
}

/// The partner chooser of a page: the choices and the one shown.
pub struct PartnerChoice {
    /// Every partner in the caller's scope (ID, name), by name.
    pub partners: Vec<(uuid::Uuid, String)>,
    /// The partner shown (ID, name).
    pub chosen: (uuid::Uuid, String),
}

/// The partner's billing terms: its currency and its default markup in percent.
pub async fn terms(
    conn: impl sqlx::PgExecutor<'_>,
    partner_id: uuid::Uuid,
) -> Result<(String, rust_decimal::Decimal), AppError> {
    Ok(sqlx::query_as("select currency::text, markup_percent from partners where partner_id = $1")
        .bind(partner_id)
        .fetch_one(conn)
        .await?)
}

/// The partner's billing currency (ISO 4217), in which every amount of theirs is shown.
pub async fn currency(conn: impl sqlx::PgExecutor<'_>, partner_id: uuid::Uuid) -> Result<String, AppError> {
    Ok(sqlx::query_scalar("select currency::text from partners where partner_id = $1")
        .bind(partner_id)
        .fetch_one(conn)
        .await?)
}

/// Adds a partner, audited in the same transaction. A second partner with the same Partner ID or directory
/// tenant is a `Conflict` naming the clash.
pub async fn add_partner(conn: &mut PgConnection, actor: &Actor, p: &NewPartner) -> Result<Partner, AppError> {
    let clash: Option<(String, bool)> = sqlx::query_as(
        "select name, partner_id = $1 from partners where partner_id = $1 or directory_tenant_id = $2 limit 1",
    )
    .bind(p.partner_id)
    .bind(p.directory_tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((name, same_id)) = clash {
        let what = if same_id { "Partner ID" } else { "directory tenant" };
        return Err(AppError::Conflict(format!("{what} is already used by partner “{name}”")));
    }
    let partner: Partner = sqlx::query_as(
        "insert into partners (partner_id, name, mpn_id, directory_tenant_id, currency) values ($1, $2, $3, $4, $5)
         returning partner_id, name, mpn_id, directory_tenant_id, currency::text as currency",
    )
    .bind(p.partner_id)
    .bind(&p.name)
    .bind(&p.mpn_id)
    .bind(p.directory_tenant_id)
    .bind(&p.currency)
    .fetch_one(&mut *conn)
    .await?;
    let event = Event {
        partner_id: Some(partner.partner_id),
        action: "partner.add",
        entity_type: "partner",
        entity_id: partner.partner_id.to_string(),
        before: None,
        after: serde_json::to_value(&partner).ok(),
    };
    record(conn, actor, event).await?;
    Ok(partner)
}

/// The partner's details, as its invoices print them.
pub async fn details(
    conn: impl sqlx::PgExecutor<'_>,
    partner_id: uuid::Uuid,
) -> Result<super::details::PartnerDetails, AppError> {
    sqlx::query_as("select name, address, tax_id, invoice_prefix from partners where partner_id = $1")
        .bind(partner_id)
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Saves the partner's details, audited with what they were (invoices already issued keep their numbers).
pub async fn save_details(
    conn: &mut PgConnection,
    actor: &Actor,
    partner_id: uuid::Uuid,
    d: &super::details::PartnerDetails,
) -> Result<(), AppError> {
    let before = details(&mut *conn, partner_id).await?;
    let taken: bool =
        sqlx::query_scalar("select exists (select 1 from partners where lower(name) = lower($2) and partner_id <> $1)")
            .bind(partner_id)
            .bind(&d.name)
            .fetch_one(&mut *conn)
            .await?;
    if taken {
        let field = super::forms::DetailsForm::FIELDS.name.into();
        return Err(AppError::Rule { field, message: format!("Another partner is already named “{}”.", d.name) });
    }
    sqlx::query(
        "update partners set name = $2, address = $3, tax_id = $4, invoice_prefix = $5, updated_at = now()
         where partner_id = $1",
    )
    .bind(partner_id)
    .bind(&d.name)
    .bind(&d.address)
    .bind(&d.tax_id)
    .bind(&d.invoice_prefix)
    .execute(&mut *conn)
    .await?;
    let event = Event {
        partner_id: Some(partner_id),
        action: "partner.update",
        entity_type: "partner",
        entity_id: partner_id.to_string(),
        before: serde_json::to_value(&before).ok(),
        after: serde_json::to_value(d).ok(),
    };
    record(conn, actor, event).await
}

/// Takes the partner's next invoice number (`INV-00042`), for a bill being finalised. The caller holds the
/// partner's row lock (finalising takes it first), so numbers follow each other without gaps.
pub async fn next_invoice_number(conn: &mut PgConnection, partner_id: uuid::Uuid) -> Result<String, AppError> {
    let (prefix, n): (String, i64) = sqlx::query_as(
        "update partners set last_invoice_number = last_invoice_number + 1 where partner_id = $1
         returning invoice_prefix, last_invoice_number",
    )
    .bind(partner_id)
    .fetch_one(conn)
    .await?;
    Ok(super::details::invoice_number(&prefix, n))
}

/// How many invoice numbers the partner has issued (the next is one more).
pub async fn invoices_issued(conn: impl sqlx::PgExecutor<'_>, partner_id: uuid::Uuid) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("select last_invoice_number from partners where partner_id = $1")
        .bind(partner_id)
        .fetch_one(conn)
        .await?)
}
