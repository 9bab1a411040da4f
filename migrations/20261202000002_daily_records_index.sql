-- Ingest speed (issue 15, item 4): when a page brings new Hourly records, the charges trigger looks for Daily records
-- of the same resource, meter and day (migration `granularity`). Through the primary key that probe walked every
-- record of the subscription and meter in the day (equality on four columns, then a range on `usage_start`, then a
-- filter on the resource): about a hundred index entries per new record, growing with the day's usage. Daily records
-- are rare, so a partial index of them alone makes each probe a lookup in a nearly empty index, and costs Hourly
-- inserts nothing but the predicate's test. The predicate is written as the trigger writes it, so the planner uses it.
create index usage_records_daily_idx on usage_records
    (partner_id, stack_id, local_subscription_id, meter_id, resource_uri, usage_start)
    where usage_end - usage_start > interval '1 hour';
