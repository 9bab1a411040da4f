-- A partner's details for customer invoices (issue 10, items 6 and 10): postal address, tax ID and the prefix of
-- its invoice numbers; each final bill gets the partner's next invoice number when it is finalised, kept as
-- issued (a later prefix change does not renumber it).
alter table partners
    add column address text not null default '' check (length(address) <= 500),
    add column tax_id text not null default '' check (length(tax_id) <= 50),
    add column invoice_prefix text not null default 'INV-' check (invoice_prefix ~ '^[A-Za-z0-9/-]{0,12}$'),
    add column last_invoice_number bigint not null default 0 check (last_invoice_number >= 0);

alter table bills add column invoice_number text;
create unique index bills_invoice_number_key on bills (partner_id, invoice_number) where invoice_number is not null;

-- Bills finalised before invoice numbers existed get theirs in the order they were finalised.
with numbered as (
    select partner_id, period, subscription_id,
           row_number() over (partition by partner_id order by finalized_at, period, subscription_id) as n
    from bills where status = 'final'
)
update bills b set invoice_number = 'INV-' || lpad(numbered.n::text, greatest(5, length(numbered.n::text)), '0')
from numbered
where b.partner_id = numbered.partner_id and b.period = numbered.period and b.subscription_id = numbered.subscription_id;

update partners p
set last_invoice_number = (select count(*) from bills b where b.partner_id = p.partner_id and b.status = 'final');

-- The partner's details as they were when the bill was finalised: an issued invoice prints them, whatever changes
-- later. Bills already final take the details as they are now (the only ones there have been).
alter table bills add column issuer jsonb;
update bills b
set issuer = jsonb_build_object('name', p.name, 'address', p.address, 'tax_id', p.tax_id,
                                'invoice_prefix', p.invoice_prefix)
from partners p
where p.partner_id = b.partner_id and b.status = 'final';
