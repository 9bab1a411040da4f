-- Reconciliation with Microsoft's bill (issue 14, DOMAIN §7): Partner Center's daily rated usage file, per partner
-- and month. A re-import of a month replaces the previous one (its lines go; the import row stays, superseded, so the
-- history of who imported what and what changed is kept).
create table recon_imports (
    import_id uuid primary key default gen_random_uuid(),
    partner_id uuid not null references partners (partner_id),
    period date not null check (extract(day from period) = 1),
    file_name text not null,
    imported_by text not null,
    imported_at timestamptz not null default now(),
    lines integer not null,
    set_aside integer not null,
    -- What changed against the import it replaced: {"added": n, "removed": n, "changed": n}; null for a first import.
    changes jsonb,
    superseded_at timestamptz
);
-- One current import per partner and month.
create unique index recon_imports_current_idx on recon_imports (partner_id, period) where superseded_at is null;

-- The Azure Stack Hub lines of an import, as Microsoft billed them.
create table recon_lines (
    import_id uuid not null references recon_imports (import_id) on delete cascade,
    line integer not null,
    partner_id uuid not null,
    subscription_id uuid not null,
    customer_tenant_id uuid not null,
    customer_name text not null,
    usage_day date not null,
    commerce_meter_id uuid not null,
    meter_name text not null,
    quantity numeric not null,
    unit_price numeric not null,
    effective_unit_price numeric not null,
    amount numeric not null,
    currency text not null,
    primary key (partner_id, import_id, line)
);
create index recon_lines_match_idx on recon_lines (partner_id, subscription_id, usage_day, commerce_meter_id);
