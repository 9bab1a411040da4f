-- Bills read a month per line, not a month of days (issue 15, item 5). A bill line is the sum of a subscription's
-- month of `charges` day rows per stack × commerce meter × unit price: about a hundred day rows per line, read again
-- for every bill page and for each of the bills list's customers. `charges_monthly` keeps those sums.
--
-- It is not kept by the writers' own transactions: ingests of one stack run side by side and would queue (and could
-- deadlock) on the few monthly rows they all add to. Instead every statement that changes `charges` notes the
-- (partner, subscription, month) it touched in `charges_dirty`: an insert without a key, so it never waits for
-- anyone. `fold_charges_monthly()` (the server calls it every second) recomputes the noted months from their day rows
-- and removes the notes it saw, in one transaction. Readers use the monthly rows of a month without notes and sum
-- the day rows of a month with notes, in the same statement (so the same snapshot): a bill is never stale, whether
-- or not the fold has run.
create table charges_monthly (
    partner_id              uuid not null,
    billing_subscription_id uuid not null,
    month                   date not null,      -- the first day of the month
    stack_id                uuid not null,
    commerce_meter_id       uuid not null,
    unit_price              numeric(19, 8) not null,
    commerce_quantity       numeric(38, 12) not null,
    amount                  numeric(38, 12),
    primary key (partner_id, billing_subscription_id, month, stack_id, commerce_meter_id, unit_price)
);

-- The bills list finds a month's billed subscriptions here.
create index charges_monthly_month_idx on charges_monthly (partner_id, month, billing_subscription_id);

create table charges_dirty (
    partner_id              uuid not null,
    billing_subscription_id uuid not null,
    month                   date not null
);
create index charges_dirty_idx on charges_dirty (partner_id, billing_subscription_id, month);

create function charges_note_dirty() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        insert into charges_dirty
        select distinct partner_id, billing_subscription_id, date_trunc('month', day)::date from old_rows
        where billing_subscription_id is not null;
    else
        -- An update never changes a row's subscription or day (the upsert adds to quantities): its new rows say it.
        insert into charges_dirty
        select distinct partner_id, billing_subscription_id, date_trunc('month', day)::date from new_rows
        where billing_subscription_id is not null;
    end if;
    return null;
end $$;

create trigger charges_dirty_insert after insert on charges
    referencing new table as new_rows for each statement execute function charges_note_dirty();
create trigger charges_dirty_update after update on charges
    referencing new table as new_rows for each statement execute function charges_note_dirty();
create trigger charges_dirty_delete after delete on charges
    referencing old table as old_rows for each statement execute function charges_note_dirty();

-- Recomputes every noted month from its day rows and removes its notes; returns the number of months folded. One
-- folder at a time (an advisory lock): two would insert the same monthly rows.
create function fold_charges_monthly() returns integer language plpgsql as $$
declare
    ps uuid[];
    ss uuid[];
    ms date[];
begin
    perform pg_advisory_xact_lock(hashtextextended('stackbill.fold_charges_monthly', 0));
    with taken as (delete from charges_dirty returning partner_id, billing_subscription_id, month)
    select coalesce(array_agg(partner_id), '{}'), coalesce(array_agg(billing_subscription_id), '{}'),
           coalesce(array_agg(month), '{}')
    into ps, ss, ms
    from (select distinct partner_id, billing_subscription_id, month from taken) k;
    if cardinality(ps) = 0 then
        return 0;
    end if;
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

-- The months there are now.
insert into charges_dirty
select distinct partner_id, billing_subscription_id, date_trunc('month', day)::date from charges
where billing_subscription_id is not null;
select fold_charges_monthly();

-- A bill's header lists the tenants that fell through to its subscription, and its notes the usage it could not
-- charge: both are rare, and both were found by reading every day row of the subscription's month. These partial
-- indexes hold only such rows.
create index charges_fell_through_idx on charges (partner_id, billing_subscription_id, day) where fell_through;
create index charges_uncharged_idx on charges (partner_id, billing_subscription_id, day)
    where commerce_meter_id is not null and unit_price is null;
