-- migrate:up transaction:false
create index concurrently i on a (x);
-- migrate:down transaction:false
drop index concurrently i;
