-- Per-stack API keys for the ingest API (PRODUCT §5): only a SHA-256 of the secret is stored; the prefix names the
-- key in lists and logs. Keys are high-entropy random strings, so a fast hash is enough (no password hashing).
create table ingestion_keys (
    key_id     uuid primary key default gen_random_uuid(),
    partner_id uuid not null,
    stack_id   uuid not null,
    name       text not null check (length(btrim(name)) between 1 and 100),
    prefix     text not null unique,
    secret_sha256 bytea not null check (length(secret_sha256) = 32),
    created_at timestamptz not null default now(),
    revoked_at timestamptz,
    last_used_at timestamptz,
    foreign key (partner_id, stack_id) references stacks (partner_id, stack_id)
);
create index ingestion_keys_stack_idx on ingestion_keys (stack_id);
