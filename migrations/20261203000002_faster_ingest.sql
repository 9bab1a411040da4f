-- Faster ingest (issue 15, item 4). Measured at the SQL level (200 pages of 1,000 records, 4 sessions at once, against
-- one COPY of the same records; BENCHMARKS.md), two costs of every page go:
--
-- * `apply_usage_deltas` becomes PL/pgSQL, so each connection plans its insert once and keeps the plan. As an SQL
--   function it was planned again at every call, twice a page (2.13 s -> 1.67 s with the change below).
-- * The foreign key from `usage_records` to `stacks` is checked once per statement instead of once per record: the
--   insert trigger looks the page's stacks up (locking them as the foreign key did), and a stack with usage cannot be
--   deleted or re-keyed (a trigger on `stacks`). Nothing deletes stacks today (they are archived); the rule stays.

create or replace function apply_usage_deltas(d_partner uuid[], d_stack uuid[], d_sub uuid[], d_meter uuid[],
                                              d_start timestamptz[], d_quantity numeric[])
returns void language plpgsql as $$
begin
    insert into charges as c (partner_id, stack_id, billing_subscription_id, tenant_id, fell_through, local_meter_id,
                              commerce_meter_id, unit_price, day, quantity, commerce_quantity, amount, not_charged)
    select d.partner_id, d.stack_id, coalesce(tm.subscription_id, rd.subscription_id), ls.owner_tenant_id,
           tm.subscription_id is null, d.meter_id, mm.commerce_meter_id,
           case when r.billing_model in ('Capacity', 'Development') then null else p.unit_price end,
           (d.usage_start at time zone 'UTC')::date,
           sum(d.quantity), sum(d.quantity * coalesce(mm.factor, 1)),
           sum(charge_amount(d.quantity, mm.factor, p.unit_price, r.billing_model)),
           case when r.billing_model in ('Capacity', 'Development') then r.billing_model end
    -- The records of a (subscription, meter, hour) are rated as their sum, once: a page of 1,000 records of a few
    -- hundred VMs joins a few hundred rows with routing and prices instead of 1,000. Re-rating always did this.
    from (select partner_id, stack_id, sub, meter_id, usage_start, sum(quantity) as quantity
          from unnest(d_partner, d_stack, d_sub, d_meter, d_start, d_quantity)
                   as u(partner_id, stack_id, sub, meter_id, usage_start, quantity)
          group by 1, 2, 3, 4, 5) d
    join partners pa on pa.partner_id = d.partner_id
    left join registrations r on r.stack_id = d.stack_id
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
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, r.billing_model
    -- One order for every writer, so concurrent ingests lock charge rows in the same order and never deadlock.
    order by 1, 2, 3, 9, 6, 4, 5, 8
    on conflict (partner_id, stack_id, billing_subscription_id, day, local_meter_id, tenant_id, fell_through, unit_price)
    do update set quantity = c.quantity + excluded.quantity,
                  commerce_quantity = c.commerce_quantity + excluded.commerce_quantity,
                  amount = c.amount + excluded.amount,
                  commerce_meter_id = excluded.commerce_meter_id,
                  not_charged = excluded.not_charged;
end $$;

