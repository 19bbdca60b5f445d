#!/bin/bash
# t3400-interrupt: TERM/INT during a migration cancel the statement, roll
# back and exit 128+N; kill -9 of migrate, pg_terminate_backend of its
# session and `pg_ctl stop -m immediate` in the middle of a run leave
# nothing half-recorded: the next run completes and the records match the
# schema.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
cat >entrypoint.ini <<'INI'
[database]
url = ${DATABASE_URL}
wait = 10s
lock_timeout = 30s
INI

# Migration N creates table tN; the slow one sleeps first while it holds
# its own uncommitted table.
printf 'CREATE TABLE t1 (x int);\n' >migrations/1_one.sql
slow() {
	printf 'CREATE TABLE t2 (x int);\nSELECT pg_sleep(%s);\n' "$1" \
		>migrations/2_slow.sql
}
slow 30
printf 'CREATE TABLE t3 (x int);\n' >migrations/3_three.sql

sleeping() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'entrypoint migrate' AND query LIKE '%pg_sleep%' AND state = 'active'")" = 1 ]
}

# The tables tN that exist, and the versions recorded, must be the same.
records_match_schema() {
	local tables recs
	tables=$(psql_q "SELECT string_agg(substr(tablename, 2), ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t[0-9]+$'")
	recs=$(psql_q "SELECT string_agg(version::text, ' ' ORDER BY version) FROM entrypoint.migrations WHERE status = 'succeeded'" 2>/dev/null)
	if [ "$tables" = "$recs" ]; then
		return 0
	fi
	echo "# tables: '$tables' records: '$recs'"
	return 1
}

reset_db() {
	psql_q 'DROP SCHEMA IF EXISTS entrypoint CASCADE; DROP TABLE IF EXISTS t1, t2, t3' \
		>/dev/null 2>&1
}

# start_migrate: run migrate in the background; pid in $mpid
start_migrate() {
	"$EP" migrate >"$T/bg.out" 2>"$T/bg.err" </dev/null &
	mpid=$!
	track "$mpid"
	wait_for 20 sleeping
}

for sig in TERM INT; do
	reset_db
	start_migrate
	kill "-$sig" "$mpid"
	wait "$mpid"
	code=$?
	want=$((128 + $(kill -l "$sig")))
	is "$code" "$want" "$sig during a migration: exit $want"
	like "$(cat "$T/bg.err")" "interrupted by SIG$sig: cancelled and rolled back" \
		"$sig: says it cancelled"
	ok "$sig: records match the schema (1 applied, 2 rolled back)" records_match_schema
	is "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()")" \
		0 "$sig: the statement was cancelled on the server"
done

# kill -9: the orphaned backend stops within a second
# (client_connection_check_interval); the next run waits for its lock.
reset_db
start_migrate
exec 3>&2 2>/dev/null	# no "Killed" job message from bash
kill -KILL "$mpid"
wait "$mpid"
exec 2>&3 3>&-
ok "kill -9: records match the schema" records_match_schema
slow 0
run_ep migrate
is "$rc" 0 "kill -9: the next run completes"
ok "kill -9: records match the schema after the next run" records_match_schema

# pg_terminate_backend of its session: 69, nothing half-recorded.
reset_db
slow 30
start_migrate
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'entrypoint migrate'" >/dev/null
wait "$mpid"
is "$?" 69 "pg_terminate_backend: exit 69 (retryable)"
like "$(cat "$T/bg.err")" 'connection was lost' "says the connection was lost"
ok "terminate: records match the schema" records_match_schema
slow 0
run_ep migrate
is "$rc" 0 "terminate: the next run completes"
ok "terminate: records match the schema after the next run" records_match_schema

# pg_ctl stop -m immediate in the middle of a run.
reset_db
slow 30
start_migrate
pg_stop immediate
wait "$mpid"
is "$?" 69 "server stopped -m immediate: exit 69"
pg_start
ok "immediate stop: records match the schema" records_match_schema
slow 0
run_ep migrate
is "$rc" 0 "immediate stop: the next run completes"
ok "immediate stop: records match the schema after the next run" records_match_schema

# TERM during a transaction:false migration: recorded as failed.
reset_db
printf -- '-- migrate:up transaction:false\nCREATE TABLE t2 (x int);\nSELECT pg_sleep(30);\n' \
	>migrations/2_slow.sql
start_migrate
kill -TERM "$mpid"
wait "$mpid"
is "$?" 143 "TERM during a transaction:false migration: 143"
is "$(psql_q "SELECT status || ': ' || error FROM entrypoint.migrations WHERE version = 2")" \
	"failed: interrupted by SIGTERM" "recorded as failed: interrupted"
run_ep migrate
is "$rc" 65 "it blocks the next run"
like "$err" "resolve 2 --applied" "with how to resolve it"

# Progress on a terminal: a long migration shows its running time.
reset_db
rm migrations/2_slow.sql
printf 'SELECT pg_sleep(1.6);\n' >migrations/2_slow.sql
script -qec "$EP migrate" /dev/null >"$T/tty.out" 2>&1 </dev/null
like "$(tr '\r' '\n' <"$T/tty.out")" 'applying 2_slow \.\.\. 1s' \
	"on a terminal: progress while a migration runs"
like "$(cat "$T/tty.out")" 'applied 3 migrations' "and the summary"
reset_db
run_ep migrate
unlike "$err" 'applying' "no progress line when stderr is no terminal"

done_testing
