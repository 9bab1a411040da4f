//! Storing a directory import: all rows or none, each change audited.
use std::collections::{HashMap, HashSet};

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::import::{DirectoryRow, RowError, COLUMNS};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::AppError;

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportSummary {
    /// New subscriptions.
    pub added: u64,
    /// Subscriptions whose offer, customer name or status changed.
    pub updated: u64,
    /// Rows identical to what was stored.
    pub unchanged: u64,
}

#[derive(sqlx::FromRow)]
struct Existing {
    subscription_id: Uuid,
    offer_type: String,
    billing_partner_id: Uuid,
    customer_tenant_id: Uuid,
    customer_name: String,
    status: String,
}

/// Checks the rows against the database (partners exist, no subscription changes owner) and stores them.
/// On `Err`, nothing was written by this function; the caller's transaction must be rolled back.
pub async fn import(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: &[DirectoryRow],
) -> Result<ImportSummary, Vec<RowError>> {
    let internal =
        |e: sqlx::Error| vec![RowError { line: 0, column: "file".into(), message: AppError::from(e).to_string() }];
    let ids: Vec<Uuid> = rows.iter().map(|r| r.subscription_id).collect();
    let partner_ids: Vec<Uuid> = rows.iter().map(|r| r.billing_partner_id).collect();
    let partners: HashSet<Uuid> = sqlx::query_scalar("select partner_id from partners where partner_id = any($1)")
        .bind(&partner_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?
        .into_iter()
        .collect();
    let existing: HashMap<Uuid, Existing> = sqlx::query_as::<_, Existing>(
        "select subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name, status
         from commerce_subscriptions where subscription_id = any($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?
    .into_iter()
    .map(|e| (e.subscription_id, e))
    .collect();
    check_against_database(rows, &partners, &existing)?;
    store(conn, actor, rows, &existing)
        .await
        .map_err(|e| vec![RowError { line: 0, column: "file".into(), message: e.to_string() }])
}

fn check_against_database(
    rows: &[DirectoryRow],
    partners: &HashSet<Uuid>,
    existing: &HashMap<Uuid, Existing>,
) -> Result<(), Vec<RowError>> {
    let mut errors = Vec::new();
    for r in rows {
        if !partners.contains(&r.billing_partner_id) {
            errors.push(RowError {
                line: r.line,
                column: COLUMNS[2].into(),
                message: format!("no partner has Partner ID {}; add the partner first", r.billing_partner_id),
            });
        }
        if let Some(e) = existing.get(&r.subscription_id) {
            if e.billing_partner_id != r.billing_partner_id || e.customer_tenant_id != r.customer_tenant_id {
                errors.push(RowError {
                    line: r.line,
                    column: COLUMNS[0].into(),
                    message: format!(
                        "{} is already in the directory for partner {} and tenant {}; a subscription cannot change owner",
                        r.subscription_id, e.billing_partner_id, e.customer_tenant_id
                    ),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn as_json(offer: &str, name: &str, status: &str, partner: Uuid, tenant: Uuid) -> serde_json::Value {
    json!({ "offerType": offer, "customerName": name, "status": status, "billingPartnerId": partner, "customerTenantId": tenant })
}

async fn store(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: &[DirectoryRow],
    existing: &HashMap<Uuid, Existing>,
) -> Result<ImportSummary, AppError> {
    let mut summary = ImportSummary::default();
    for r in rows {
        let after =
            as_json(r.offer.as_str(), &r.customer_name, r.status.as_str(), r.billing_partner_id, r.customer_tenant_id);
        let before = existing
            .get(&r.subscription_id)
            .map(|e| as_json(&e.offer_type, &e.customer_name, &e.status, e.billing_partner_id, e.customer_tenant_id));
        if before.as_ref() == Some(&after) {
            summary.unchanged += 1;
            continue;
        }
        sqlx::query(
            "insert into commerce_subscriptions (subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name, status)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (subscription_id) do update
               set offer_type = excluded.offer_type, customer_name = excluded.customer_name, status = excluded.status, updated_at = now()",
        )
        .bind(r.subscription_id)
        .bind(r.offer.as_str())
        .bind(r.billing_partner_id)
        .bind(r.customer_tenant_id)
        .bind(&r.customer_name)
        .bind(r.status.as_str())
        .execute(&mut *conn)
        .await?;
        let action = if before.is_some() { "directory.update" } else { "directory.add" };
        if before.is_some() {
            summary.updated += 1
        } else {
            summary.added += 1
        }
        let event = Event {
            partner_id: Some(r.billing_partner_id),
            action,
            entity_type: "subscription",
            entity_id: r.subscription_id.to_string(),
            before,
            after: Some(after),
        };
        record(conn, actor, event).await?;
    }
    Ok(summary)
}

/// Changes one subscription's status (operators), audited.
pub async fn set_status(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    status: crate::domain::SubscriptionStatus,
) -> Result<(), AppError> {
    let before: (Uuid, String) = sqlx::query_as(
        "select billing_partner_id, status from commerce_subscriptions where subscription_id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query("update commerce_subscriptions set status = $2, updated_at = now() where subscription_id = $1")
        .bind(id)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    let event = Event {
        partner_id: Some(before.0),
        action: "directory.status",
        entity_type: "subscription",
        entity_id: id.to_string(),
        before: Some(json!({"status": before.1})),
        after: Some(json!({"status": status.as_str()})),
    };
    record(conn, actor, event).await
}

/// A page of the directory, by customer name: all of it, or the entries whose customer name contains `search` or whose
/// subscription or tenant ID is `search`.
pub async fn search(
    pool: &sqlx::PgPool,
    search: &str,
    of: crate::paging::PageOf,
    order: &crate::sorting::Order,
) -> Result<crate::paging::Paged<crate::customers::CustomerSub>, AppError> {
    const SORTS: [(&str, &str); 4] = [
        ("customer", "lower(customer_name)"),
        ("subscription", "subscription_id::text"),
        ("offer", "offer_type"),
        ("status", "status"),
    ];
    let order_by = order.sql(&SORTS, "customer_name, subscription_id", "subscription_id");
    Ok(of.of(sqlx::query_as(&format!(
        "select customer_tenant_id as tenant_id, customer_name, subscription_id, offer_type, status from commerce_subscriptions
         where $1 = '' or customer_name ilike '%' || $1 || '%' or subscription_id::text = lower($1) or customer_tenant_id::text = lower($1)
         order by {order_by} limit $2 offset $3"
    ))
    .bind(search.trim())
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(pool)
    .await?))
}
