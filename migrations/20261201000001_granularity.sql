-- Granularity (PRODUCT §4 R7, issue 12): the usage API reports Hourly and Daily aggregates of the same usage. Each
-- hour of a resource's usage of a meter is billed once: Hourly records (a window of at most an hour) are the billing
-- truth; a Daily record (any longer window) counts only for a (stack, local subscription, meter, resource, UTC day)
-- with no Hourly records, and is superseded otherwise. Both are kept as reported; charges, re-rating and the
-- explorer follow the rule, whatever order the two arrive in. (`reported_at`, part of the key since migration
-- `reported_hours`, is resolved when the trigger runs.)

create function is_hourly(s timestamptz, e timestamptz) returns boolean language sql immutable
    as $$ select e - s <= interval '1 hour' $$;

-- Whether the record (p, st, sub, meter, uri, s, e) is a Daily one superseded by Hourly records of its day.
-- Uses the primary key: equality on its first four columns, then a range on usage_start.
create function superseded(p uuid, st uuid, sub uuid, meter uuid, uri text, s timestamptz, e timestamptz)
returns boolean language sql stable as $$
    select not is_hourly(s, e) and exists (
        select 1 from usage_records h
        where h.partner_id = p and h.stack_id = st and h.local_subscription_id = sub and h.meter_id = meter
          and h.usage_start >= date_trunc('day', s at time zone 'UTC') at time zone 'UTC'
          and h.usage_start < (date_trunc('day', s at time zone 'UTC') + interval '1 day') at time zone 'UTC'
          and h.resource_uri = uri and is_hourly(h.usage_start, h.usage_end))
$$;

create or replace function usage_records_charge() returns trigger language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform pg_advisory_xact_lock_shared(stack_lock_key(s)) from (select distinct stack_id from new_rows) x(s);
        -- New Hourly records, and new Daily ones whose day has no Hourly records.
        perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                                   array_agg(meter_id), array_agg(usage_start), array_agg(quantity))
        from new_rows n
        -- CASE, not OR: the Hourly test decides first, so the common case never probes for Hourly siblings.
        where case when is_hourly(n.usage_start, n.usage_end) then true
                   else not superseded(n.partner_id, n.stack_id, n.local_subscription_id, n.meter_id, n.resource_uri,
                                       n.usage_start, n.usage_end) end;
        -- Daily records that counted until this statement brought the first Hourly records of their day: taken back.
        -- The Daily records of the new Hourly days are found first (materialised: usually none, one index probe per
        -- day and key), and only for those are the day's Hourly records counted.
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

-- Recomputes a stack's charges from `from_day` on, from the raw usage that counts. Used when routing or prices change.
create or replace function rerate_stack(stack uuid, from_day date) returns void language plpgsql as $$
declare
    owner uuid := (select partner_id from stacks where stack_id = stack);
begin
    perform pg_advisory_xact_lock(stack_lock_key(stack));
    delete from charges where partner_id = owner and stack_id = stack and day >= from_day;
    perform apply_usage_deltas(array_agg(partner_id), array_agg(stack_id), array_agg(local_subscription_id),
                               array_agg(meter_id), array_agg(usage_start), array_agg(quantity))
    from (select partner_id, stack_id, local_subscription_id, meter_id, usage_start, sum(quantity) as quantity
          from usage_records u
          where partner_id = owner and stack_id = stack and usage_start >= from_day::timestamp at time zone 'UTC'
            and case when is_hourly(u.usage_start, u.usage_end) then true
                     else not superseded(u.partner_id, u.stack_id, u.local_subscription_id, u.meter_id, u.resource_uri,
                                         u.usage_start, u.usage_end) end
          group by 1, 2, 3, 4, 5) u;
end $$;

-- Days reported both ways before this rule were charged twice: recompute every stack's charges. (Final bills
-- stay as they are; what they over-billed comes back as adjustments on the next bills.)
select rerate_stack(stack_id, '-infinity') from stacks;
