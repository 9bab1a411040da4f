-- Rendered bill pages are kept in the server's memory (server::http::page_cache) and served again only while
-- nothing they show has changed. This log says what changed: one row per partner and transaction that wrote
-- something a bill page shows. A page rendered after snapshot S is still right while no row of its partner (or of
-- every partner) comes from a transaction that S did not see as committed.
--
-- `partner_id` nil ('00000000-0000-0000-0000-000000000000') stands for every partner: the price list, the meter map
-- and the local meters are shared.
create table bill_input_changes (
    partner_id uuid not null,
    xid        xid8 not null default pg_current_xact_id(),
    primary key (partner_id, xid)
);

-- Notes the partners of the rows a statement wrote; one row per partner and transaction, however many statements
-- write. Static SQL, so each table's trigger plans its statements once per session (ingest fires these on every
-- page). `commerce_subscriptions` names its partner `billing_partner_id`; shared tables note every partner.
create function note_bill_input_change() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into bill_input_changes (partner_id)
        select distinct partner_id from new_rows where partner_id is not null on conflict do nothing;
    elsif tg_op = 'UPDATE' then
        insert into bill_input_changes (partner_id)
        select partner_id from new_rows where partner_id is not null
        union select partner_id from old_rows where partner_id is not null on conflict do nothing;
    else
        insert into bill_input_changes (partner_id)
        select distinct partner_id from old_rows where partner_id is not null on conflict do nothing;
    end if;
    return null;
end $$;

create function note_billing_partner_change() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into bill_input_changes (partner_id)
        select distinct billing_partner_id from new_rows on conflict do nothing;
    elsif tg_op = 'UPDATE' then
        insert into bill_input_changes (partner_id)
        select billing_partner_id from new_rows union select billing_partner_id from old_rows on conflict do nothing;
    else
        insert into bill_input_changes (partner_id)
        select distinct billing_partner_id from old_rows on conflict do nothing;
    end if;
    return null;
end $$;

create function note_shared_bill_input_change() returns trigger
language plpgsql as $$
begin
    insert into bill_input_changes (partner_id) values ('00000000-0000-0000-0000-000000000000') on conflict do nothing;
    return null;
end $$;

-- Every table a bill page or the bills list reads, directly or through the user in the header. Tables left out
-- (audit_events, charges_dirty, collectors, ingestion_keys, recon_*, usage_record_history, webhook_*) are named in
-- the test `database::every_table_is_a_bill_input_or_named_as_not_one`, so a new table cannot be forgotten.
do $$
declare
    t record;
begin
    for t in select * from (values
        ('bill_lines', 'note_bill_input_change'), ('bills', 'note_bill_input_change'),
        ('charges', 'note_bill_input_change'), ('charges_monthly', 'note_bill_input_change'),
        ('commerce_subscriptions', 'note_billing_partner_change'), ('customer_markups', 'note_bill_input_change'),
        ('local_subscriptions', 'note_bill_input_change'), ('partners', 'note_bill_input_change'),
        ('registration_defaults', 'note_bill_input_change'), ('registrations', 'note_bill_input_change'),
        ('rerate_jobs', 'note_bill_input_change'), ('stacks', 'note_bill_input_change'),
        ('tenant_mappings', 'note_bill_input_change'), ('usage_records', 'note_bill_input_change'),
        ('users', 'note_bill_input_change')) as v(tab, fn)
    loop
        execute format('create trigger %1$s_note_insert after insert on %1$I referencing new table as new_rows
                        for each statement execute function %2$I()', t.tab, t.fn);
        execute format('create trigger %1$s_note_update after update on %1$I
                        referencing old table as old_rows new table as new_rows
                        for each statement execute function %2$I()', t.tab, t.fn);
        execute format('create trigger %1$s_note_delete after delete on %1$I referencing old table as old_rows
                        for each statement execute function %2$I()', t.tab, t.fn);
        execute format('create trigger %1$s_note_truncate after truncate on %1$I
                        for each statement execute function note_shared_bill_input_change()', t.tab);
    end loop;
    for t in select * from (values ('local_meters'), ('meter_map'), ('price_list_entries')) as v(tab)
    loop
        execute format('create trigger %1$s_note_change after insert or update or delete or truncate on %1$I
                        for each statement execute function note_shared_bill_input_change()', t.tab);
    end loop;
end $$;

-- Whether anything a partner's bill pages show changed in a transaction that `seen` did not see as committed: one
-- that began after it (an index probe), or one of the few that were running when it was taken.
create function bill_inputs_changed_since(partner uuid, seen pg_snapshot) returns boolean
language sql stable as $$
    select exists (
        select 1 from bill_input_changes
        where partner_id in (partner, '00000000-0000-0000-0000-000000000000') and xid >= pg_snapshot_xmax(seen))
    or exists (
        select 1 from bill_input_changes
        where partner_id in (partner, '00000000-0000-0000-0000-000000000000')
          and xid >= pg_snapshot_xmin(seen) and xid < pg_snapshot_xmax(seen) and not pg_visible_in_snapshot(xid, seen))
$$;

-- The log is read only for snapshots younger than a cached page's lifetime (a minute). Every call notes the oldest
-- running transaction now, and forgets the changes older than what it noted `keep` ago: those transactions had
-- ended before any snapshot still in use was taken, so every such snapshot sees them.
create table bill_input_horizons (
    noted_at timestamptz not null default clock_timestamp(),
    oldest   xid8 not null
);

create function forget_old_bill_input_changes(keep interval) returns bigint
language plpgsql as $$
declare
    horizon xid8;
    forgotten bigint;
begin
    insert into bill_input_horizons (oldest) values (pg_snapshot_xmin(pg_current_snapshot()));
    select max(oldest) into horizon from bill_input_horizons where noted_at <= clock_timestamp() - keep;
    if horizon is null then
        return 0;
    end if;
    delete from bill_input_changes where xid < horizon;
    get diagnostics forgotten = row_count;
    delete from bill_input_horizons where oldest < horizon;
    return forgotten;
end $$;
