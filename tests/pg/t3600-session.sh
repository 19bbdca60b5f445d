#!/bin/bash
# t3600-session: each migration runs as `psql -X -1 -v ON_ERROR_STOP=1 -f FILE`
# in a new session would.  Every scenario is applied twice, file by file with
# psql (the reference) and with `entrypoint migrate`, in two fresh
# databases, and the results are compared: what one migration leaves in the
# session (role, session authorization, settings, temporary tables,
# prepared statements, cursors, LISTEN, cached sequence values) never reaches
# the next one nor migrate's own records and audit row; a file's own
# transaction modes are honoured; a byte-order mark is skipped.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
psql_q "CREATE ROLE t3600_owner NOLOGIN" >/dev/null

# scenario NAME: a fresh migrations directory and config for it
scenario() {
	name=$1
	rm -rf "$name"
	mkdir -p "$name/migrations"
	cat >"$name/entrypoint.ini" <<INI
[database]
url = postgresql:///${name}_ep?host=$PGHOST&port=$PGPORT&user=postgres
audit = required
wait = 5s
INI
	for db in "${name}_ep" "${name}_psql"; do
		psql_q "CREATE DATABASE $db" >/dev/null
		psql -X -q -d "$db" -c "GRANT ALL ON SCHEMA public TO t3600_owner"
	done
}

# mig FILE: write $name/migrations/FILE from stdin
mig() {
	cat >"$name/migrations/$1"
}

# The reference: each file in its own psql session, in version order.
apply_psql() {
	local f
	for f in $(find "$name/migrations" -name '*.sql' ! -name '*.down.sql' |
		sort -t/ -k3 -n); do
		psql -X -q -1 -v ON_ERROR_STOP=1 -d "${name}_psql" -f "$f" \
			>/dev/null 2>"$T/psql.err" || return 1
	done
}

# ep ARGS...: run_ep in the scenario's directory
ep() {
	cd "$T/$name" || return 1
	run_ep "$@"
	cd "$T" || return 1
}

# same SQL NAME: the query gives the same answer in both databases
same() {
	local a b
	a=$(psql -X -At -d "${name}_psql" -c "$1" 2>&1)
	b=$(psql -X -At -d "${name}_ep" -c "$1" 2>&1)
	is "$b" "$a" "$2"
}

# both NAME: psql and migrate both apply the scenario
both() {
	if apply_psql; then
		pass "$1: psql applies the files"
	else
		fail "$1: psql applies the files" "$(cat "$T/psql.err")"
	fi
	ep migrate
	is "$rc" 0 "$1: migrate applies them too"
	if [ "$rc" != 0 ]; then
		while IFS= read -r l; do echo "# $l"; done <<<"$err"
	fi
	ep check
	is "$rc" 0 "$1: check agrees that the files are fine"
	is "$(psql -X -At -d "${name}_ep" -c "SELECT status FROM entrypoint.runs WHERE command = 'migrate'")" \
		succeeded "$1: the audit row is completed"
}

# ---- SET ROLE / SET SESSION AUTHORIZATION ------------------------------
scenario role
mig 0001_as_owner.sql <<'SQL'
SET ROLE t3600_owner;
CREATE TABLE owned (x int);
SQL
mig 0002_after.sql <<'SQL'
CREATE TABLE after_role (x int);
SQL
mig 0003_session_auth.sql <<'SQL'
SET SESSION AUTHORIZATION t3600_owner;
CREATE TABLE owned_too (x int);
SQL
mig 0004_last.sql <<'SQL'
CREATE TABLE last_one (x int);
SQL
both "SET ROLE in a file"
same "SELECT string_agg(tablename || ':' || tableowner, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
	"each table has the owner psql gives it: a role set by one file ends with it"
is "$(psql -X -At -d role_ep -c "SELECT count(*) FROM entrypoint.migrations WHERE status = 'succeeded'")" 4 \
	"every migration is recorded (the record is written as the session user)"
is "$(psql -X -At -d role_ep -c "SELECT tableowner FROM pg_tables WHERE tablename = 'migrations'")" postgres \
	"migrate's own table belongs to the session user"

# ---- settings -----------------------------------------------------------
scenario settings
mig 0001_read_only_default.sql <<'SQL'
SET default_transaction_read_only = on;
SET search_path = '';
CREATE TABLE public.s1 (x int);
SQL
mig 0002_writes.sql <<'SQL'
CREATE TABLE s2 (x int);
SQL
both "a session setting in a file"
same "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
	"the next file writes, in the default search_path"

# ---- temporary tables, prepared statements, cursors, LISTEN -------------
scenario objects
for v in 1 2; do
	mig "000${v}_objects.sql" <<'SQL'
CREATE TEMP TABLE scratch (x int);
PREPARE q AS SELECT 1;
DECLARE c CURSOR WITH HOLD FOR SELECT 1;
DO $$BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_listening_channels()) THEN
		RAISE EXCEPTION 'still listening from an earlier file';
	END IF;
