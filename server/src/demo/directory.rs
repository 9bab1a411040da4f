//! Demo partners, commerce directory, stacks, registrations, tenant mappings and local subscriptions.
use sqlx::PgConnection;
use uuid::Uuid;

use app::audit::Actor;
use app::partners::NewPartner;

use super::guid;

/// A demo partner: `(name, Partner ID, MPN ID, directory tenant)`. The tenants match `end2end/idp/users.json`.
pub struct DemoPartner {
    /// Display name.
    pub name: &'static str,
    /// Microsoft Partner ID.
    pub partner_id: &'static str,
    /// MPN ID.
    pub mpn_id: &'static str,
    /// The partner's own directory tenant (the sign-in `tid`).
    pub tenant: &'static str,
}

/// The first demo partner.
pub const CONTOSO: DemoPartner = DemoPartner {
    name: "Contoso Cloud Services",
    partner_id: "3f2a6b1e-7c4d-4e8a-9b2f-1a2b3c4d5e01",
    mpn_id: "4390934",
    tenant: "c0de0001-aaaa-4bbb-8ccc-000000000001",
};
/// The second demo partner.
pub const FABRIKAM: DemoPartner = DemoPartner {
    name: "Fabrikam Hosting",
    partner_id: "3f2a6b1e-7c4d-4e8a-9b2f-1a2b3c4d5e02",
    mpn_id: "5120877",
    tenant: "c0de0002-aaaa-4bbb-8ccc-000000000002",
};

const TENANT: u32 = 0x7e4a_0000;
const SUBSCRIPTION: u32 = 0x5b5c_0000;
const LOCAL_SUB: u32 = 0x10ca_0000;
const STACK_CLOUD: u32 = 0xc10d_0000;

/// Customers: (number, name, partner index 0 or 1). Each gets a directory tenant `guid(TENANT, n)`.
const CUSTOMERS: &[(u64, &str, usize)] = &[
    (1, "Northwind Traders", 0),
    (2, "Adatum Corporation", 0),
    (3, "Tailspin Toys", 0),
    (4, "Wingtip Toys", 0),
    (5, "Litware Inc.", 0),
    (6, "Proseware Inc.", 0),
    (7, "Fourth Coffee", 0),
    (8, "Woodgrove Bank", 0),
    (9, "Alpine Ski House", 0),
    (10, "Blue Yonder Airlines", 0),
    (11, "Coho Winery", 1),
    (12, "Lamna Healthcare", 1),
    (13, "Margie's Travel", 1),
    (14, "Relecloud", 1),
    (15, "Trey Research", 1),
    (16, "VanArsdel Ltd.", 1),
    (17, "Wide World Importers", 1),
    (18, "Humongous Insurance", 1),
];

/// Directory subscriptions: (number, customer number or 0 for the partner itself, partner index, offer, status).
const SUBSCRIPTIONS: &[(u64, u64, usize, &str, &str)] = &[
    (100, 0, 0, "APSS", "active"),
    (101, 0, 0, "EA", "active"),
    (200, 0, 1, "APSS", "active"),
    (201, 0, 1, "EA", "active"),
    (1, 1, 0, "CSP", "active"),
    (2, 2, 0, "CSP", "active"),
    (3, 3, 0, "CSP", "active"),
    (33, 3, 0, "CSP", "active"),
    (4, 4, 0, "CSP", "active"),
    (5, 5, 0, "CSP", "active"),
    (6, 6, 0, "CSP", "active"),
    (7, 7, 0, "CSP", "active"),
    (8, 8, 0, "CSP", "active"),
    (9, 9, 0, "CSP", "suspended"),
    (10, 10, 0, "PAYG", "active"),
    (11, 11, 1, "CSP", "active"),
    (12, 12, 1, "CSP", "active"),
    (13, 13, 1, "CSP", "active"),
    (14, 14, 1, "CSP", "active"),
    (144, 14, 1, "CSP", "active"),
    (15, 15, 1, "CSP", "active"),
    (16, 16, 1, "CSP", "active"),
    (17, 17, 1, "CSP", "deleted"),
    (18, 18, 1, "MSDN", "active"),
];

/// Stacks: (number, partner index, name, region, billing model, default subscription number).
const STACKS: &[(u64, usize, &str, &str, &str, u64)] = &[
    (1, 0, "contoso-ams-01", "Amsterdam", "PayAsYouUse", 100),
    (2, 0, "contoso-fra-02", "Frankfurt", "Capacity", 101),
    (3, 1, "fabrikam-sea-01", "Seattle", "PayAsYouUse", 200),
];

/// Tenant mappings: (stack, customer, subscription, from day, to day) in days after the demo's first day.
/// Tailspin's subscription is replaced on day 40; Wingtip's mapping is removed on day 50 (its later usage falls
/// through to the default subscription); Litware on stack 1 and Relecloud on stack 3 are never mapped.
const MAPPINGS: &[(u64, u64, u64, i32, Option<i32>)] = &[
    (1, 1, 1, 0, None),
    (1, 2, 2, 0, None),
    (1, 3, 3, 0, Some(40)),
    (1, 3, 33, 40, None),
    (1, 4, 4, 0, Some(50)),
    (3, 11, 11, 0, None),
    (3, 12, 12, 0, None),
    (3, 13, 13, 0, None),
];

/// Local subscriptions per stack: (stack, customer). Local subscription `guid(LOCAL_SUB, stack * 100 + customer)`.
pub(super) const LOCAL_SUBSCRIPTIONS: &[(u64, u64)] =
    &[(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 6), (2, 7), (3, 11), (3, 12), (3, 13), (3, 14)];

