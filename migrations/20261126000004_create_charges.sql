-- Charges (PRODUCT §2, §4; issue 5), kept current incrementally (and corrections kept in usage_record_history): statement triggers on usage_records hand every
-- change (a new record, a corrected quantity, a removal) as a delta to apply_usage_deltas, which routes it (tenant
-- mapping, else default subscription, at the usage start), rates it (meter map × factor, price effective at the
-- usage start in the partner's currency) and adds it to one row per (stack, billing subscription, day, local meter,
-- tenant, fell-through, unit price). Pages read charges, never raw usage. Changes of routing or prices re-rate the
-- affected days with rerate_stack. An advisory lock per stack (shared for ingests, exclusive for re-rating) keeps a
-- re-rate and a concurrent ingest from missing each other.
drop table charges_daily;

create table charges (
    partner_id              uuid not null,
    stack_id                uuid not null,
    billing_subscription_id uuid,            -- null: the stack had no registration at the usage time
    tenant_id               uuid,            -- null: the local subscription is unknown
    fell_through            boolean not null, -- billed to the default subscription for want of a tenant mapping
    local_meter_id          uuid not null,
    commerce_meter_id       uuid,            -- null: informational meter, never charged
    unit_price              numeric(19, 8),  -- null: no price (unmapped meter, or no price in the partner's currency)
    day                     date not null,   -- UTC day of the usage start
    quantity                numeric(38, 12) not null,  -- in the local meter's unit
    commerce_quantity       numeric(38, 12) not null,  -- × the meter map's factor
    amount                  numeric(38, 12),           -- precise cost: commerce quantity × unit price
    unique nulls not distinct
        (partner_id, stack_id, billing_subscription_id, day, local_meter_id, tenant_id, fell_through, unit_price)
);
create index charges_bill_idx on charges (partner_id, billing_subscription_id, day);
create index charges_stack_idx on charges (partner_id, stack_id, day);

create table customer_markups (
    partner_id      uuid not null references partners (partner_id),
    subscription_id uuid not null,
    markup_percent  numeric(9, 4) not null check (markup_percent >= 0),
    updated_at      timestamptz not null default now(),
    primary key (partner_id, subscription_id)
);

-- A final bill's lines are frozen; late usage of its period is billed as adjustment lines on a later bill, which
-- needs to know which period a line's usage belongs to.
alter table bill_lines add column charge_period date;
update bill_lines set charge_period = period;
alter table bill_lines alter column charge_period set not null;
alter table bills add column markup_percent numeric(9, 4);

create function stack_lock_key(stack uuid) returns bigint language sql immutable
    as $$ select hashtextextended('stackbill.stack:' || stack::text, 0) $$;

create function apply_usage_deltas(d_partner uuid[], d_stack uuid[], d_sub uuid[], d_meter uuid[],
                                   d_start timestamptz[], d_quantity numeric[])
returns void language sql as $$
    insert into charges as c (partner_id, stack_id, billing_subscription_id, tenant_id, fell_through, local_meter_id,
                              commerce_meter_id, unit_price, day, quantity, commerce_quantity, amount)
    select d.partner_id, d.stack_id, coalesce(tm.subscription_id, rd.subscription_id), ls.owner_tenant_id,
           tm.subscription_id is null, d.meter_id, mm.commerce_meter_id, p.unit_price,
           (d.usage_start at time zone 'UTC')::date,
           sum(d.quantity), sum(d.quantity * coalesce(mm.factor, 1)),
           sum(round(d.quantity * mm.factor * p.unit_price, 12))
    from unnest(d_partner, d_stack, d_sub, d_meter, d_start, d_quantity)
             as d(partner_id, stack_id, sub, meter_id, usage_start, quantity)
    join partners pa on pa.partner_id = d.partner_id
    left join local_subscriptions ls
           on ls.partner_id = d.partner_id and ls.stack_id = d.stack_id and ls.subscription_id = d.sub
    left join tenant_mappings tm
           on tm.stack_id = d.stack_id and tm.tenant_id = ls.owner_tenant_id
          and tm.valid_from <= d.usage_start and (tm.valid_to is null or tm.valid_to > d.usage_start)
    left join registration_defaults rd
           on rd.stack_id = d.stack_id and rd.valid_from <= d.usage_start
          and (rd.valid_to is null or rd.valid_to > d.usage_start)
    left join meter_map mm on mm.local_meter_id = d.meter_id
    left join price_list_entries p
           on p.commerce_meter_id = mm.commerce_meter_id and p.currency = pa.currency
          and p.effective_from <= d.usage_start and (p.effective_to is null or p.effective_to > d.usage_start)
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    -- One order for every writer, so concurrent ingests lock charge rows in the same order and never deadlock.
    order by 1, 2, 3, 9, 6, 4, 5, 8
    on conflict (partner_id, stack_id, billing_subscription_id, day, local_meter_id, tenant_id, fell_through, unit_price)
    do update set quantity = c.quantity + excluded.quantity,
                  commerce_quantity = c.commerce_quantity + excluded.commerce_quantity,
                  amount = c.amount + excluded.amount,
                  commerce_meter_id = excluded.commerce_meter_id
$$;

create function usage_records_charge() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from new_rows) x(s);
        perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                                   array_agg(meter_id), array_agg(usage_start), array_agg(quantity))
        from new_rows;
    elsif tg_op = 'UPDATE' then
        -- A correction: keep the old quantity (PRODUCT §5), then charge the difference.
        insert into usage_record_history (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                          resource_uri, old_quantity, new_quantity)
        select n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.usage_start, n.usage_end, n.resource_uri,
               o.quantity, n.quantity
        from new_rows n
        join old_rows o using (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri)
        where n.quantity <> o.quantity;
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from new_rows) x(s);
        perform apply_usage_deltas(array_agg(n.partner_id), array_agg(n.stack_id), array_agg(n.local_subscription_id),
                                   array_agg(n.meter_id), array_agg(n.usage_start), array_agg(n.quantity - o.quantity))
        from new_rows n
        join old_rows o using (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri)
        where n.quantity <> o.quantity;
    else
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from old_rows) x(s);
        perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                                   array_agg(meter_id), array_agg(usage_start), array_agg(-quantity))
        from old_rows;
    end if;
    return null;