END$$;
LISTEN t3600_channel;
SQL
done
mig 0003_record.sql <<'SQL'
CREATE TABLE seen AS SELECT
	(SELECT count(*) FROM pg_catalog.pg_prepared_statements) AS prepared,
	(SELECT count(*) FROM pg_catalog.pg_cursors WHERE name = 'c') AS cursors,
	(SELECT count(*) FROM pg_catalog.pg_class WHERE relpersistence = 't') AS temps;
SQL
both "temporary tables, prepared statements, cursors and LISTEN"
same "SELECT prepared || ',' || cursors || ',' || temps FROM seen" \
	"the third file sees none of them"

# ---- sequence caches ----------------------------------------------------
scenario seqcache
mig 0001_seq.sql <<'SQL'
CREATE SEQUENCE cached CACHE 10;
SELECT nextval('cached');
SQL
mig 0002_next.sql <<'SQL'
CREATE TABLE next_value AS SELECT nextval('cached') AS v;
SQL
both "a cached sequence"
same "SELECT v FROM next_value" "the next file gets a value from a new cache (11)"

# ---- a file's transaction modes -----------------------------------------
scenario modes
mig 0001_begin_serializable.sql <<'SQL'
BEGIN ISOLATION LEVEL SERIALIZABLE;
CREATE TABLE iso1 AS SELECT current_setting('transaction_isolation') AS v;
COMMIT;
SQL
mig 0002_set_transaction.sql <<'SQL'
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
CREATE TABLE iso2 AS SELECT current_setting('transaction_isolation') AS v;
SQL
mig 0003_read_only.sql <<'SQL'
BEGIN READ ONLY;
DO $$BEGIN
	IF current_setting('transaction_read_only') <> 'on' THEN
		RAISE EXCEPTION 'not read only';
	END IF;
END$$;
COMMIT;
SQL
mig 0004_deferrable.sql <<'SQL'
START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE;
DO $$BEGIN
	IF current_setting('transaction_deferrable') <> 'on' THEN
		RAISE EXCEPTION 'not deferrable';
	END IF;
END$$;
SQL
mig 0005_default.sql <<'SQL'
CREATE TABLE iso5 AS SELECT current_setting('transaction_isolation') AS v,
	current_setting('transaction_read_only') AS ro;
SQL
both "BEGIN ISOLATION LEVEL / SET TRANSACTION / READ ONLY / DEFERRABLE"
same "SELECT (SELECT v FROM iso1) || ',' || (SELECT v FROM iso2) || ',' || (SELECT v || ro FROM iso5)" \
	"each file gets the isolation level it asks for, the next one the default"
is "$(psql -X -At -d modes_ep -c "SELECT v FROM iso1")" serializable \
	"BEGIN ISOLATION LEVEL SERIALIZABLE is honoured"
is "$(psql -X -At -d modes_ep -c "SELECT count(*) FROM entrypoint.migrations")" 5 \
	"the READ ONLY migrations are recorded too"

# ---- a byte-order mark ---------------------------------------------------
scenario bom
printf '\357\273\277CREATE TABLE with_bom (x int);\n' >bom/migrations/0001_bom.sql
printf '\357\273\277CREATE TABLE bom_pair (x int);\n' >bom/migrations/0002_pair.up.sql
printf '\357\273\277DROP TABLE bom_pair;\n' >bom/migrations/0002_pair.down.sql
printf '\357\273\277-- migrate:up\nCREATE TABLE bom_marked (x int);\n' \
	>bom/migrations/0003_marker.sql
both "a UTF-8 byte-order mark"
same "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'" \
	"the files apply as psql applies them"

# ---- transaction:false that leaves a transaction open -------------------
scenario leftopen
mig 0001_open.sql <<'SQL'
-- migrate:up transaction:false
BEGIN;
CREATE TABLE left_open (x int);
SQL
mig 0002_next.sql <<'SQL'
CREATE TABLE never (x int);
SQL
psql -X -q -v ON_ERROR_STOP=1 -d leftopen_psql -f leftopen/migrations/0001_open.sql 2>/dev/null
is "$(psql -X -At -d leftopen_psql -c "SELECT count(*) FROM pg_tables WHERE tablename = 'left_open'")" 0 \
	"psql: what an unclosed BEGIN did is rolled back at the end of the session"
ep migrate
is "$rc" 65 "migrate: a transaction:false file that leaves a transaction open fails (65)"
like "$err" '0001_open.sql: migration 0001_open left a transaction open' "and says so"
is "$(psql -X -At -d leftopen_ep -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('left_open', 'never')")" 0 \
	"nothing of it (nor of the next file) is committed"
is "$(psql -X -At -d leftopen_ep -c "SELECT status FROM entrypoint.migrations WHERE version = 1")" failed \
	"it is recorded failed, not applied"
is "$(psql -X -At -d leftopen_ep -c "SELECT status FROM entrypoint.runs WHERE command = 'migrate'")" failed \
	"the audit row says failed"

done_testing
