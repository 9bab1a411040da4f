-- Exact numbers (issue 12 item 8): quantities keep every decimal a stack reports (the parser caps their size at
-- 10^15 so sums stay within the charges' columns), and meter-map factors keep at least 18 decimals (the sample's
-- 0.001369863013698630 was rounded to 15). Widening a NUMERIC's typmod rewrites nothing.
alter table usage_records alter column quantity type numeric;
alter table usage_record_history alter column old_quantity type numeric, alter column new_quantity type numeric;
alter table meter_map alter column factor type numeric(38, 24);
