#!/bin/bash
# t3300-wait: waiting for the database (server down at start, then up),
# authentication failures (77, never retried), the wait deadline (69), bad
# connection parameters (78), and the migrate lock held elsewhere (75).
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
printf 'CREATE TABLE one (x int);\n' >migrations/1_one.sql

# write_cfg FILE URL WAIT [LOCK_TIMEOUT]
write_cfg() {
	cat >"$1" <<INI
[database]
url = $2
wait = $3
lock_timeout = ${4:-5m}
INI
}

# Server down at start, started 3 s later: migrate waits and succeeds.
write_cfg wait.ini "$DATABASE_URL" 30s
pg_stop
pg_start_after 3
run_ep -c wait.ini migrate
is "$rc" 0 "server started 3 s after migrate: it waited and succeeded"
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations')" 1 "applied"
wait "$PG_STARTER"

# Wrong password over TCP (scram): 77, one attempt only.
psql_q "ALTER ROLE postgres PASSWORD 'right-pw'"
fails() {
	grep -c 'password authentication failed' "$PG_LOG"
}
before=$(fails)
write_cfg auth.ini "postgresql://postgres:wrong-pw@127.0.0.1:$PGPORT/postgres" 30s
run_ep -c auth.ini migrate
is "$rc" 77 "wrong password: 77"
like "$err" 'authentication failed; not retried' "says it is not retried"
unlike "$err" 'wrong-pw' "the password is never shown"
is "$(($(fails) - before))" 1 "exactly one failed attempt in the server log"
write_cfg nopw.ini "postgresql://postgres@127.0.0.1:$PGPORT/postgres" 30s
run_ep -c nopw.ini migrate
is "$rc" 77 "password required and none given: 77"
write_cfg right.ini "postgresql://postgres:right-pw@127.0.0.1:$PGPORT/postgres" 5s
run_ep -c right.ini migrate status
is "$rc" 0 "right password over TCP works"

# Bad parameters: 78 at once.
write_cfg bad.ini "postgresql://%zz@/x" 30s
run_ep -c bad.ini migrate
is "$rc" 78 "unparsable url: 78"
like "$err" 'invalid database url' "says so"
write_cfg badopt.ini "host=$PGHOST dbname=postgres sslmode=sometimes" 30s
run_ep -c badopt.ini migrate
is "$rc" 78 "invalid connection option: 78 at once (no attempt)"

# The lock held elsewhere past lock_timeout: 75, naming the holder.
psql -X -q -c "SELECT pg_advisory_lock(1701867374, hashtext('entrypoint'))" \
	-c 'SELECT pg_sleep(60)' >/dev/null 2>&1 &
holder=$!
track "$holder"
locked() {
	[ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1701867374 AND granted")" = 1 ]
}
wait_for 10 locked
printf 'CREATE TABLE two (x int);\n' >migrations/2_two.sql
write_cfg lock.ini "$DATABASE_URL" 5s 1s
run_ep -c lock.ini migrate
is "$rc" 75 "lock held elsewhere past lock_timeout: 75"
like "$err" 'waiting for another migrate' "said it waits"
like "$err" 'lock is held by server pid [0-9]+' "names the holder"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'two'")" 0 "nothing applied"

# TERM while waiting for the lock: 143 at once.
write_cfg lock2.ini "$DATABASE_URL" 5s 60s
"$EP" -c lock2.ini migrate 2>"$T/lockwait.err" &
waiter=$!
track "$waiter"
wait_for 10 grep -qs 'waiting for another' "$T/lockwait.err"
kill -TERM "$waiter"
wait "$waiter"
is "$?" 143 "TERM while waiting for the lock: 143"
kill "$holder" 2>/dev/null
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null
run_ep -c lock.ini migrate
is "$rc" 0 "lock free again: migrate applies"

# Server never up: 69 after the deadline.
pg_stop
write_cfg down.ini "$DATABASE_URL" 1s
run_ep -c down.ini migrate
is "$rc" 69 "server never up: 69 after the deadline"
like "$err" 'not reachable within 1000 ms' "says how long it waited"
# A bad file name is reported at once, without waiting for the server.
write_cfg long.ini "$DATABASE_URL" 60s
echo 'SELECT 1;' >migrations/bad-name.sql
timeout 20 "$EP" -c long.ini migrate >/dev/null 2>"$T/bad.err"
is "$?" 65 "server down and a bad file name: 65 at once, no waiting"
like "$(cat "$T/bad.err")" 'bad-name.sql: invalid migration file name' "names the file"
rm migrations/bad-name.sql
write_cfg nowait.ini "$DATABASE_URL" 0
run_ep -c nowait.ini migrate
is "$rc" 69 "wait = 0: 69 at once"

done_testing
