//! Moving a bill through open → draft → final, and the markups that set customer prices; all audited.
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::db::bill;
use super::Bill;
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::Period;
use crate::AppError;

/// Marks an open bill as draft (under review); refused for final bills.
pub async fn mark_draft(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<(), AppError> {
    let b = bill(conn, partner, sub, period).await?;
    if b.status != super::BillStatus::Open {
        return Err(AppError::Conflict(format!("This bill is {}; only an open bill can become a draft.", b.status)));
    }
    sqlx::query(
        "insert into bills (partner_id, period, subscription_id, status, currency) values ($1, $2, $3, 'draft', $4)",
    )
    .bind(partner)
    .bind(period.start())
    .bind(sub)
    .bind(&b.currency)
    .execute(&mut *conn)
    .await?;
    audit(conn, actor, &b, "bill.draft").await
}

/// Finalises a bill: its lines (usage and adjustments) are frozen with the markup in force, and later usage of the
/// period becomes adjustments on the next bill. Only bills of ended months can be finalised.
pub async fn finalise(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Uuid,
    period: Period,
) -> Result<Bill, AppError> {
    // One finaliser at a time per partner and customer: the row lock orders concurrent clicks.
    sqlx::query("select 1 from partners where partner_id = $1 for update").bind(partner).execute(&mut *conn).await?;
    let b = bill(conn, partner, sub, period).await?;
    may_finalise(conn, partner, &b).await?;
    let invoice_number = crate::partners::db::next_invoice_number(conn, partner).await?;
    let issuer = crate::partners::db::details(&mut *conn, partner).await?;
    sqlx::query(
        "insert into bills (partner_id, period, subscription_id, status, finalized_at, currency, markup_percent,
                            invoice_number, issuer)
         values ($1, $2, $3, 'final', now(), $4, $5, $6, $7)
         on conflict (partner_id, period, subscription_id)
         do update set status = 'final', finalized_at = now(), currency = excluded.currency,
                       markup_percent = excluded.markup_percent, invoice_number = excluded.invoice_number,
                       issuer = excluded.issuer",
    )
    .bind(partner)
    .bind(period.start())
    .bind(sub)
    .bind(&b.currency)
    .bind(b.markup_percent)
    .bind(invoice_number)
    .bind(sqlx::types::Json(&issuer))
    .execute(&mut *conn)
    .await?;
    freeze_lines(conn, period, &b).await?;
    audit(conn, actor, &b, "bill.finalise").await?;
    let final_bill = bill(conn, partner, sub, period).await?;
    crate::webhooks::detect::bill_finalised(conn, &final_bill).await?;
    Ok(final_bill)
}

/// Why the bill may not be finalised now, if it may not: already final, amounts still being re-rated, its month not
/// over, or usage without a price (nothing disappears silently, PRODUCT §4 R9).
async fn may_finalise(conn: &mut PgConnection, partner: Uuid, b: &Bill) -> Result<(), AppError> {
    if b.status == super::BillStatus::Final {
        return Err(AppError::Conflict("This bill is already final.".into()));
    }
    if crate::charges::db::queued(&mut *conn, partner).await? > 0 {
        return Err(AppError::Conflict(
            "Your stacks are being re-rated after a price list or meter map change; finalise in a minute, once done."
                .into(),
        ));
    }
    if !b.period_ended {
        return Err(AppError::Validation(format!(
            "{} has not ended yet (UTC); a bill is finalised after its month.",
            b.period
        )));
    }
    if let Some(u) = b.uncharged.iter().find(|u| u.is_unpriced()) {
        return Err(AppError::Validation(format!(
            "Finalising is blocked: {} has usage without a price in {} ({} units from {} to {} on {}); import a price list that covers it, then finalise.",
            u.meter_name, b.currency, u.quantity.normalize(), u.first_day, u.last_day, u.stacks
        )));
    }
    Ok(())
}