fn partner(i: usize) -> Uuid {
    Uuid::parse_str([CONTOSO.partner_id, FABRIKAM.partner_id][i]).unwrap_or_default()
}

fn partner_tenant(i: usize) -> Uuid {
    Uuid::parse_str([CONTOSO.tenant, FABRIKAM.tenant][i]).unwrap_or_default()
}

/// The stack ID of demo stack `n` (the cloud ID is derived the same way).
pub(super) fn stack_id(n: u64) -> Uuid {
    guid(STACK_CLOUD + 1, n)
}

/// The partner index of demo stack `n`.
pub(super) fn stack_partner(n: u64) -> Uuid {
    STACKS.iter().find(|s| s.0 == n).map(|s| partner(s.1)).unwrap_or_default()
}

/// Local subscription ID of a customer on a stack.
pub(super) fn local_sub(stack: u64, customer: u64) -> Uuid {
    guid(LOCAL_SUB, stack * 100 + customer)
}

/// The demo's "now" (set once per load by [`super::load_at`], for its transaction).
pub(super) const NOW: &str = "current_setting('stackbill.demo_now')::timestamptz";

/// The first day of demo time: 60 days before today, UTC.
pub(super) const START: &str =
    "date_trunc('day', current_setting('stackbill.demo_now')::timestamptz at time zone 'utc') at time zone 'utc' - interval '60 days'";

/// Creates the configuration unless the demo partners exist. Returns whether it created it.
pub async fn load(conn: &mut PgConnection) -> anyhow::Result<bool> {
    let exists: bool = sqlx::query_scalar("select exists(select 1 from partners where partner_id = $1)")
        .bind(partner(0))
        .fetch_one(&mut *conn)
        .await?;
    if exists {
        return Ok(false);
    }
    let actor = Actor { user_id: None, label: "demo data".into() };
    for p in [&CONTOSO, &FABRIKAM] {
        let new = NewPartner::parse(p.name, p.partner_id, p.mpn_id, p.tenant, "USD")?;
        app::partners::db::add_partner(conn, &actor, &new).await?;
    }
    // Contoso's invoices show a full letterhead; Fabrikam's the defaults (name only).
    let details = app::partners::forms::DetailsForm {
        name: CONTOSO.name.into(),
        address: "Keizersgracht 62\n1015 CS Amsterdam\nThe Netherlands".into(),
        tax_id: "NL857615338B01".into(),
        invoice_prefix: "CCS-".into(),
    };
    let details = app::partners::details::PartnerDetails::parse(&details)?;
    app::partners::db::save_details(conn, &actor, partner(0), &details).await?;
    load_directory(conn).await?;
    load_stacks(conn).await?;
    Ok(true)
}

async fn load_directory(conn: &mut PgConnection) -> anyhow::Result<()> {
    for &(n, customer, p, offer, status) in SUBSCRIPTIONS {
        let (tenant, name) = match CUSTOMERS.iter().find(|c| c.0 == customer) {
            Some(c) => (guid(TENANT, c.0), c.1.to_string()),
            None => (partner_tenant(p), format!("{} ({})", [CONTOSO.name, FABRIKAM.name][p], offer)),
        };
        sqlx::query(
            "insert into commerce_subscriptions (subscription_id, offer_type, billing_partner_id, customer_tenant_id, customer_name, status)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(guid(SUBSCRIPTION, n))
        .bind(offer)
        .bind(partner(p))
        .bind(tenant)
        .bind(name)
        .bind(status)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn load_stacks(conn: &mut PgConnection) -> anyhow::Result<()> {
    for &(n, p, name, region, model, default_sub) in STACKS {
        sqlx::query(&format!(
            "with s as (insert into stacks (stack_id, partner_id, name, cloud_id, region) values ($1, $2, $3, $4, $5)),
                  r as (insert into registrations (stack_id, partner_id, billing_model) values ($1, $2, $6))
             insert into registration_defaults (stack_id, partner_id, subscription_id, valid_from) values ($1, $2, $7, {START})"
        ))
        .bind(stack_id(n))
        .bind(partner(p))
        .bind(name)
        .bind(guid(STACK_CLOUD, n))
        .bind(region)
        .bind(model)
        .bind(guid(SUBSCRIPTION, default_sub))
        .execute(&mut *conn)
        .await?;
    }
    for &(stack, customer, sub, from, to) in MAPPINGS {
        sqlx::query(&format!(
            "insert into tenant_mappings (stack_id, partner_id, tenant_id, subscription_id, valid_from, valid_to)
             values ($1, $2, $3, $4, {START} + make_interval(days => $5), {START} + make_interval(days => $6))"
        ))
        .bind(stack_id(stack))
        .bind(stack_partner(stack))
        .bind(guid(TENANT, customer))
        .bind(guid(SUBSCRIPTION, sub))
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?;
    }
    for &(stack, customer) in LOCAL_SUBSCRIPTIONS {
        let name = CUSTOMERS.iter().find(|c| c.0 == customer).map_or("", |c| c.1);
        sqlx::query(
            "insert into local_subscriptions (stack_id, partner_id, subscription_id, owner_tenant_id, display_name, offer_name)
             values ($1, $2, $3, $4, $5, 'Standard offer')",
        )
        .bind(stack_id(stack))
        .bind(stack_partner(stack))
        .bind(local_sub(stack, customer))
        .bind(guid(TENANT, customer))
        .bind(format!("{name} production"))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