create or replace function usage_records_charge() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from new_rows) x(s);
        -- The records' stack must exist: the foreign key this replaces, checked once per statement, not per row. The
        -- stack rows are locked as the foreign key would (`for key share`), so the stack cannot go meanwhile.
        if exists (select from (select distinct partner_id, stack_id from new_rows) n
                   left join lateral (select true from stacks s
                                      where s.partner_id = n.partner_id and s.stack_id = n.stack_id
                                      for key share) s(known) on true
                   where s.known is null) then
            raise exception 'usage of a stack that does not exist' using errcode = 'foreign_key_violation';
        end if;
        -- New Hourly records, and new Daily ones whose day has no Hourly records.
        -- Summed per (subscription, meter, hour) first, as `apply_usage_deltas` rates them: smaller arrays to build.
        perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                                   array_agg(meter_id), array_agg(usage_start), array_agg(quantity))
        from (select n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.usage_start,
                     sum(n.quantity) as quantity
              from new_rows n
              -- CASE, not OR: the Hourly test decides first, so the common case never probes for Hourly siblings.
              where case when is_hourly(n.usage_start, n.usage_end) then true
                         else not superseded(n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id,
                                             n.resource_uri, n.usage_start, n.usage_end) end
              group by 1, 2, 3, 4, 5) n;
        -- Daily records that counted until this statement brought the first Hourly records of their day: taken back.
        -- Usually the stack has no Daily records in the days of the new Hourly ones: one probe says so (index
        -- `usage_records_daily_days_idx`), and nothing else is looked up. Otherwise the Daily records of the new
        -- Hourly days are found first (materialised: one index probe per day and key), and only for those are the
        -- day's Hourly records counted.
        if not exists (
            select from (select partner_id, stack_id,
                                date_trunc('day', min(usage_start) at time zone 'UTC') at time zone 'UTC' as first_day,
                                (date_trunc('day', max(usage_start) at time zone 'UTC') + interval '1 day')
                                    at time zone 'UTC' as after_last_day
                         from new_rows where is_hourly(usage_start, usage_end) group by 1, 2) n
            join usage_records u
              on u.partner_id = n.partner_id and u.stack_id = n.stack_id
             and u.usage_start >= n.first_day and u.usage_start < n.after_last_day
             and u.usage_end - u.usage_start > interval '1 hour') then
            return null;
        end if;
        perform apply_usage_deltas(array_agg(d.partner_id), array_agg(d.stack_id), array_agg(d.local_subscription_id),
                                   array_agg(d.meter_id), array_agg(d.usage_start), array_agg(-d.quantity))
        from (with g as (select n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.resource_uri,
                                date_trunc('day', n.usage_start at time zone 'UTC') at time zone 'UTC' as day,
                                count(*) as added
                         from new_rows n where is_hourly(n.usage_start, n.usage_end)
                         group by 1, 2, 3, 4, 5, 6),
                   candidates as materialized (
                         select g.added, g.day, u.partner_id, u.stack_id, u.local_subscription_id, u.meter_id,
                                u.usage_start, u.usage_end, u.resource_uri, u.reported_at, u.quantity
                         from g join usage_records u
                           on u.partner_id = g.partner_id and u.stack_id = g.stack_id
                          and u.local_subscription_id = g.local_subscription_id and u.meter_id = g.meter_id
                          and u.usage_start >= g.day and u.usage_start < g.day + interval '1 day'
                          and u.resource_uri = g.resource_uri
                          and u.usage_end - u.usage_start > interval '1 hour')
              select * from candidates) d
        where d.added = (select count(*) from usage_records h
                         where h.partner_id = d.partner_id and h.stack_id = d.stack_id
                           and h.local_subscription_id = d.local_subscription_id and h.meter_id = d.meter_id
                           and h.usage_start >= d.day and h.usage_start < d.day + interval '1 day'
                           and h.resource_uri = d.resource_uri and is_hourly(h.usage_start, h.usage_end))
          and not exists (select 1 from new_rows n
                          where (n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.usage_start,
                                 n.usage_end, n.resource_uri, n.reported_at)
                              = (d.partner_id, d.stack_id, d.local_subscription_id, d.meter_id, d.usage_start,
                                 d.usage_end, d.resource_uri, d.reported_at));
    elsif tg_op = 'UPDATE' then
        -- A correction: keep the old quantity (PRODUCT §5), then charge the difference of the records that count
        -- (the keys are unchanged, so whether a day has Hourly records is too).
        insert into usage_record_history (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end,
                                          resource_uri, reported_at, old_quantity, new_quantity)
        select n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.usage_start, n.usage_end, n.resource_uri,
               n.reported_at, o.quantity, n.quantity
        from new_rows n
        join old_rows o using (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri,
                               reported_at)
        where n.quantity <> o.quantity;
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from new_rows) x(s);
        perform apply_usage_deltas(array_agg(n.partner_id), array_agg(n.stack_id), array_agg(n.local_subscription_id),
                                   array_agg(n.meter_id), array_agg(n.usage_start), array_agg(n.quantity - o.quantity))
        from new_rows n
        join old_rows o using (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri,
                               reported_at)
        where n.quantity <> o.quantity
          and case when is_hourly(n.usage_start, n.usage_end) then true
                   else not superseded(n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.resource_uri,
                                       n.usage_start, n.usage_end) end;
    else
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from old_rows) x(s);
        -- Removed records that counted: Hourly ones, and Daily ones whose day had no Hourly records.
        perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                                   array_agg(meter_id), array_agg(usage_start), array_agg(-quantity))
        from old_rows o
        where is_hourly(o.usage_start, o.usage_end)
           or not (superseded(o.partner_id, o.stack_id, o.local_subscription_id, o.meter_id, o.resource_uri,
                              o.usage_start, o.usage_end)
                   or exists (select 1 from old_rows h
                              where (h.partner_id, h.stack_id, h.local_subscription_id, h.meter_id, h.resource_uri)
                                  = (o.partner_id, o.stack_id, o.local_subscription_id, o.meter_id, o.resource_uri)
                                and is_hourly(h.usage_start, h.usage_end)
                                and date_trunc('day', h.usage_start at time zone 'UTC')
                                  = date_trunc('day', o.usage_start at time zone 'UTC')));
        -- Daily records whose day lost its last Hourly records: they count again.
        perform apply_usage_deltas(array_agg(d.partner_id), array_agg(d.stack_id), array_agg(d.local_subscription_id),
                                   array_agg(d.meter_id), array_agg(d.usage_start), array_agg(d.quantity))
        from (select distinct o.partner_id, o.stack_id, o.local_subscription_id, o.meter_id, o.resource_uri,
                     date_trunc('day', o.usage_start at time zone 'UTC') at time zone 'UTC' as day
              from old_rows o where is_hourly(o.usage_start, o.usage_end)) g
        join usage_records d
          on d.partner_id = g.partner_id and d.stack_id = g.stack_id and d.local_subscription_id = g.local_subscription_id
         and d.meter_id = g.meter_id and d.resource_uri = g.resource_uri
         and d.usage_start >= g.day and d.usage_start < g.day + interval '1 day'
         and not is_hourly(d.usage_start, d.usage_end)
        where not superseded(d.partner_id, d.stack_id, d.local_subscription_id, d.meter_id, d.resource_uri,
                             d.usage_start, d.usage_end);
    end if;
    return null;
end $$;

-- The Daily records of a stack by day, for the insert trigger's probe: only Daily records are in it.
create index usage_records_daily_days_idx on usage_records (partner_id, stack_id, usage_start)
    where usage_end - usage_start > interval '1 hour';

alter table usage_records drop constraint usage_records_partner_id_stack_id_fkey;

-- The other half of the foreign key: a stack that has usage keeps its key and is not deleted.
create function stacks_keep_usage() returns trigger language plpgsql as $$
begin
    if exists (select from usage_records u where u.partner_id = old.partner_id and u.stack_id = old.stack_id) then
        raise exception 'stack % has usage records', old.stack_id using errcode = 'foreign_key_violation';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end $$;

create trigger stacks_keep_usage before delete or update of partner_id, stack_id on stacks
    for each row execute function stacks_keep_usage();