/// Stores the bill's lines as they are now: from here on they are what the bill says.
async fn freeze_lines(conn: &mut PgConnection, period: Period, b: &Bill) -> Result<(), AppError> {
    let stacks: Vec<(Uuid, Uuid)> = sqlx::query_as("select cloud_id, stack_id from stacks where cloud_id = any($1)")
        .bind(b.lines.iter().map(|l| l.stack_cloud_id).collect::<Vec<_>>())
        .fetch_all(&mut *conn)
        .await?;
    for (no, l) in b.lines.iter().enumerate() {
        let stack = stacks.iter().find(|(c, _)| *c == l.stack_cloud_id).map(|(_, s)| *s).ok_or(AppError::Internal)?;
        let charge_period = l.charge_period;
        // Checked against the schema when compiled (seventeen binds in order; `.sqlx/` holds the checked form).
        sqlx::query!(
            "insert into bill_lines (partner_id, period, subscription_id, line_no, line_type, stack_id, commerce_meter_id,
                                     meter_name, region, unit, quantity, unit_price, precise_amount, amount, customer_price,
                                     currency, charge_period)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            b.partner_id,
            period.start(),
            b.subscription_id,
            no as i32 + 1,
            l.line_type as super::LineType,
            stack,
            l.commerce_meter_id,
            l.meter_name,
            l.region,
            l.unit,
            l.quantity,
            l.unit_price,
            l.precise_amount,
            l.amount,
            l.customer_price,
            b.currency,
            charge_period.start(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn audit(conn: &mut PgConnection, actor: &Actor, b: &Bill, action: &str) -> Result<(), AppError> {
    let event = Event {
        partner_id: Some(b.partner_id),
        action,
        entity_type: "bill",
        entity_id: format!("{}/{}", b.period, b.subscription_id),
        before: Some(serde_json::json!({ "status": b.status })),
        after: Some(serde_json::json!({
            "status": if action == "bill.finalise" { "final" } else { "draft" },
            "lines": b.lines.len(), "amount": b.total_amount, "customerPrice": b.total_customer_price,
            "currency": b.currency,
        })),
    };
    record(conn, actor, event).await
}

/// Sets a partner's default markup, or a customer's own (`sub`), in percent; `None` removes a customer's own.
pub async fn set_markup(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    sub: Option<Uuid>,
    percent: Option<Decimal>,
) -> Result<(), AppError> {
    if percent.is_some_and(|p| p.is_sign_negative() || p > Decimal::from(1000)) {
        return Err(AppError::Rule {
            field: super::forms::MarkupForm::FIELDS.markup.into(),
            message: "A markup is between 0 and 1000 %.".into(),
        });
    }
    match (sub, percent) {
        (None, Some(p)) => {
            sqlx::query("update partners set markup_percent = $2, updated_at = now() where partner_id = $1")
                .bind(partner)
                .bind(p)
                .execute(&mut *conn)
                .await?;
        }
        (None, None) => {
            return Err(AppError::Rule {
                field: super::forms::MarkupForm::FIELDS.markup.into(),
                message: "Give the default markup in %.".into(),
            })
        }
        (Some(s), Some(p)) => {
            sqlx::query(
                "insert into customer_markups (partner_id, subscription_id, markup_percent) values ($1, $2, $3)
                 on conflict (partner_id, subscription_id) do update set markup_percent = excluded.markup_percent, updated_at = now()",
            )
            .bind(partner)
            .bind(s)
            .bind(p)
            .execute(&mut *conn)
            .await?;
        }
        (Some(s), None) => {
            sqlx::query("delete from customer_markups where partner_id = $1 and subscription_id = $2")
                .bind(partner)
                .bind(s)
                .execute(&mut *conn)
                .await?;
        }
    }
    let event = Event {
        partner_id: Some(partner),
        action: "markup.set",
        entity_type: if sub.is_some() { "subscription" } else { "partner" },
        entity_id: sub.unwrap_or(partner).to_string(),
        before: None,
        after: Some(serde_json::json!({ "markupPercent": percent })),
    };
    record(conn, actor, event).await
}
