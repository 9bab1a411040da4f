-- Usage reported in pieces adds up (PRODUCT §4 R10, DOMAIN §1.5; issue 12 item 10). The usage API is queried by
-- reported time, and an aggregate is the part of a usage window that was reported inside the queried window. Usage
-- is stored per reported hour where the source says it (the collector always; the API when the reported hour is
-- given): `reported_at` is the start of that reported hour and part of the dedupe key, so a usage window's quantity
-- is the sum of its parts and a re-query of one reported hour replaces only that hour's part. Records whose source
-- gives no reported hour (uploads, API pages without one) have `-infinity`: totals that replace, as before.
alter table usage_record_history add column reported_at timestamptz not null default '-infinity';
update usage_records set reported_at = '-infinity' where reported_at is null;
alter table usage_records alter column reported_at set default '-infinity', alter column reported_at set not null;
alter table usage_records drop constraint usage_records_pkey,
    add primary key (partner_id, stack_id, local_subscription_id, meter_id, usage_start, usage_end, resource_uri, reported_at);
