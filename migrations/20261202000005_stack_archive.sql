-- A stack can be archived (issue 10, item 10): its history, charges and bills stay; Stackbill takes no more usage
-- for it (ingest, uploads and the collector refuse or skip it) and lists hide it unless asked. Restoring clears it.
alter table stacks add column archived_at timestamptz;
