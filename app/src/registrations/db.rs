//! Stacks, registrations and tenant mappings in the database. Every change locks its stack row first, so changes
//! to one stack are serialised, checks the rules on what is committed, and writes its audit event in the same
//! transaction.
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::rules::{check_default, DirectoryEntry, RegistrationFacts, RuleViolation};
use crate::audit::db::{record, Event};
use crate::audit::Actor;
use crate::auth::Scope;
use crate::domain::when::long;
use crate::domain::{BillingModel, OfferType, SubscriptionStatus};
use crate::AppError;

/// A stack the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StackRef {
    /// Stackbill's stack ID.
    pub stack_id: Uuid,
    /// Owner.
    pub partner_id: Uuid,
    /// The stack's display name, for messages and the audit log.
    pub name: String,
    /// The stack's cloud ID, as its URL carries it.
    pub cloud_id: Uuid,
}

impl From<RuleViolation> for AppError {
    fn from(v: RuleViolation) -> Self {
        AppError::Rule { field: v.field.input().to_string(), message: v.to_string() }
    }
}

/// The stack with this cloud ID, if the scope allows; otherwise `NotFound`, never a hint that it exists.
pub async fn stack_by_cloud_id(conn: &mut PgConnection, scope: Scope, cloud_id: Uuid) -> Result<StackRef, AppError> {
    sqlx::query_as("select stack_id, partner_id, name, cloud_id from stacks where cloud_id = $1 and ($2::uuid is null or partner_id = $2)")
        .bind(cloud_id)
        .bind(scope.partner_filter())
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A number that changes with every mapping change on the stack (each add, replace or removal), read under the
/// stack's lock: forms carry the value they were rendered with, so a concurrent change is detected.
pub async fn mappings_version(conn: &mut PgConnection, stack: &StackRef) -> Result<i64, AppError> {
    lock(conn, stack).await?;
    version_now(conn, stack.stack_id).await
}

/// The mapping version as it is now, without the lock: what a page renders its forms with.
pub async fn version_now(conn: impl sqlx::PgExecutor<'_>, stack_id: Uuid) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("select count(*) + count(valid_to) from tenant_mappings where stack_id = $1")
        .bind(stack_id)
        .fetch_one(conn)
        .await?)
}

/// Locks the stack row for the rest of the transaction.
pub(super) async fn lock(conn: &mut PgConnection, stack: &StackRef) -> Result<(), AppError> {
    sqlx::query("select 1 from stacks where stack_id = $1 for no key update")
        .bind(stack.stack_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    subscription_id: Uuid,
    offer_type: String,
    billing_partner_id: Uuid,
    customer_tenant_id: Uuid,
    customer_name: String,
    status: String,
}

pub(super) async fn directory_entry(conn: &mut PgConnection, id: Uuid) -> Result<Option<DirectoryEntry>, AppError> {
    let row: Option<EntryRow> = sqlx::query_as(
        "select subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name, status
         from commerce_subscriptions where subscription_id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(DirectoryEntry {
            subscription_id: r.subscription_id,
            offer: OfferType::parse(&r.offer_type)?,
            billing_partner: r.billing_partner_id,
            customer_tenant: r.customer_tenant_id,
            customer_name: r.customer_name,
            status: SubscriptionStatus::parse(&r.status)?,
        })
    })
    .transpose()
}

/// The name of a directory tenant's customer in the partner's own commerce directory (none when it has no
/// subscription there).
pub(super) async fn tenant_name(
    conn: &mut PgConnection,
    partner: Uuid,
    tenant: Uuid,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "select min(customer_name) from commerce_subscriptions where billing_partner_id = $1 and customer_tenant_id = $2",
    )
    .bind(partner)
    .bind(tenant)
    .fetch_one(conn)
    .await?)
}

async fn current_mappings(conn: &mut PgConnection, stack: &StackRef) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar("select count(*) from tenant_mappings where stack_id = $1 and valid_to is null")
        .bind(stack.stack_id)
        .fetch_one(conn)
        .await?)
}

/// Registers a stack or changes its registration (R1, R3, R5, R8, R9, R10). A new default subscription takes
/// effect `from` (default now; R7 applies) and the old one keeps the time before. A stack's first registration
/// without `from` covers every open bill period (from the month after the partner's latest final bill, or all
/// time), so usage uploaded after onboarding is never billed to nobody.
pub async fn set_registration(
    conn: &mut PgConnection,
    actor: &Actor,
    stack: &StackRef,
    model: BillingModel,
    default_subscription: Uuid,
    from: Option<OffsetDateTime>,
) -> Result<(), AppError> {
    lock(conn, stack).await?;
    let entry = directory_entry(conn, default_subscription).await?;
    let mappings = current_mappings(conn, stack).await?;
    check_default(stack.partner_id, model, default_subscription, entry.as_ref(), mappings as usize)?;
    let before: Option<(String, Uuid)> = sqlx::query_as(
        "select r.billing_model, d.subscription_id from registrations r
         join registration_defaults d on d.stack_id = r.stack_id and d.valid_to is null where r.stack_id = $1",
    )
    .bind(stack.stack_id)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query(
        "insert into registrations (stack_id, partner_id, billing_model) values ($1, $2, $3)
         on conflict (stack_id) do update set billing_model = excluded.billing_model, status = 'registered', updated_at = now()",
    )
    .bind(stack.stack_id)
    .bind(stack.partner_id)
    .bind(model.as_str())
    .execute(&mut *conn)
    .await?;
    if before.as_ref().map(|b| b.1) != Some(default_subscription) {
        set_default(conn, stack, default_subscription, from).await?;
    }
    if before.as_ref().is_some_and(|b| b.0 != model.as_str()) {
        // The billing model decides whether usage is charged at all (it is not dated): all of it is re-rated.
        crate::charges::db::rerate_stack_all(conn, stack.stack_id).await?;
    }
    let event = Event {
        partner_id: Some(stack.partner_id),
        action: "registration.set",
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: before.map(|(m, s)| json!({"billingModel": m, "defaultSubscription": s})),
        after: Some(json!({"billingModel": model.as_str(), "defaultSubscription": default_subscription})),
    };
    record(conn, actor, event).await
}