end $$;

create trigger usage_records_charge_insert after insert on usage_records
    referencing new table as new_rows for each statement execute function usage_records_charge();
create trigger usage_records_charge_update after update on usage_records
    referencing old table as old_rows new table as new_rows for each statement execute function usage_records_charge();
create trigger usage_records_charge_delete after delete on usage_records
    referencing old table as old_rows for each statement execute function usage_records_charge();

-- Recomputes a stack's charges from `from_day` on, from its raw usage. Used when routing or prices change.
create function rerate_stack(stack uuid, from_day date) returns void language plpgsql as $$
declare
    owner uuid := (select partner_id from stacks where stack_id = stack);
begin
    perform pg_advisory_xact_lock(stack_lock_key(stack));
    delete from charges where partner_id = owner and stack_id = stack and day >= from_day;
    perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                               array_agg(meter_id), array_agg(usage_start), array_agg(quantity))
    from (select partner_id, stack_id, local_subscription_id, meter_id, usage_start, sum(quantity) as quantity
          from usage_records
          where partner_id = owner and stack_id = stack and usage_start >= from_day::timestamp at time zone 'UTC'
          group by 1, 2, 3, 4, 5) u;
end $$;

-- The first day of a partner's periods that are still open: the month after its latest final bill.
create function open_from(partner uuid) returns date language sql stable as $$
    select coalesce((max(period) + interval '1 month')::date, '-infinity'::date)
    from bills where partner_id = partner and status = 'final'
$$;

-- Charges exist for usage already loaded (demo data, earlier ingests).
select rerate_stack(stack_id, '-infinity'::date) from stacks;
