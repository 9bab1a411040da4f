//! Stack queries. Every one takes a [`Scope`]: partner users never see another partner's rows.
use sqlx::PgExecutor;

use super::{PartnerSummary, StackSummary};
use crate::auth::Scope;
use crate::paging::{PageOf, Paged};
use crate::sorting::Order;
use crate::AppError;

/// A page of the stacks in scope, with their current registration, by partner then name.
#[tracing::instrument(skip(db))]
pub async fn list_stacks(
    db: impl PgExecutor<'_>,
    scope: Scope,
    archived: bool,
    page: PageOf,
    order: &Order,
) -> Result<Paged<StackSummary>, AppError> {
    Ok(page.of(stacks(db, scope, Which::Listed { archived, order }, page.limit(), page.offset()).await?))
}

/// The stack list's columns as the address names them, and what they sort by.
pub const STACK_SORTS: [(&str, &str); 6] = [
    ("stack", "lower(s.name)"),
    ("partner", "lower(p.name)"),
    ("cloud", "s.cloud_id::text"),
    ("region", "s.region"),
    ("registration", "r.billing_model"),
    ("mappings", "current_mappings"),
];

/// Which stacks a query reads: a list (with or without the archived ones) in an order, or the one with a cloud ID.
#[derive(Debug, Clone, Copy)]
enum Which<'a> {
    Listed { archived: bool, order: &'a Order },
    One(uuid::Uuid),
}

/// How many of the stacks in scope are archived (the home page offers to show them).
pub async fn archived_count(db: impl PgExecutor<'_>, scope: Scope) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "select count(*) from stacks where archived_at is not null and ($1::uuid is null or partner_id = $1)",
    )
    .bind(scope.partner_filter())
    .fetch_one(db)
    .await?)
}

