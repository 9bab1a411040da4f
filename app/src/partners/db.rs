//! Partners in the database.
use sqlx::PgConnection;

use super::{NewPartner, Partner};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::AppError;

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
