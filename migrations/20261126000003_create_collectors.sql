-- The collector (PRODUCT §5, issue 4): per stack, how to reach its provider usage API and how far it has read.
-- The endpoint itself is `stacks.admin_endpoint`. Credentials are stored as given: encrypting them at rest with a key
-- from the environment is a known gap (README, Decisions).
create table collectors (
    stack_id                 uuid primary key,
    partner_id               uuid not null,
    provider_subscription_id uuid not null,
    auth_kind                text not null check (auth_kind in ('bearer', 'client_credentials')),
    bearer_token             text,
    token_url                text check (token_url ~ '^https?://'),
    client_id                text,
    client_secret            text,
    scope                    text,
    -- Usage reported before this time has been collected; each run re-reads an overlap before it for late reports.
    watermark                timestamptz not null,
    enabled                  boolean not null default true,
    next_run_at              timestamptz not null default now(),
    last_run_at              timestamptz,
    last_success_at          timestamptz,
    last_error               text,
    last_error_at            timestamptz,
    last_summary             jsonb,
    updated_at               timestamptz not null default now(),
    foreign key (partner_id, stack_id) references stacks (partner_id, stack_id),
    check (auth_kind <> 'bearer' or bearer_token is not null),
    check (auth_kind <> 'client_credentials'
           or (token_url is not null and client_id is not null and client_secret is not null and scope is not null))
);
create index collectors_due_idx on collectors (next_run_at) where enabled;
