-- migrate:up
create table a (x int, "we;ird" text); insert into a values (1, 'a;b');
select E'x\';y', 'it''s;', U&'d\0061t\+000061';
/* block /* nested; */ comment; */
create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql;
create rule r as on insert to a do also (insert into a values (2); insert into a values (3));
create function g() returns int language sql
begin atomic
  select 1;
  select 2;
end;
COPY public.a (x, "we;ird") FROM stdin;
1	x;y
2	\N
\.
begin;
commit;
select $1; select a$b$c from a;
-- migrate:down
drop table a;
