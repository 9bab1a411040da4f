-- Rating is defined once (issue 13): what a quantity of a local meter costs is `charge_amount`, used by the charges
-- (`apply_usage_deltas`, which ingest, uploads, the collector and re-rating all go through) and by the usage
-- explorer's per-resource view, which reads raw usage. Capacity and Development stacks are never charged; a meter
-- without a price in effect has no amount (unpriced); amounts keep 12 decimals (bills round per line).
create function charge_amount(quantity numeric, factor numeric, unit_price numeric, billing_model text)
returns numeric language sql immutable parallel safe as $$
    select case when billing_model in ('Capacity', 'Development') then null
                else round(quantity * factor * unit_price, 12) end
$$;

create or replace function apply_usage_deltas(d_partner uuid[], d_stack uuid[], d_sub uuid[], d_meter uuid[],
                                              d_start timestamptz[], d_quantity numeric[])
returns void language sql as $$
    insert into charges as c (partner_id, stack_id, billing_subscription_id, tenant_id, fell_through, local_meter_id,
                              commerce_meter_id, unit_price, day, quantity, commerce_quantity, amount, not_charged)
    select d.partner_id, d.stack_id, coalesce(tm.subscription_id, rd.subscription_id), ls.owner_tenant_id,
           tm.subscription_id is null, d.meter_id, mm.commerce_meter_id,
           case when r.billing_model in ('Capacity', 'Development') then null else p.unit_price end,
           (d.usage_start at time zone 'UTC')::date,
           sum(d.quantity), sum(d.quantity * coalesce(mm.factor, 1)),
           sum(charge_amount(d.quantity, mm.factor, p.unit_price, r.billing_model)),
           case when r.billing_model in ('Capacity', 'Development') then r.billing_model end
    from unnest(d_partner, d_stack, d_sub, d_meter, d_start, d_quantity)
             as d(partner_id, stack_id, sub, meter_id, usage_start, quantity)
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
                  not_charged = excluded.not_charged
$$;
