#!/bin/bash
# t3800-lock-retry: a migration that waits for a lock held by an open
# reader is rolled back after ddl_lock_timeout, retried with backoff and
# applied once the reader commits; each wait names the reader (pid, user,
# application_name, state, open time, masked query).  Meanwhile a third
# session reads and writes the table under lock_timeout = 2 x
# ddl_lock_timeout and never fails: the app never queues behind migrate
# for longer than ddl_lock_timeout.  lock_retries = 0 exits 75 at once.
# transaction:false: a plain statement is retried, CONCURRENTLY is not.
# migrate down waits, retries and gives up the same way.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
cat >entrypoint.ini <<'INI'
[database]
url = ${DATABASE_URL}
wait = 5s
ddl_lock_timeout = 300ms
lock_retries = 20
INI
sed 's/^lock_retries = 20$/lock_retries = 0/' entrypoint.ini >noretry.ini

psql_q "CREATE TABLE items (id serial PRIMARY KEY, v text);
	INSERT INTO items (v) SELECT 'row ' || g FROM generate_series(1, 1000) g" \
	>/dev/null

# hold_start NAME SQL: an open transaction in a psql fed through a FIFO
# (application_name NAME); the next lines go to fd 7.  hold_end commits.
hold_start() {
	rm -f hold.in hold.out
	mkfifo hold.in
	PGAPPNAME=$1 psql -X -q -A -t -v ON_ERROR_STOP=1 <hold.in \
		>hold.out 2>&1 &
	holder=$!
	track "$holder"
	exec 7>hold.in
	printf '%s\n' "BEGIN;" "SELECT 'pid ' || pg_backend_pid();" "$2" \
		'\echo held' >&7
	wait_for 10 grep -q '^held$' hold.out
	holder_backend=$(sed -n 's/^pid //p' hold.out)
}
hold_end() {
	printf 'COMMIT;\n\\q\n' >&7
	exec 7>&-
	wait "$holder" 2>/dev/null
}
exited() {
	! kill -0 "$1" 2>/dev/null
}
waits_logged() {
	[ "$(grep -c 'waited ddl_lock_timeout = 300 ms' "$1")" -ge "$2" ]
}
traffic_waiting() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 't3800-traffic'
		AND wait_event_type = 'Lock'")" -ge 1 ]
}

# --- retried until the reader commits, traffic never stuck ---------------
printf 'ALTER TABLE items ADD COLUMN note text;\n' \
	>migrations/0001_add_note.sql
hold_start t3800-holder "SELECT count(*) FROM items WHERE v = 'secret-42';"

{
	echo "SET lock_timeout = '600ms';"
	for _ in $(seq 1 1500); do
		echo "SELECT count(*) FROM items;"
		echo "INSERT INTO items (v) VALUES ('traffic');"
		echo "SELECT pg_sleep(0.02);"
	done
} >traffic.sql
PGAPPNAME=t3800-traffic psql -X -q -A -t -v ON_ERROR_STOP=1 -f traffic.sql \
	>traffic.out 2>traffic.err &
traffic=$!
track "$traffic"

"$EP" migrate >mig.out 2>mig.err </dev/null &
mig=$!
track "$mig"
ok "migrate times out and retries (two waits logged)" \
	wait_for 30 waits_logged mig.err 2
ok "the third session's queries queue behind the waiting ALTER" \
	wait_for 10 traffic_waiting
ok "migrate is still running while the reader holds its lock" kill -0 "$mig"
like "$(cat mig.err)" \
	"waited ddl_lock_timeout = 300 ms for a lock and rolled back \\(attempt 1 of 21\\): blocked by pid $holder_backend \\(user postgres, application_name \"t3800-holder\", idle in transaction, transaction open [0-9.]+ s, query: SELECT count\\(\\*\\) FROM items WHERE v = \\?;?\\); retrying in [0-9]+ ms" \
	"each wait names the reader: pid, user, application_name, state, open time, masked query"
unlike "$(cat mig.err)" 'secret-42' "the reader's literal never reaches the log"
is "$(psql_q "SELECT count(*) FROM information_schema.columns
	WHERE table_name = 'items' AND column_name = 'note'")" 0 \
	"nothing applied while the reader holds its lock"
hold_end
ok "migrate finishes once the reader commits" wait_for 30 exited "$mig"
wait "$mig"
is "$?" 0 "and exits 0"
is "$(psql_q "SELECT count(*) FROM information_schema.columns
	WHERE table_name = 'items' AND column_name = 'note'")" 1 "the column exists"
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations')" 1 "recorded once"
like "$(cat mig.err)" 'applied 0001_add_note' "the log says applied"

ok "traffic still running when migrate is done" kill -0 "$traffic"
kill "$traffic" 2>/dev/null
wait "$traffic" 2>/dev/null
unlike "$(cat traffic.err)" 'ERROR' \
	"no read or write of the third session waited past 2 x ddl_lock_timeout"
