#!/bin/bash
# t4020-audit-locked: a lock on the audit table never holds a run.  With
# another session holding <schema>.runs (an ALTER TABLE, a VACUUM FULL, a
# forgotten transaction), the audit trail's statements give up after the
# bound of the wait (statement_timeout on the audit's own session): with
# audit = best-effort the command runs all the same and its code comes
# back, with a warning; with audit = required it does not run (69).
# migrate, whose audit statements share its session, the same: the
# migrations are applied (best-effort) or not touched (required).
# Before, `run` and `migrate` waited for as long as the lock was held.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
cat >be.ini <<'INI'
[database]
url = ${DATABASE_URL}
wait = 1s
audit = best-effort
INI
sed 's/best-effort/required/' be.ini >req.ini

run_ep -c be.ini run true
is "$rc" 0 "a first run makes the audit table"

# hold: a session that holds the table until its backend is ended by pid
psql -X -q -At -c "BEGIN; LOCK TABLE entrypoint.runs IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);" \
	>hold.out 2>&1 &
holder=$!
track "$holder"
locked() {
	[ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'runs' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ]
}
ok "another session holds entrypoint.runs" wait_for 10 locked
before=$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND wait_event_type = 'Lock'")

# best-effort: the command runs, its code comes back; bounded (the test's
# own deadline, not a timing: timeout's 124 would mean it waited on)
rm -f ran
timeout 60 "$EP" -c be.ini run sh -c 'touch ran; exit 3' >out 2>err </dev/null
rc=$?
is "$rc" 3 "best-effort: the run's own code (3), not held by the lock"
ok "the command ran" test -e ran
like "$(cat err)" "statement timeout" "says the audit statement timed out"
like "$(cat err)" "not in the audit trail|without an audit record" \
	"warns that the run is not in the audit trail"

# required: not run, 69
rm -f ran
timeout 60 "$EP" -c req.ini run touch ran >out 2>err </dev/null
rc=$?
is "$rc" 69 "required: not run (69)"
ok "the command did not run" test ! -e ran
like "$(cat err)" "audit = required: not running" "says why"

# migrate: best-effort applies, required does not touch anything.
# migrate_locked INI N TABLE RC APPLIED SAYS: a new migration N making
# TABLE, migrate with INI: exit RC, TABLE there (1) or not (0), stderr
# saying SAYS
mkdir -p migrations
migrate_locked() {
	printf -- '-- migrate:up\nCREATE TABLE %s (id int);\n' "$3" \
		>"migrations/$2_$3.sql"
	timeout 60 "$EP" -c "$1" migrate >out 2>err </dev/null
	is "$?" "$4" "migrate with $1 and the lock held: exit $4"
	is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = '$3'")" \
		"$5" "$3: $([ "$5" = 1 ] && echo applied || echo not applied)"
	like "$(cat err)" "$6" "says: $6"
}
migrate_locked be.ini 1 applied_anyway 0 1 "not in the audit trail"
timeout 60 "$EP" -c be.ini migrate >out 2>err </dev/null
is "$?" 0 "migrate, best-effort, nothing to apply: 0"
migrate_locked req.ini 2 not_applied 69 0 "audit = required: not running"

is "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND wait_event_type = 'Lock'")" \
	"$before" "no session of ours left waiting on the lock"
# required with a wait longer than the 5 s bound: its statements wait up
# to that wait, not 5 s (the tables are opened under the same bound), and
# once the lock is gone it writes its row and applies
sed 's/^wait = 1s$/wait = 60s/' req.ini >req60.ini
printf -- '-- migrate:up\nCREATE TABLE waited (id int);\n' >migrations/3_waited.sql
"$EP" -c req60.ini migrate >mig.out 2>mig.err </dev/null &
mig=$!
track "$mig"
waited_past_bound() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'entrypoint migrate' AND wait_event_type = 'Lock' AND now() - query_start > interval '7 s'")" = 1 ]
}
ok "required, wait = 60s: migrate still waits on the lock past 5 s" \
	wait_for 30 waited_past_bound

# the holder's backend ends (by its pid), and with it the lock
backend=$(psql_q "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'runs' AND l.mode = 'AccessExclusiveLock' AND l.granted")
is "$(psql_q "SELECT pg_terminate_backend($backend)")" t "the holder is ended"
wait "$holder" 2>/dev/null
ok "the lock is gone" wait_for 10 eval '! locked'
wait "$mig"
is "$?" 0 "required, wait = 60s: migrate applies once the lock is gone"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'waited'")" 1 \
	"the migration is applied"
is "$(psql_q "SELECT status FROM entrypoint.runs WHERE command = 'migrate' ORDER BY started_at DESC LIMIT 1")" \
	succeeded "with its row"
run_ep -c be.ini run true
is "$rc" 0 "with the lock gone, a run is recorded again"
run_ep -c req.ini migrate
is "$rc" 0 "and migrate with audit = required applies"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'not_applied'")" 1 \
	"what it refused before"
is "$(psql_q "SELECT status FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")" \
	succeeded "its row is complete"

done_testing