/// The stacks in scope (one when `cloud` is given).
async fn stacks(
    db: impl PgExecutor<'_>,
    scope: Scope,
    which: Which<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<StackSummary>, AppError> {
    const BY_NAME: &str = "p.name, s.name, s.stack_id";
    let (cloud, archived, order_by) = match which {
        Which::Listed { archived, order } => (None, archived, order.sql(&STACK_SORTS, BY_NAME, "s.stack_id")),
        Which::One(cloud) => (Some(cloud), true, BY_NAME.to_string()),
    };
    Ok(sqlx::query_as(&format!(
        "select s.stack_id, s.partner_id, p.name as partner_name, s.name, s.cloud_id, s.region,
                r.billing_model,
                (select d.subscription_id from registration_defaults d
                  where d.stack_id = s.stack_id and d.valid_to is null) as default_subscription,
                (select count(*) from tenant_mappings m
                  where m.stack_id = s.stack_id and m.valid_to is null) as current_mappings,
                s.archived_at
         from stacks s
         join partners p on p.partner_id = s.partner_id
         left join registrations r on r.stack_id = s.stack_id and r.status = 'registered'
         where ($1::uuid is null or s.partner_id = $1) and ($4::uuid is null or s.cloud_id = $4)
           and ($5 or s.archived_at is null)
         order by {order_by} limit $2 offset $3"
    ))
    .bind(scope.partner_filter())
    .bind(limit)
    .bind(offset)
    .bind(cloud)
    .bind(archived)
    .fetch_all(db)
    .await?)
}

/// The partner list's columns as the address names them, and what they sort by.
pub const PARTNER_SORTS: [(&str, &str); 5] = [
    ("partner", "lower(p.name)"),
    ("id", "p.partner_id::text"),
    ("mpn", "p.mpn_id::bigint"),
    ("currency", "p.currency::text"),
    ("stacks", "stacks"),
];

/// A page of every partner with its stack count (operators only; the caller checks the role).
#[tracing::instrument(skip(db))]
pub async fn list_partners(
    db: impl PgExecutor<'_>,
    page: PageOf,
    order: &Order,
) -> Result<Paged<PartnerSummary>, AppError> {
    let order_by = order.sql(&PARTNER_SORTS, "p.name, p.partner_id", "p.partner_id");
    let rows = sqlx::query_as(&format!(
        "select p.partner_id, p.name, p.mpn_id, p.currency::text as currency,
                (select count(*) from stacks s where s.partner_id = p.partner_id) as stacks
         from partners p order by {order_by} limit $1 offset $2"
    ))
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(db)
    .await?;
    Ok(page.of(rows))
}

/// What adding a stack did.
#[derive(Debug)]
pub enum Added {
    /// The new stack's ID.
    Stack(uuid::Uuid),
    /// Refused (R1): another partner has this cloud ID. The refusal neither confirms that nor says who; the conflict
    /// is in the audit log for the operator, so the caller commits the transaction and then reports the refusal.
    Refused(AppError),
}

impl Added {
    /// The stack's ID, or the refusal.
    pub fn into_result(self) -> Result<uuid::Uuid, AppError> {
        match self {
            Added::Stack(id) => Ok(id),
            Added::Refused(e) => Err(e),
        }
    }
}

/// Adds a stack for a partner (R1: a cloud ID is registered once; the refusal does not say by whom).
pub async fn add_stack(
    conn: &mut sqlx::PgConnection,
    actor: &crate::audit::Actor,
    partner_id: uuid::Uuid,
    s: &super::NewStack,
) -> Result<Added, AppError> {
    let owner: Option<uuid::Uuid> = sqlx::query_scalar("select partner_id from stacks where cloud_id = $1")
        .bind(s.cloud_id)
        .fetch_optional(&mut *conn)
        .await?;
    match owner {
        Some(p) if p == partner_id => {
            return Err(AppError::Conflict(format!("R1: you already have a stack with cloud ID {}", s.cloud_id)))
        }
        Some(other) => return conflict(conn, actor, partner_id, other, s).await,
        None => {}
    }
    let inserted: Result<uuid::Uuid, sqlx::Error> = sqlx::query_scalar(
        "insert into stacks (partner_id, name, cloud_id, region, admin_endpoint) values ($1, $2, $3, $4, $5) returning stack_id",
    )
    .bind(partner_id)
    .bind(&s.name)
    .bind(s.cloud_id)
    .bind(&s.region)
    .bind(&s.admin_endpoint)
    .fetch_one(&mut *conn)
    .await;
    let stack_id = match inserted {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("stacks_cloud_id_key") => {
            return Err(AppError::Conflict(cannot_add(s)))
        }
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("stacks_partner_id_name_key") => {
            return Err(AppError::Conflict(format!("name: you already have a stack named “{}”", s.name)))
        }
        other => other?,
    };
    let event = crate::audit::db::Event {
        partner_id: Some(partner_id),
        action: "stack.add",
        entity_type: "stack",
        entity_id: s.cloud_id.to_string(),
        before: None,
        after: serde_json::to_value(s).ok(),
    };
    crate::audit::db::record(conn, actor, event).await?;
    Ok(Added::Stack(stack_id))
}

fn cannot_add(s: &super::NewStack) -> String {
    format!("R1: cloud ID {} cannot be added; if this stack is yours, contact the operator", s.cloud_id)
}

/// Another partner's cloud ID: an audit event the operator sees (no partner does), and a refusal that says nothing.
async fn conflict(
    conn: &mut sqlx::PgConnection,
    actor: &crate::audit::Actor,
    partner_id: uuid::Uuid,
    owner: uuid::Uuid,
    s: &super::NewStack,
) -> Result<Added, AppError> {
    let event = crate::audit::db::Event {
        partner_id: None,
        action: "stack.conflict",
        entity_type: "stack",
        entity_id: s.cloud_id.to_string(),
        before: Some(serde_json::json!({ "owner": owner })),
        after: Some(serde_json::json!({ "requestedBy": partner_id, "name": s.name })),
    };
    crate::audit::db::record(conn, actor, event).await?;
    Ok(Added::Refused(AppError::Conflict(cannot_add(s))))
}

/// One stack, a page of its mappings and its owner's directory subscriptions; `NotFound` outside the scope.
pub async fn detail(
    db: &sqlx::PgPool,
    scope: Scope,
    cloud_id: uuid::Uuid,
    history: bool,
    of: PageOf,
) -> Result<(StackSummary, Paged<super::MappingRow>, Vec<super::SubscriptionOption>), AppError> {
    let stack = stacks(db, scope, Which::One(cloud_id), 1, 0).await?.into_iter().next().ok_or(AppError::NotFound)?;
    let mappings = sqlx::query_as(
        "select m.tenant_id, coalesce(c.customer_name, '') as customer_name, m.subscription_id,
                m.valid_from, m.valid_to
         from tenant_mappings m left join commerce_subscriptions c on c.subscription_id = m.subscription_id
         where m.stack_id = $1 and ($2 or m.valid_to is null)
         order by customer_name, m.tenant_id, m.valid_from limit $3 offset $4",
    )
    .bind(stack.stack_id)
    .bind(history)
    .bind(of.limit())
    .bind(of.offset())
    .fetch_all(db)
    .await?;
    let mappings = of.of(mappings);
    let subscriptions = sqlx::query_as(
        "select subscription_id, offer_type, customer_name, customer_tenant_id, status from commerce_subscriptions
         where billing_partner_id = $1 order by customer_name, offer_type",
    )
    .bind(stack.partner_id)
    .fetch_all(db)
    .await?;
    Ok((stack, mappings, subscriptions))
}

/// Renames a stack (names are unique per partner), audited.
pub async fn rename_stack(
    conn: &mut sqlx::PgConnection,
    actor: &crate::audit::Actor,
    stack: &crate::registrations::db::StackRef,
    name: &str,
) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Validation("name: give a stack name of 1 to 100 characters".into()));
    }
    let renamed = sqlx::query("update stacks set name = $2, updated_at = now() where stack_id = $1")
        .bind(stack.stack_id)
        .bind(name)
        .execute(&mut *conn)
        .await;
    match renamed {
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("stacks_partner_id_name_key") => {
            return Err(AppError::Conflict(format!("name: you already have a stack named “{name}”")))
        }
        other => other?,
    };
    let event = crate::audit::db::Event {
        partner_id: Some(stack.partner_id),
        action: "stack.rename",
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: Some(serde_json::json!({ "name": stack.name })),
        after: Some(serde_json::json!({ "name": name })),
    };
    crate::audit::db::record(conn, actor, event).await
}

