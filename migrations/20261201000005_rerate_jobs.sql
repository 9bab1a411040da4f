-- Re-rating in the background (issue 15): a price list or meter map import queues one job per stack instead of
-- re-rating every stack inside its own transaction (which held every stack's lock, so ingest stopped everywhere until
-- the last stack was done). A worker re-rates one stack per transaction; ingest for a stack waits at most for that
-- stack's own re-rate. A job survives a crash (it is deleted in the transaction that re-rates), and a new request
-- for a stack with a job waiting widens it to the earlier day.
create table rerate_jobs (
    stack_id     uuid primary key references stacks (stack_id) on delete cascade,
    partner_id   uuid not null,
    from_day     date not null,            -- '-infinity': all of the stack's usage
    reason       text not null,            -- e.g. 'prices.import'
    requested_at timestamptz not null default now(),
    -- A try that failed (a database error, a timeout) is retried later, after the other jobs, never in a tight loop.
    attempts     integer not null default 0,
    next_try_at  timestamptz not null default now(),
    last_error   text
);
create index rerate_jobs_partner_idx on rerate_jobs (partner_id);