/// Makes `sub` the stack's default subscription from `from` (see [`set_registration`]) and re-rates from then.
async fn set_default(
    conn: &mut PgConnection,
    stack: &StackRef,
    sub: Uuid,
    from: Option<OffsetDateTime>,
) -> Result<(), AppError> {
    let first: bool = sqlx::query_scalar("select not exists (select 1 from registration_defaults where stack_id = $1)")
        .bind(stack.stack_id)
        .fetch_one(&mut *conn)
        .await?;
    let at = match (first, from) {
        // The start of the oldest open period: a timestamp in SQL, as it may be -infinity.
        (true, None) => None,
        (_, Some(at)) => Some(at),
        (false, None) => Some(crate::domain::clock::now()),
    };
    if let Some(at) = at {
        check_effective(conn, stack, at).await?;
        let began: Option<bool> = sqlx::query_scalar(
            "select valid_from >= $2 from registration_defaults where stack_id = $1 and valid_to is null",
        )
        .bind(stack.stack_id)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?;
        if began == Some(true) {
            return Err(AppError::Validation(format!(
                "The effective time, {}, must be after the current default subscription began (R7)",
                long(at)
            )));
        }
    }
    // Two statements: a data-modifying CTE would not order the close before the insert's exclusion check.
    sqlx::query("update registration_defaults set valid_to = $2 where stack_id = $1 and valid_to is null")
        .bind(stack.stack_id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into registration_defaults (stack_id, partner_id, subscription_id, valid_from)
         values ($1, $2, $3, coalesce($4, open_from($2)::timestamp at time zone 'utc'))",
    )
    .bind(stack.stack_id)
    .bind(stack.partner_id)
    .bind(sub)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("select rerate_stack($1, coalesce(($2 at time zone 'utc')::date, open_from($3)))")
        .bind(stack.stack_id)
        .bind(at)
        .bind(stack.partner_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// R2 over time: a tenant subscription may not start before the stack's registration does.
pub(super) async fn check_registered_at(
    conn: &mut PgConnection,
    stack: &StackRef,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    let registered: bool = sqlx::query_scalar(
        "select exists (select 1 from registration_defaults where stack_id = $1 and valid_from <= $2)",
    )
    .bind(stack.stack_id)
    .bind(at)
    .fetch_one(conn)
    .await?;
    if registered {
        return Ok(());
    }
    Err(AppError::Rule {
        field: super::forms::MappingForm::FIELDS.effective_from.into(),
        message: format!(
            "The stack is not registered on {}; a tenant subscription cannot start before the registration it belongs to. Register the stack from that time first, or choose a later time (R2)",
            long(at)
        ),
    })
}

pub(super) async fn registration_facts(
    conn: &mut PgConnection,
    stack: &StackRef,
) -> Result<Option<RegistrationFacts>, AppError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "select r.billing_model, c.offer_type from registrations r
         join registration_defaults d on d.stack_id = r.stack_id and d.valid_to is null
         join commerce_subscriptions c on c.subscription_id = d.subscription_id
         where r.stack_id = $1 and r.status = 'registered'",
    )
    .bind(stack.stack_id)
    .fetch_optional(conn)
    .await?;
    row.map(|(m, o)| Ok(RegistrationFacts { model: BillingModel::parse(&m)?, default_offer: OfferType::parse(&o)? }))
        .transpose()
}

/// R7: an effective time may be earlier than now, but not in the future, and the change may not reach a finalised
/// bill period: neither the one containing it nor any later one (a change from February on re-routes March too).
pub(super) async fn check_effective(
    conn: &mut PgConnection,
    stack: &StackRef,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    if at > crate::domain::clock::now() {
        return Err(AppError::Validation(format!(
            "The effective time, {}, is in the future; give a time up to now (R7)",
            long(at)
        )));
    }
    let finalised: Option<time::Date> = sqlx::query_scalar(
        "select period from bills where partner_id = $1 and status = 'final'
         and $2 < (period + interval '1 month')::timestamp at time zone 'utc' order by period desc limit 1",
    )
    .bind(stack.partner_id)
    .bind(at)
    .fetch_optional(conn)
    .await?;
    match finalised {
        Some(p) => Err(AppError::Validation(format!(
            "A change from {} would reach the billing period {}, whose bills are final; choose a time after it (R7)",
            long(at),
            crate::domain::when::month(crate::domain::Period::of_day(p))
        ))),
        None => Ok(()),
    }
}

/// The customer whose CSP subscription `sub` is, when it is one of the partner's and not already the stack's default:
/// making it the default bills every unmapped tenant's usage to that customer, so the page asks first.
pub async fn customer_default(
    conn: &mut PgConnection,
    stack: &StackRef,
    sub: Uuid,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "select c.customer_name from commerce_subscriptions c
         where c.subscription_id = $1 and c.billing_partner_id = $2 and c.offer_type = 'CSP'
           and c.customer_tenant_id <> (select directory_tenant_id from partners where partner_id = $2)
           and not exists (select 1 from registration_defaults d
                           where d.stack_id = $3 and d.valid_to is null and d.subscription_id = $1)",
    )
    .bind(sub)
    .bind(stack.partner_id)
    .bind(stack.stack_id)
    .fetch_optional(conn)
    .await?)
}