/// Archives a stack (`archive`) or restores it, audited; archiving an archived stack (or restoring a listed one)
/// changes nothing and says so.
pub async fn set_archived(
    conn: &mut sqlx::PgConnection,
    actor: &crate::audit::Actor,
    stack: &crate::registrations::db::StackRef,
    archive: bool,
) -> Result<(), AppError> {
    let changed = sqlx::query(
        "update stacks set archived_at = case when $2 then now() end, updated_at = now()
         where stack_id = $1 and (archived_at is not null) <> $2",
    )
    .bind(stack.stack_id)
    .bind(archive)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        let state = if archive { "already archived" } else { "not archived" };
        return Err(AppError::Conflict(format!("{} is {state}", stack.name)));
    }
    let event = crate::audit::db::Event {
        partner_id: Some(stack.partner_id),
        action: if archive { "stack.archive" } else { "stack.restore" },
        entity_type: "stack",
        entity_id: stack.cloud_id.to_string(),
        before: Some(serde_json::json!({ "archived": !archive })),
        after: Some(serde_json::json!({ "archived": archive })),
    };
    crate::audit::db::record(conn, actor, event).await
}

/// Refuses a change of usage for an archived stack: Stackbill takes no usage for it until it is restored.
pub async fn refuse_if_archived(
    conn: &mut sqlx::PgConnection,
    stack_id: uuid::Uuid,
    name: &str,
) -> Result<(), AppError> {
    let archived: Option<bool> = sqlx::query_scalar("select archived_at is not null from stacks where stack_id = $1")
        .bind(stack_id)
        .fetch_optional(conn)
        .await?;
    if archived == Some(true) {
        return Err(AppError::Conflict(format!(
            "{name} is archived: Stackbill takes no usage for it. A partner admin can restore it on its page"
        )));
    }
    Ok(())
}

/// What has arrived for a stack: the latest usage hour (by the period index) and the latest arrival (audit log).
pub async fn usage_status(
    db: &sqlx::PgPool,
    stack: &StackSummary,
) -> Result<crate::usage::panel::UsageStatus, AppError> {
    let latest_usage_hour: Option<time::OffsetDateTime> = sqlx::query_scalar(
        "select max(usage_start)
         from usage_records where partner_id = $1 and stack_id = $2",
    )
    .bind(stack.partner_id)
    .bind(stack.stack_id)
    .fetch_one(db)
    .await?;
    let last_arrival: Option<(time::OffsetDateTime, String)> = sqlx::query_as(
        "select at, actor_label
         from audit_events
         where partner_id = $1 and entity_type = 'stack' and entity_id = $2 and action like 'usage.%'
         order by at desc limit 1",
    )
    .bind(stack.partner_id)
    .bind(stack.cloud_id.to_string())
    .fetch_optional(db)
    .await?;
    Ok(crate::usage::panel::UsageStatus { latest_usage_hour, last_arrival })
}
