#!/bin/bash
# t3100-pgdump: a pg_dump of a schema with data, applied as a migration to
# an empty database, dumps back the same as the original, and the same as
# `psql -X -1 -v ON_ERROR_STOP=1 -f` applying the file.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
createdb src
createdb viamigrate
createdb viapsql

psql -X -q -v ON_ERROR_STOP=1 -d src <<'SQL' >/dev/null
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE "we;ird ""name""" (
	id serial PRIMARY KEY,
	t text,
	m mood DEFAULT 'ok',
	j jsonb,
	a int[],
	b bytea,
	ts timestamptz DEFAULT '2024-01-01 00:00:00+00'
);
CREATE TABLE child (
	id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	parent int REFERENCES "we;ird ""name""" ON DELETE CASCADE,
	note text CHECK (note <> 'forbidden;')
);
INSERT INTO "we;ird ""name""" (t, m, j, a, b) VALUES
	('tab	and newline
and backslash \ and semi;colon', 'happy', '{"k": "v;w"}', '{1,2,3}', '\x00ff'),
	(E'quote '' and \\. at start', 'sad', NULL, NULL, NULL),
	('\.', NULL, '[]', '{}', ''),
	(NULL, 'ok', 'null', '{NULL}', '\x5c2e');
INSERT INTO child (parent, note) SELECT id, 'n' || id FROM "we;ird ""name""";
CREATE INDEX child_note ON child (lower(note));
CREATE VIEW v AS SELECT t, m FROM "we;ird ""name""" WHERE m <> 'sad';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
	-- a comment; with semicolons;
	NEW.note := coalesce(NEW.note, 'x;y');
	RETURN NEW;
END
$fn$;
CREATE TRIGGER child_touch BEFORE INSERT ON child
	FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION atomic_two() RETURNS int LANGUAGE sql
BEGIN ATOMIC
	SELECT 1;
	SELECT CASE WHEN true THEN 2 END;
END;
CREATE SEQUENCE counter START 42;
SELECT nextval('counter');
COMMENT ON TABLE child IS 'it''s a child; really';
SQL

dump() {
	pg_dump -N entrypoint "$1" | grep -v '^\\\(un\)\{0,1\}restrict '
}

mkdir migrations
pg_dump src >migrations/0001_dump.sql
ok "the dump has COPY rows and dollar quotes" \
	grep -q '^COPY .* FROM stdin;$' migrations/0001_dump.sql
cat >entrypoint.ini <<INI
[database]
url = $(pg_url viamigrate)
INI
run_ep migrate
is "$rc" 0 "the dump applies as a migration"
[ "$rc" = 0 ] || echo "# $err"
dump src >src.sql
dump viamigrate >viamigrate.sql
ok "pg_dump of the result equals the original" diff -u src.sql viamigrate.sql

psql -X -q -1 -v ON_ERROR_STOP=1 -d viapsql -f migrations/0001_dump.sql \
	>/dev/null 2>&1
dump viapsql >viapsql.sql
ok "and equals what psql -1 -f makes of it" diff -u viapsql.sql viamigrate.sql
is "$(psql_q -d viamigrate 'SELECT atomic_two()')" 2 "BEGIN ATOMIC function works"
is "$(psql_q -d viamigrate "SELECT count(*) FROM child WHERE note LIKE 'n%'")" 4 \
	"rows copied"

# A COPY whose rows are bad fails like any statement, naming its line.
cat >migrations/0002_badcopy.sql <<'SQL'
CREATE TABLE nums (n int);
COPY nums (n) FROM stdin;
1
two
\.
SQL
run_ep migrate
is "$rc" 65 "bad COPY row: 65"
like "$err" '0002_badcopy.sql:2: could not apply 0002_badcopy: invalid input syntax for type integer' \
	"names the COPY's line"
is "$(psql_q -d viamigrate "SELECT count(*) FROM pg_tables WHERE tablename = 'nums'")" 0 \
	"rolled back"

done_testing
