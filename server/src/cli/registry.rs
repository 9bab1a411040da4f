//! `stackbill stack|registration|tenant …`: the same domain code and rules as the stack pages.
use anyhow::Context;
use clap::Subcommand;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use app::audit::Actor;
use app::auth::Scope;
use app::domain::BillingModel;
use app::registrations::db::{set_registration, stack_by_cloud_id};
use app::registrations::mappings::{map_tenant, unmap_tenant, Expect};
use app::stacks::NewStack;

fn guid(what: &str, s: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(s.trim()).with_context(|| format!("{what}: “{s}” is not a GUID"))
}

fn time(s: Option<&str>) -> anyhow::Result<Option<OffsetDateTime>> {
    s.map(|s| {
        OffsetDateTime::parse(s, &Rfc3339)
            .with_context(|| format!("--from: “{s}” is not an RFC 3339 time such as 2026-11-01T00:00:00Z"))
    })
    .transpose()
}

/// `stackbill stack …`
#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Add a stack for a partner.
    Add {
        /// The partner's Partner ID.
        #[arg(long)]
        partner: String,
        /// Stack name.
        #[arg(long)]
        name: String,
        /// Azure Stack cloud ID (CloudDeploymentID).
        #[arg(long)]
        cloud_id: String,
        /// Free region label.
        #[arg(long, default_value = "")]
        region: String,
        /// Admin ARM endpoint, for the usage collector.
        #[arg(long, default_value = "")]
        endpoint: String,
    },
}

impl StackCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let StackCommand::Add { partner, name, cloud_id, region, endpoint } = self;
        let partner = guid("--partner", &partner)?;
        let stack = NewStack::parse(&name, &cloud_id, &region, &endpoint)?;
        let mut tx = pool.begin().await?;
        let exists = app::partners::db::exists(&mut *tx, partner).await?;
        anyhow::ensure!(exists, "--partner: no partner has Partner ID {partner}");
        let added = app::stacks::db::add_stack(&mut tx, &Actor::command_line(), partner, &stack).await?;
        tx.commit().await?;
        added.into_result()?;
        println!("added stack {name}");
        Ok(())
    }
}

/// `stackbill registration …`
#[derive(Debug, Subcommand)]
pub enum RegistrationCommand {
    /// Set the default subscription and billing model.
    Set {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// The default subscription.
        #[arg(long = "default")]
        default_subscription: String,
        /// PayAsYouUse, Capacity or Development.
        #[arg(long, default_value = "PayAsYouUse")]
        billing_model: String,
        /// When the default subscription takes effect (RFC 3339; R7 applies). Default: now, or for a stack's first
        /// registration every open bill period.
        #[arg(long)]
        from: Option<String>,
    },
}

impl RegistrationCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let RegistrationCommand::Set { stack, default_subscription, billing_model, from } = self;
        let (cloud_id, sub) = (guid("--stack", &stack)?, guid("--default", &default_subscription)?);
        let model = BillingModel::parse(&billing_model)?;
        let mut tx = pool.begin().await?;
        let stack =
            stack_by_cloud_id(&mut tx, Scope::All, cloud_id).await.with_context(|| format!("--stack {cloud_id}"))?;
        set_registration(&mut tx, &Actor::command_line(), &stack, model, sub, time(from.as_deref())?).await?;
        tx.commit().await?;
        println!("registered {} with default subscription {sub} ({})", stack.name, model.as_str());
        Ok(())
    }
}

/// `stackbill tenant …`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Map a directory tenant to its CSP subscription (replacing its current one).
    Map {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// The customer's directory tenant.
        #[arg(long)]
        tenant: String,
        /// The customer's CSP subscription.
        #[arg(long)]
        subscription: String,
        /// Effective time (RFC 3339); default now.
        #[arg(long)]
        from: Option<String>,
    },
    /// Remove a tenant's mapping; its later usage goes to the default subscription.
    Unmap {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// The customer's directory tenant.
        #[arg(long)]
        tenant: String,
        /// Effective time (RFC 3339); default now.
        #[arg(long)]
        from: Option<String>,
    },
}

impl TenantCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let mut tx = pool.begin().await?;
        let actor = Actor::command_line();
        match self {
            TenantCommand::Map { stack, tenant, subscription, from } => {
                let stack =
                    stack_by_cloud_id(&mut tx, Scope::All, guid("--stack", &stack)?).await.context("--stack")?;
                let (tenant, sub) = (guid("--tenant", &tenant)?, guid("--subscription", &subscription)?);
                map_tenant(&mut tx, &actor, &stack, tenant, sub, time(from.as_deref())?, Expect::Anything).await?;
                println!("mapped tenant {tenant} to subscription {sub} on {}", stack.name);
            }
            TenantCommand::Unmap { stack, tenant, from } => {
                let stack =
                    stack_by_cloud_id(&mut tx, Scope::All, guid("--stack", &stack)?).await.context("--stack")?;
                let tenant = guid("--tenant", &tenant)?;
                unmap_tenant(&mut tx, &actor, &stack, tenant, time(from.as_deref())?, Expect::Anything).await?;
                println!("removed tenant {tenant}'s subscription on {}", stack.name);
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `stackbill keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an ingestion key for a stack; the key is printed once, alone on the last line.
    Create {
        /// The stack's cloud ID.
        #[arg(long)]
        stack: String,
        /// A name to recognise the key by.
        #[arg(long, default_value = "collector")]
        name: String,
    },
}

impl KeysCommand {
    /// Runs it in one transaction.
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let KeysCommand::Create { stack, name } = self;
        let mut tx = pool.begin().await?;
        let stack = stack_by_cloud_id(&mut tx, Scope::All, guid("--stack", &stack)?).await.context("--stack")?;
        let key = app::keys::db::create_key(&mut tx, &Actor::command_line(), &stack, &name).await?;
        tx.commit().await?;
        println!("ingestion key “{name}” for {} (shown once; store it now):", stack.name);
        println!("{key}");
        Ok(())
    }
}
