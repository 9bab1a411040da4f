-- Mends of the monthly bill lines (migration `monthly_bill_lines`), from a review:
--
-- * An update notes the months of its old rows as well as its new ones. No update moves a charge to another
--   subscription or day today (the upsert adds to quantities), but one that did would have left the old month's
--   monthly lines stale.
-- * Months are taken of `day::timestamp`, not of `day` through `timestamptz`: the month no longer depends on the
--   session's time zone, and the expression is immutable.
-- * The fold takes at most `max_keys` (partner, subscription, month)s per call, so a backlog (a long re-rate writes
--   many notes) is folded in short transactions; the server calls it until it folds fewer than that.
create or replace function charges_note_dirty() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into charges_dirty
        select distinct partner_id, billing_subscription_id, date_trunc('month', day::timestamp)::date from old_rows
        where billing_subscription_id is not null;
    elsif tg_op = 'UPDATE' then
        insert into charges_dirty
        select partner_id, billing_subscription_id, date_trunc('month', day::timestamp)::date from old_rows
        where billing_subscription_id is not null
        union
        select partner_id, billing_subscription_id, date_trunc('month', day::timestamp)::date from new_rows
        where billing_subscription_id is not null;
    else
        insert into charges_dirty
        select distinct partner_id, billing_subscription_id, date_trunc('month', day::timestamp)::date from new_rows
        where billing_subscription_id is not null;
    end if;
    return null;
end $$;

drop trigger charges_dirty_update on charges;
create trigger charges_dirty_update after update on charges
    referencing old table as old_rows new table as new_rows for each statement execute function charges_note_dirty();

drop function fold_charges_monthly();

-- Recomputes up to `max_keys` noted (partner, subscription, month)s from their day rows and removes their notes;
-- returns the number folded. One folder at a time (an advisory lock): two would insert the same monthly rows.
create function fold_charges_monthly(max_keys integer) returns integer language plpgsql as $$
declare
    ps uuid[];
    ss uuid[];
    ms date[];
begin
    perform pg_advisory_xact_lock(hashtextextended('stackbill.fold_charges_monthly', 0));
    select coalesce(array_agg(partner_id), '{}'), coalesce(array_agg(billing_subscription_id), '{}'),
           coalesce(array_agg(month), '{}')
    into ps, ss, ms
    from (select distinct partner_id, billing_subscription_id, month from charges_dirty limit max_keys) k;
    if cardinality(ps) = 0 then
        return 0;
    end if;
    -- Only the notes this statement sees go: a note written after it stays, and that month is folded again.
    delete from charges_dirty d using unnest(ps, ss, ms) as k(p, s, m)
    where d.partner_id = k.p and d.billing_subscription_id = k.s and d.month = k.m;
    delete from charges_monthly c using unnest(ps, ss, ms) as k(p, s, m)
    where c.partner_id = k.p and c.billing_subscription_id = k.s and c.month = k.m;
    insert into charges_monthly (partner_id, billing_subscription_id, month, stack_id, commerce_meter_id, unit_price,
                                 commerce_quantity, amount)
    select c.partner_id, c.billing_subscription_id, k.m, c.stack_id, c.commerce_meter_id, c.unit_price,
           sum(c.commerce_quantity), sum(c.amount)
    from unnest(ps, ss, ms) as k(p, s, m)
    join charges c on c.partner_id = k.p and c.billing_subscription_id = k.s
                  and c.day >= k.m and c.day < (k.m + interval '1 month')::date
    where c.commerce_meter_id is not null and c.unit_price is not null
    group by 1, 2, 3, 4, 5, 6;
    return cardinality(ps);
end $$;
