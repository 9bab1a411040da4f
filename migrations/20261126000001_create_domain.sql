-- Stackbill domain model (PRODUCT §2). GUIDs are `uuid`: Postgres compares them case-insensitively and always
-- prints them lowercase, which is rule R9's "stored lowercase" for free.
-- Sharding (PRODUCT §7): every table that grows with usage carries partner_id, and its unique keys include it,
-- so usage_records, usage_record_history, charges_daily and bill tables can be distributed by partner on Citus;
-- the small configuration tables (partners, directory, stacks, meters, prices) become reference tables.

create extension if not exists btree_gist;

create table partners (
    partner_id          uuid primary key,                          -- the Microsoft Partner ID
    name                text not null check (length(btrim(name)) between 1 and 200),
    mpn_id              text not null check (mpn_id ~ '^[0-9]{1,12}$'),
    directory_tenant_id uuid not null unique,
    currency            char(3) not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    billing_day         smallint not null default 1 check (billing_day between 1 and 28),
    markup_percent      numeric(9, 4) not null default 0 check (markup_percent >= 0),
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

create table users (
    user_id       uuid primary key default gen_random_uuid(),
    issuer        text not null,
    subject       text not null,
    email         text,
    display_name  text,
    -- Partner and role come from the ID token at each sign-in (PRODUCT §1); kept here for the session's lifetime.
    partner_id    uuid references partners (partner_id),
    role          text not null check (role in ('operator', 'partner_admin', 'partner_reader', 'none')),
    created_at    timestamptz not null default now(),
    last_login_at timestamptz not null default now(),
    unique (issuer, subject),
    check (role in ('operator', 'none') or partner_id is not null)
);

-- The commerce directory stands in for Azure Commerce / Partner Center.
create table commerce_subscriptions (
    subscription_id    uuid primary key,
    offer_type         text not null check (offer_type in ('CSP', 'APSS', 'EA', 'PAYG', 'MSDN')),
    billing_partner_id uuid not null references partners (partner_id),
    customer_tenant_id uuid not null,
    customer_name      text not null check (length(btrim(customer_name)) between 1 and 200),
    status             text not null default 'active' check (status in ('active', 'suspended', 'deleted')),
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);
create index commerce_subscriptions_partner_idx on commerce_subscriptions (billing_partner_id, customer_tenant_id);

create table stacks (
    stack_id       uuid primary key default gen_random_uuid(),
    partner_id     uuid not null references partners (partner_id),
    name           text not null check (length(btrim(name)) between 1 and 100),
    cloud_id       uuid not null unique,                      -- R1: a cloud ID is registered once, anywhere
    region         text not null default '' check (length(region) <= 100),
    admin_endpoint text check (admin_endpoint ~ '^https?://'),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    unique (partner_id, name),
    unique (partner_id, stack_id)
);

-- R1: one registration per stack (the primary key is the stack).
create table registrations (
    stack_id      uuid primary key,
    partner_id    uuid not null,
    billing_model text not null check (billing_model in ('PayAsYouUse', 'Capacity', 'Development')),
    status        text not null default 'registered' check (status in ('registered', 'removed')),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    foreign key (partner_id, stack_id) references stacks (partner_id, stack_id)
);

-- The default subscription over time (R10 changes take effect from a moment; past usage keeps its payer).
create table registration_defaults (
    id              bigserial primary key,
    stack_id        uuid not null references registrations (stack_id),
    partner_id      uuid not null,
    subscription_id uuid not null references commerce_subscriptions (subscription_id),
    valid_from      timestamptz not null,
    valid_to        timestamptz,
    check (valid_to is null or valid_to > valid_from),
    exclude using gist (stack_id with =, tstzrange(valid_from, valid_to) with &&)
);

-- A registration's customer subscriptions. Closed, never deleted, so past usage keeps its owner (PRODUCT §2).
create table tenant_mappings (
    id              bigserial primary key,
    stack_id        uuid not null references registrations (stack_id),
    partner_id      uuid not null,
    tenant_id       uuid not null,
    subscription_id uuid not null references commerce_subscriptions (subscription_id),
    valid_from      timestamptz not null,
    valid_to        timestamptz,
    created_at      timestamptz not null default now(),
    check (valid_to is null or valid_to > valid_from),
    -- R7: one subscription per tenant at any moment; also the guard against two admins mapping at once.
    exclude using gist (stack_id with =, tenant_id with =, tstzrange(valid_from, valid_to) with &&)
);
create unique index tenant_mappings_current_idx on tenant_mappings (stack_id, tenant_id) where valid_to is null;

-- Azure Stack user subscriptions, valid only on their stack; synced from the stack.
create table local_subscriptions (
    stack_id        uuid not null references stacks (stack_id),
    partner_id      uuid not null,
    subscription_id uuid not null,
    owner_tenant_id uuid not null,
    display_name    text not null default '',
    offer_name      text not null default '',
    state           text not null default 'Enabled',
    updated_at      timestamptz not null default now(),
    primary key (partner_id, stack_id, subscription_id)
);

-- The Azure Stack local meter catalogue (product data, shipped with the portal).
create table local_meters (
    meter_id    uuid primary key,
    name        text not null,
    unit        text not null,
    description text not null default '',
    source      text not null default ''
);

-- Local meter -> commerce meter x factor. A local meter without a row here is informational: never charged.
create table meter_map (
    local_meter_id    uuid primary key,
    commerce_meter_id uuid not null,
    factor            numeric(30, 15) not null check (factor > 0),
    updated_at        timestamptz not null default now()
);

create table price_list_entries (
    id                bigserial primary key,
    commerce_meter_id uuid not null,
    meter_name        text not null,
    region            text not null,
    unit              text not null,
    unit_price        numeric(19, 8) not null check (unit_price >= 0),
    currency          char(3) not null check (currency ~ '^[A-Z]{3}$'),
    effective_from    timestamptz not null,
    effective_to      timestamptz,
    check (effective_to is null or effective_to > effective_from),
    unique (commerce_meter_id, currency, effective_from)
);

-- Raw usage, one row per (stack, local subscription, meter, usage window, resource): the dedupe key of PRODUCT §5
-- is the primary key itself, so "stored once" is enforced by the database, not by the ingest code.
create table usage_records (
    partner_id            uuid not null,
    stack_id              uuid not null,
    local_subscription_id uuid not null,
    meter_id              uuid not null,               -- no FK: unknown meters are stored and shown as unknown
    usage_start           timestamptz not null,
    usage_end             timestamptz not null,
    resource_uri          text not null default '',
    quantity              numeric(28, 10) not null check (quantity >= 0),
    location              text not null default '',
    tags                  jsonb,
    additional_info       jsonb,
    reported_at           timestamptz,
    ingested_at           timestamptz not null default now(),
    check (usage_end > usage_start),
    primary key (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri),
    foreign key (partner_id, stack_id) references stacks (partner_id, stack_id)
);
create index usage_records_period_idx on usage_records (partner_id, stack_id, usage_start);

-- Corrections (a resend with another quantity) keep the replaced value here.
create table usage_record_history (
    id                    bigserial,
    partner_id            uuid not null,
    stack_id              uuid not null,
    local_subscription_id uuid not null,
    meter_id              uuid not null,
    usage_start           timestamptz not null,
    usage_end             timestamptz not null,
    resource_uri          text not null,
    old_quantity          numeric(28, 10) not null,
    new_quantity          numeric(28, 10) not null,
    changed_at            timestamptz not null default now(),
    primary key (partner_id, id)
);

-- Daily rated rollup (PRODUCT §2 "charges"); maintained incrementally from usage.
create table charges_daily (
    partner_id          uuid not null,
    stack_id            uuid not null,
    billing_subscription_id uuid not null,
    tenant_id           uuid,                  -- null: the owner tenant is unknown (unknown local subscription)
    fell_through        boolean not null,      -- billed to the default subscription for want of a mapping
    local_meter_id      uuid not null,
    commerce_meter_id   uuid,                  -- null: informational meter, never charged
    day                 date not null,
    quantity            numeric(28, 10) not null,
    unit_price          numeric(19, 8),
    amount              numeric(28, 10),
    currency            char(3) not null,
    unique nulls not distinct (partner_id, stack_id, billing_subscription_id, day, local_meter_id, tenant_id, fell_through)
);

create table bills (
    partner_id      uuid not null references partners (partner_id),
    period          date not null check (extract(day from period) = 1),   -- first day of the UTC month
    subscription_id uuid not null,
    status          text not null default 'open' check (status in ('open', 'draft', 'final')),
    finalized_at    timestamptz,
    currency        char(3) not null,
    primary key (partner_id, period, subscription_id),
    check ((status = 'final') = (finalized_at is not null))
);

create table bill_lines (
    partner_id        uuid not null,
    period            date not null,
    subscription_id   uuid not null,
    line_no           integer not null,
    line_type         text not null check (line_type in ('usage', 'adjustment')),
    stack_id          uuid not null,
    commerce_meter_id uuid not null,
    meter_name        text not null,
    region            text not null,
    unit              text not null,
    quantity          numeric(28, 10) not null,
    unit_price        numeric(19, 8) not null,
    precise_amount    numeric(28, 10) not null,
    amount            numeric(19, 4) not null,
    customer_price    numeric(19, 4) not null,
    currency          char(3) not null,
    primary key (partner_id, period, subscription_id, line_no),
    foreign key (partner_id, period, subscription_id) references bills (partner_id, period, subscription_id)
);

create table audit_events (
    id           bigserial primary key,
    at           timestamptz not null default now(),
    actor_user_id uuid references users (user_id),
    actor_label  text not null,                         -- e.g. the user's email, or 'command line'
    partner_id   uuid,                                  -- null for operator-wide changes
    action       text not null,
    entity_type  text not null,
    entity_id    text not null,
    before       jsonb,
    after        jsonb
);
create index audit_events_partner_idx on audit_events (partner_id, at desc);

-- The session table for tower-sessions-sqlx-store's PostgresStore, from our own migrations (STYLE decision 4).
create schema if not exists tower_sessions;
create table if not exists tower_sessions.session (
    id          text primary key not null,
    data        bytea not null,
    expiry_date timestamptz not null
);
