#!/bin/bash
# t4310-first-run: the first run of every command on an empty database
# leaves no ERROR in the server's log (the history table is asked for,
# never selected from while missing); migrate's summary time is the
# migrations' own and the wait for the server is said on its own line;
# the `shell` link writes a shell run's audit row.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
printf -- '-- migrate:up\nCREATE TABLE one (x int);\n-- migrate:down\nDROP TABLE one;\n' \
	>migrations/1_one.sql
cat >entrypoint.ini <<'INI'
[database]
url = ${DATABASE_URL}
wait = 30s

[process.web]
command = true
require_migrations = warn

[task.hello]
command = true
INI

server_errors() {
	grep -E 'ERROR:' "$PG_LOG"
}

run_ep migrate status
is "$rc" 0 "migrate status on an empty database"
is "$(server_errors)" "" "leaves no ERROR in the server's log"
run_ep check
is "$rc" 0 "check on an empty database"
is "$(server_errors)" "" "leaves no ERROR"
run_ep migrate plan
is "$rc" 0 "migrate plan on an empty database"
is "$(server_errors)" "" "leaves no ERROR"
run_ep web
is "$rc" 0 "web's start gate on an empty database"
is "$(server_errors)" "" "leaves no ERROR"
run_ep migrate
is "$rc" 0 "the first migrate"
is "$(server_errors)" "" "leaves no ERROR in the server's log"
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations')" 1 \
	"and created the history it asked for"
run_ep migrate
is "$rc" 0 "a second migrate"
run_ep task hello
is "$rc" 0 "a task"
run_ep history
is "$rc" 0 "history"
is "$(server_errors)" "" "no ERROR after any of them"

# The wait for the server is said apart from the summary.
"$EP" migrate down --yes >/dev/null 2>&1
pg_stop
"$EP" migrate >"$T/out" 2>"$T/err" &
mig=$!
track "$mig"
# migrate is waiting: alive for a whole second with the server down
alive_1s() {
	local s
	s=$(ps -o etimes= -p "$mig" 2>/dev/null | tr -d ' ')
	[ -n "$s" ] && [ "$s" -ge 1 ]
}
ok "migrate waits for the stopped server" wait_for 10 alive_1s
pg_start
wait "$mig"
is "$?" 0 "migrate applies once the server is up"
err=$(cat "$T/err")
like "$err" 'waited [0-9]+\.[0-9] s for the database' "the wait is said on its own line"
waited=$(printf '%s\n' "$err" | sed -nE 's/.*waited ([0-9]+)\.([0-9]) s for the database.*/\1\2/p')
took=$(printf '%s\n' "$err" | sed -nE 's/.*applied 1 migration in ([0-9]+) ms.*/\1/p')
ok "the summary has its own time" test -n "$took"
# Both figures are the binary's own; the wait (>= 1 s) is not in the
# summary's (a one-table migration).
ok "the summary's time leaves the wait out (${took} ms vs ${waited}00 ms)" \
	test "$took" -lt "$((waited * 100))"

# The binary started as `shell` writes the same audit row as
# `entrypoint shell`.
mkdir -p "$T/bin"
ln -s "$EP" "$T/bin/shell"
"$T/bin/shell" -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "shell (a link) runs [shell] command and passes its exit code"
is "$(psql_q "SELECT command || ' ' || exit_code || ' ' || status FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")" \
	"shell 3 failed" "and its audit row is a shell run's"

done_testing
