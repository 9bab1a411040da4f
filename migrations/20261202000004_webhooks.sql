-- Webhooks (issue 14, item 3): signed events a partner's systems can act on, queued in the database and retried with
-- back-off for a day; every attempt is kept with its answer for the settings page.

-- A partner's thresholds for the events that need one.
create table webhook_settings (
    partner_id         uuid primary key references partners (partner_id),
    -- "stack silent": a registered stack's latest usage hour ended this many hours ago.
    silent_hours       integer not null default 6 check (silent_hours between 1 and 720),
    -- "collector failing": this many failed runs in a row.
    collector_failures integer not null default 3 check (collector_failures between 1 and 100),
    -- "reconciliation differences": the month's gap (Microsoft at list price less Stackbill), either way, at least this.
    recon_threshold    numeric(20, 2) not null default 1.00 check (recon_threshold >= 0),
    -- "customer threshold": a customer's month-to-date charges above this (in the partner's currency); null: off.
    customer_threshold numeric(20, 2) check (customer_threshold > 0),
    updated_at         timestamptz not null default now()
);

create table webhook_endpoints (
    endpoint_id uuid primary key default gen_random_uuid(),
    partner_id  uuid not null references partners (partner_id),
    url         text not null check (url ~ '^https?://' and length(url) <= 2000),
    -- The signing secret, sealed with the server's secret key (shown once when the endpoint is added).
    secret      text not null,
    events      text[] not null check (cardinality(events) > 0),
    created_at  timestamptz not null default now(),
    removed_at  timestamptz
);
create index webhook_endpoints_partner_idx on webhook_endpoints (partner_id) where removed_at is null;

-- One delivery per endpoint and event occurrence (`event_key` names the occurrence, so detecting it again is a no-op).
create table webhook_deliveries (
    delivery_id     uuid primary key default gen_random_uuid(),
    -- The order events were queued in, which is the order an endpoint receives them.
    seq             bigint generated always as identity,
    endpoint_id     uuid not null references webhook_endpoints (endpoint_id),
    partner_id      uuid not null,
    event           text not null,
    event_key       text not null,
    body            text not null,
    created_at      timestamptz not null default now(),
    next_attempt_at timestamptz not null default now(),
    attempts        integer not null default 0,
    delivered_at    timestamptz,
    given_up_at     timestamptz,
    unique (endpoint_id, event_key)
);
create index webhook_deliveries_pending_idx on webhook_deliveries (endpoint_id, seq)
    where delivered_at is null and given_up_at is null;
create index webhook_deliveries_partner_idx on webhook_deliveries (partner_id, seq desc);

create table webhook_attempts (
    delivery_id uuid not null references webhook_deliveries (delivery_id) on delete cascade,
    attempt     integer not null,
    at          timestamptz not null default now(),
    -- The HTTP status; null when there was no answer.
    status      integer,
    -- The start of the answer's body, or why there was no answer.
    answer      text not null,
    duration_ms integer not null,
    primary key (delivery_id, attempt)
);

-- Collectors count their failed runs in a row, and since when they fail.
alter table collectors add column failures_in_a_row integer not null default 0;
alter table collectors add column failing_since timestamptz;