ok "the third session completed reads meanwhile" \
	test "$(grep -c '^[0-9]' traffic.out)" -ge 5

# --- lock_retries = 0: exit 75 at once ------------------------------------
printf 'ALTER TABLE items ADD COLUMN note2 text;\n' \
	>migrations/0002_add_note2.sql
hold_start t3800-holder "SELECT 1 FROM items LIMIT 1;"
run_ep -c noretry.ini migrate
is "$rc" 75 "lock_retries = 0: exit 75 (busy)"
like "$err" "could not apply 0002_add_note2: a lock it needs was still held after ddl_lock_timeout = 300 ms, 1 attempt \\(lock_retries = 0\\): blocked by pid $holder_backend " \
	"names the blocker"
unlike "$err" 'retrying' "no retry"
is "$(psql_q "SELECT count(*) FROM entrypoint.migrations WHERE version = 2")" 0 \
	"nothing recorded"
hold_end

# --- transaction:false: a plain statement is retried from where it stopped --
printf -- '-- migrate:up transaction:false\nCREATE TABLE side (x int);\nALTER TABLE items ADD COLUMN note3 text;\n' \
	>migrations/0003_notx.sql
rm migrations/0002_add_note2.sql
hold_start t3800-holder "SELECT 1 FROM items LIMIT 1;"
"$EP" migrate >mig.out 2>mig.err </dev/null &
mig=$!
track "$mig"
ok "transaction:false: the waiting statement is retried" \
	wait_for 30 waits_logged mig.err 1
hold_end
ok "and finishes after the reader commits" wait_for 30 exited "$mig"
wait "$mig"
is "$?" 0 "exit 0"
is "$(psql_q "SELECT status FROM entrypoint.migrations WHERE version = 3")" \
	succeeded "recorded succeeded"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'side'")" 1 \
	"the statement before it ran once (no 'already exists')"

# --- CONCURRENTLY is never retried ----------------------------------------
printf -- '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY items_v ON items (v);\n' \
	>migrations/0004_cic.sql
hold_start t3800-holder "LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE;"
run_ep migrate
is "$rc" 65 "CREATE INDEX CONCURRENTLY on a locked table: not retried, 65"
unlike "$err" 'retrying' "no retry"
like "$err" "blocked by pid $holder_backend " "names the blocker"
is "$(psql_q "SELECT status FROM entrypoint.migrations WHERE version = 4")" \
	failed "recorded failed (it may have left an INVALID index)"
hold_end

# --- migrate down: a lock timeout is rolled back and retried too ----------
rm migrations/0004_cic.sql
run_ep migrate resolve 4 --rolled-back
is "$rc" 0 "the failed CONCURRENTLY one resolved as rolled back"
printf -- '-- migrate:up\nALTER TABLE items ADD COLUMN note5 text;\n-- migrate:down\nALTER TABLE items DROP COLUMN note5;\n' \
	>migrations/0005_note5.sql
run_ep migrate
is "$rc" 0 "0005 applied"
hold_start t3800-holder "SELECT 1 FROM items LIMIT 1;"
run_ep -c noretry.ini migrate down --yes
is "$rc" 75 "down, lock_retries = 0: exit 75 (busy)"
like "$err" "could not revert 0005_note5: a lock it needs was still held after ddl_lock_timeout = 300 ms, 1 attempt \\(lock_retries = 0\\): blocked by pid $holder_backend " \
	"names the blocker"
is "$(psql_q "SELECT count(*) FROM entrypoint.migrations WHERE version = 5")" 1 \
	"the record stays"
"$EP" migrate down --yes >down.out 2>down.err </dev/null &
dn=$!
track "$dn"
ok "down waits ddl_lock_timeout, rolls back and retries" \
	wait_for 30 waits_logged down.err 1
like "$(cat down.err)" "revert 0005_note5: waited ddl_lock_timeout = 300 ms for a lock and rolled back \\(attempt 1 of 21\\): blocked by pid $holder_backend " \
	"each wait names the reader"
hold_end
ok "down finishes once the reader commits" wait_for 30 exited "$dn"
wait "$dn"
is "$?" 0 "and exits 0"
is "$(psql_q "SELECT count(*) FROM information_schema.columns
	WHERE table_name = 'items' AND column_name = 'note5'")" 0 "the column is gone"
is "$(psql_q "SELECT count(*) FROM entrypoint.migrations WHERE version = 5")" 0 \
	"and its record"
like "$(cat down.err)" 'reverted 0005_note5' "the log says reverted"

# --- bad values --------------------------------------------------------------
for v in -1 abc 1001; do
	sed "s/^lock_retries = 20$/lock_retries = $v/" entrypoint.ini >bad.ini
	run_ep -c bad.ini migrate status
	is "$rc" 78 "lock_retries = $v: exit 78"
	like "$err" "bad.ini:[0-9]+: invalid lock_retries \"$v\" in section \\[database\\]: expected a whole number from 0 to 1000" \
		"lock_retries = $v: file:line, key, reason"
done

done_testing
