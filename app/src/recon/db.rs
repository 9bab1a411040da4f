//! Storing a reconciliation file: one current import per partner and month; a re-import replaces the lines of the
//! previous one and records what changed, per (subscription, usage day, commerce meter).
use std::collections::HashMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{ImportSummary, ReconFile, ReconLine};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::domain::Period;
use crate::AppError;

/// What is compared: quantity and amount per (subscription, day, meter).
type Totals = HashMap<(Uuid, time::Date, Uuid), (Decimal, Decimal)>;

/// Quantity and amount summed per (subscription, day, meter).
fn totals(lines: impl IntoIterator<Item = (Uuid, time::Date, Uuid, Decimal, Decimal)>) -> Totals {
    let mut t = Totals::new();
    for (sub, day, meter, quantity, amount) in lines {
        let e = t.entry((sub, day, meter)).or_default();
        e.0 += quantity;
        e.1 += amount;
    }
    t
}

/// Stores `file` as the partner's reconciliation file of its month, replacing an earlier one; refused when the file
/// is another Partner Center account's.
pub async fn import(
    conn: &mut PgConnection,
    actor: &Actor,
    partner: Uuid,
    file_name: &str,
    file: &ReconFile,
) -> Result<ImportSummary, AppError> {
    // One import of a partner at a time: the row lock orders concurrent ones.
    let (name, tenant, currency): (String, Uuid, String) =
        sqlx::query_as("select name, directory_tenant_id, currency from partners where partner_id = $1 for update")
            .bind(partner)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(AppError::NotFound)?;
    if tenant != file.partner_tenant_id {
        return Err(AppError::Validation(format!(
            "PartnerId: the file is of the Partner Center account {}, not of {name} (tenant {tenant}); export {name}'s file",
            file.partner_tenant_id
        )));
    }
    // Amounts are compared in the partner's currency; a line in another is refused, by line.
    let foreign: Vec<String> = file
        .lines
        .iter()
        .filter(|l| l.currency != currency)
        .take(crate::rows::MAX_ERRORS)
        .map(|l| format!("line {}, BillingCurrency: {} is not {name}'s currency, {currency}", l.line, l.currency))
        .collect();
    if !foreign.is_empty() {
        return Err(AppError::Validation(foreign.join("\n")));
    }
    let previous: Option<Uuid> = sqlx::query_scalar(
        "update recon_imports set superseded_at = now()
         where partner_id = $1 and period = $2 and superseded_at is null returning import_id",
    )
    .bind(partner)
    .bind(file.period)
    .fetch_optional(&mut *conn)
    .await?;
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    if let Some(previous) = previous {
        let old: Vec<(Uuid, time::Date, Uuid, Decimal, Decimal)> = sqlx::query_as(
            "delete from recon_lines where partner_id = $1 and import_id = $2
             returning subscription_id, usage_day, commerce_meter_id, quantity, amount",
        )
        .bind(partner)
        .bind(previous)
        .fetch_all(&mut *conn)
        .await?;
        let before = totals(old);
        let after = totals(
            file.lines.iter().map(|l| (l.subscription_id, l.usage_day, l.commerce_meter_id, l.quantity, l.amount)),
        );
        added = after.keys().filter(|k| !before.contains_key(k)).count();
        removed = before.keys().filter(|k| !after.contains_key(k)).count();
        changed = after.iter().filter(|(k, v)| before.get(k).is_some_and(|b| b != *v)).count();
    }
    let summary = ImportSummary {
        period: Period::of_day(file.period).to_string(),
        lines: file.lines.len(),
        set_aside: file.set_aside,
        replaced: previous.is_some(),
        added,
        removed,
        changed,
    };
    let changes = previous.map(|_| serde_json::json!({"added": added, "removed": removed, "changed": changed}));
    let import: Uuid = sqlx::query_scalar(
        "insert into recon_imports (partner_id, period, file_name, imported_by, lines, set_aside, changes)
         values ($1, $2, $3, $4, $5, $6, $7) returning import_id",
    )
    .bind(partner)
    .bind(file.period)
    .bind(file_name)
    .bind(&actor.label)
    .bind(file.lines.len() as i32)
    .bind(file.set_aside as i32)
    .bind(changes)
    .fetch_one(&mut *conn)
    .await?;
    store_lines(conn, partner, import, &file.lines).await?;
    let after = serde_json::to_value(&summary).map_err(|_| AppError::Internal)?;
    let event = Event {
        partner_id: Some(partner),
        action: "recon.import",
        entity_type: "reconciliation",
        entity_id: summary.period.clone(),
        before: None,
        after: Some(after),
    };
    record(conn, actor, event).await?;
    crate::webhooks::detect::recon_imported(conn, partner, Period::of_day(file.period), import).await?;
    Ok(summary)
}

async fn store_lines(
    conn: &mut PgConnection,
    partner: Uuid,
    import: Uuid,
    lines: &[ReconLine],
) -> Result<(), AppError> {
    let col = |f: fn(&ReconLine) -> Uuid| lines.iter().map(f).collect::<Vec<_>>();
    let num = |f: fn(&ReconLine) -> Decimal| lines.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "insert into recon_lines (partner_id, import_id, line, subscription_id, customer_tenant_id, customer_name,
                                  usage_day, commerce_meter_id, meter_name, quantity, unit_price, effective_unit_price,
                                  amount, currency)
         select $1, $2, * from unnest($3::int[], $4::uuid[], $5::uuid[], $6::text[], $7::date[], $8::uuid[], $9::text[],
                                      $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::text[])",
    )
    .bind(partner)
    .bind(import)
    .bind(lines.iter().map(|l| l.line as i32).collect::<Vec<_>>())
    .bind(col(|l| l.subscription_id))
    .bind(col(|l| l.customer_tenant_id))
    .bind(lines.iter().map(|l| l.customer_name.as_str()).collect::<Vec<_>>())
    .bind(lines.iter().map(|l| l.usage_day).collect::<Vec<_>>())
    .bind(col(|l| l.commerce_meter_id))
    .bind(lines.iter().map(|l| l.meter_name.as_str()).collect::<Vec<_>>())
    .bind(num(|l| l.quantity))
    .bind(num(|l| l.unit_price))
    .bind(num(|l| l.effective_unit_price))
    .bind(num(|l| l.amount))
    .bind(lines.iter().map(|l| l.currency.as_str()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The partner's current import of the month, if any.
pub async fn current(
    conn: &mut PgConnection,
    partner: Uuid,
    period: Period,
) -> Result<Option<super::view::Imported>, AppError> {
    Ok(sqlx::query_as(
        "select import_id, file_name, imported_by, imported_at, lines, set_aside, changes is not null as replaced
         from recon_imports where partner_id = $1 and period = $2 and superseded_at is null",
    )
    .bind(partner)
    .bind(period.start())
    .fetch_optional(conn)
    .await?)
}

/// The month of the partner's latest import, if any.
pub async fn last_imported(conn: &mut PgConnection, partner: Uuid) -> Result<Option<Period>, AppError> {
    let day: Option<time::Date> = sqlx::query_scalar(
        "select period from recon_imports where partner_id = $1 and superseded_at is null
         order by imported_at desc limit 1",
    )
    .bind(partner)
    .fetch_optional(conn)
    .await?;
    Ok(day.map(Period::of_day))
}
