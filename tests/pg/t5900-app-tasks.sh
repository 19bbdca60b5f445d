#!/bin/bash
# t5900: the example app's tasks, web and worker, through entrypoint (the
# dev build, $EP) against a real PostgreSQL: import-users-csv (bad rows
# with line numbers, all or nothing), deactivate-stale-users (dry run,
# confirmation, batches of 500, safe twice), users-report, the worker's
# SKIP LOCKED queue with two workers, web's page and clean stop.
# The schema comes from migrations/ (their up sections, through psql: this
# suite is about the app; migrate itself has its own suites), so the
# processes' start gate is off in this suite's copy of entrypoint.ini.
. "${SRCDIR:?}/tests/sh/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import psycopg2' 2>/dev/null ||
	skip_all "python3-psycopg2 is not installed (make deps)"
. "$SRCDIR/tests/pg/lib-pg.sh"
pg_start

sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
for f in "$SRCDIR"/migrations/[0-9]*.sql; do
	sed -n '/^-- migrate:up/,/^-- migrate:down/p' "$f" | sql -f - ||
		{ echo "Bail out! could not apply $f"; exit 1; }
done

# The image's config, minus what only makes sense in the image: the user
# to drop to, and the start gate (no migrate records here).
sed -e '/^user = /d' -e 's/^require_migrations = .*/require_migrations = off/' \
	"$SRCDIR/entrypoint.ini" >"$T/app.ini"
export ENTRYPOINT_CONFIG=$T/app.ini
# The tasks are python3 -m tasks.X: run from the source tree with Debian's
# python3 (first in PATH) and nothing written into the tree.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin PYTHONDONTWRITEBYTECODE=1
cd "$SRCDIR" || exit 1

# --- tasks ---------------------------------------------------------------
run_ep tasks
is "$rc" 0 "tasks lists the example app's tasks"
like "$out" '^deactivate-stale-users +Deactivate users' "deactivate-stale-users has its description"
like "$out" 'import-users-csv +Import users' "import-users-csv has its description"
like "$out" 'users-report +Count users' "users-report has its description"

# --- import-users-csv ----------------------------------------------------
cat >"$T/bad.csv" <<'EOF'
email,name,last_login_at
ann@example.org,Ann,2024-01-02
not-an-email,Bob,
carl@example.org,,2024-13-01
ann@example.org,Ann Again,
dora@example.org,Dora
EOF
run_ep task import-users-csv -- "$T/bad.csv"
is "$rc" 65 "import with bad rows exits 65 (the task's own code, passed through)"
like "$err" 'line 3: invalid email "not-an-email"' "bad email reported with its line number"
like "$err" 'line 4: empty name; invalid last_login_at "2024-13-01"' "empty name and bad date on line 4"
like "$err" 'line 5: duplicate email "ann@example.org" \(first on line 2\)' "duplicate inside the file"
like "$err" 'line 6: expected 3 fields, got 2' "short row"
like "$err" '4 bad rows .*nothing imported' "summary says nothing was imported"
is "$(sql -c 'SELECT count(*) FROM users')" 0 "no user imported from a file with bad rows"
is "$(sql -c 'SELECT count(*) FROM jobs')" 0 "and no job queued"

printf 'mail,name\nx@example.org,X\n' >"$T/header.csv"
run_ep task import-users-csv -- "$T/header.csv"
is "$rc" 65 "a bad header exits 65"
like "$err" 'line 1: invalid header: missing column email; unrecognized column "mail"' "the header problem is named"

run_ep task import-users-csv -- "$T/missing.csv"
is "$rc" 66 "a missing file exits 66"

run_ep task import-users-csv
is "$rc" 64 "no file argument is a usage error (64)"

cat >"$T/good.csv" <<'EOF'
email,name,last_login_at
Ann@Example.org,Ann,2024-01-02
bob@example.org,"Bob, Jr.",
carl@example.org,Carl,2025-03-04T05:06:07Z
EOF
run_ep task import-users-csv --dry-run -- "$T/good.csv"
is "$rc" 0 "import --dry-run of a good file exits 0"
like "$out" 'dry run: 3 rows are valid, would import 3 users' "dry run reports what it would import"
is "$(sql -c 'SELECT count(*) FROM users')" 0 "dry run imported nothing"

run_ep task import-users-csv -- "$T/good.csv"
is "$rc" 0 "import of a good file exits 0"
like "$out" 'imported 3 users, queued 3 welcome mails' "import reports users and jobs"
is "$(sql -c "SELECT string_agg(email || '/' || name, ' ' ORDER BY email) FROM users")" \
	"ann@example.org/Ann bob@example.org/Bob, Jr. carl@example.org/Carl" \
	"users imported as written (email lower-cased, quoted comma kept)"
is "$(sql -c "SELECT count(*) FROM jobs WHERE kind = 'welcome' AND status = 'queued'")" 3 \
	"one welcome job per user"

run_ep task import-users-csv -- "$T/good.csv"
is "$rc" 65 "importing the same file again is refused (65)"
like "$err" 'line 2: email "ann@example.org" already exists' "existing emails reported by line"
is "$(sql -c 'SELECT count(*) FROM users')" 3 "still 3 users"

printf 'email,name\neve@example.org,Eve\n' >"$T/stdin.csv"
"$EP" task import-users-csv -- - <"$T/stdin.csv" >"$T/o" 2>"$T/e"
is "$?" 0 "import reads the CSV from standard input with -"
is "$(sql -c "SELECT name FROM users WHERE email = 'eve@example.org'")" Eve "the user from stdin is there"

# --- deactivate-stale-users ----------------------------------------------
# 1234 stale users (no login for two years, or never and signed up long
# ago), 7 recent ones; the four imported above: ann (2024) is stale too.
sql <<'EOF'
INSERT INTO users (email, name, last_login_at, created_at)
SELECT 'stale' || g || '@example.org', 'Stale ' || g,
       CASE WHEN g % 2 = 0 THEN now() - interval '2 years' END,
       now() - interval '3 years'
  FROM generate_series(1, 1233) g;
INSERT INTO users (email, name, last_login_at)
SELECT 'fresh' || g || '@example.org', 'Fresh ' || g, now() - interval '1 day'
  FROM generate_series(1, 7) g;
UPDATE users SET last_login_at = now() - interval '400 days'
 WHERE email = 'ann@example.org';
UPDATE users SET last_login_at = now() - interval '10 days'
 WHERE email IN ('bob@example.org', 'carl@example.org', 'eve@example.org');
EOF
state() {
	sql -c "SELECT count(*) FILTER (WHERE active) || ' ' ||
		count(*) FILTER (WHERE NOT active) || '|' ||
		coalesce(max(deactivated_at)::text, '-') FROM users"
}
before=$(state)
is "${before%|*}" "1244 0" "1244 active users before"

run_ep task deactivate-stale-users --dry-run
is "$rc" 0 "deactivate --dry-run exits 0"
like "$out" 'dry run: would deactivate 1234 users .*\(3 batches of 500\); nothing changed' \
	"dry run reports how many, in how many batches"
is "$(state)" "$before" "dry run changed nothing"

run_ep task deactivate-stale-users
is "$rc" 77 "without a terminal and without --yes it is refused (77)"
is "$(state)" "$before" "the refused run changed nothing"

run_ep task deactivate-stale-users --yes
is "$rc" 0 "deactivate --yes exits 0"
is "$(printf '%s\n' "$out" | grep -c '^batch ')" 3 "three batches, one line each"
like "$out" 'batch 1: deactivated 500 users \(500 so far\)' "batch 1 has 500"
like "$out" 'batch 2: deactivated 500 users \(1000 so far\)' "batch 2 has 500"
like "$out" 'batch 3: deactivated 234 users \(1234 so far\)' "batch 3 has the rest"
like "$out" 'done: deactivated 1234 users in 3 batches' "summary line"
after=$(state)
is "${after%|*}" "10 1234" "1234 deactivated, the 10 recent ones kept"
is "$(sql -c "SELECT string_agg(email, ' ' ORDER BY email) FROM users WHERE active AND email NOT LIKE 'fresh%'")" \
	"bob@example.org carl@example.org eve@example.org" "recent users stay active"

run_ep task deactivate-stale-users --yes
is "$rc" 0 "running it twice is safe: exit 0"
like "$out" '^nothing to do' "the second run finds nothing to do"
is "$(state)" "$after" "the second run changed nothing (not even deactivated_at)"

# --- users-report --------------------------------------------------------
run_ep task users-report
is "$rc" 0 "users-report exits 0"
like "$out" 'users_total +1244' "report: total"
like "$out" 'users_inactive +1234' "report: inactive"
like "$out" 'jobs_queued +4' "report: queued jobs"
run_ep task users-report -- --format csv
like "$out" '^metric,value' "report as CSV has a header"
like "$out" 'users_active,10' "report as CSV has the values"
run_ep task users-report --dry-run
is "$rc" 64 "users-report refuses --dry-run (dry_run = unsupported): 64"
run_ep task users-report -- --format xml
is "$rc" 64 "a bad task argument is the task's usage error (64)"

# --- worker: two of them share the queue --------------------------------
sql -c "INSERT INTO jobs (kind, payload)
	SELECT 'welcome', jsonb_build_object('email', 'w' || g || '@example.org')
	  FROM generate_series(1, 296) g"
sql -c "INSERT INTO jobs (kind) VALUES ('no-such-kind')"
WORKER_POLL_SECONDS=0.2 "$EP" worker >"$T/w1.out" 2>"$T/w1.err" &
w1=$!
track "$w1"
WORKER_POLL_SECONDS=0.2 "$EP" worker >"$T/w2.out" 2>"$T/w2.err" &
w2=$!
track "$w2"
queued() { [ "$(sql -c "SELECT count(*) FROM jobs WHERE status = 'queued'")" = 0 ]; }
ok "two workers empty the queue" wait_for 60 queued
is "$(sql -c "SELECT count(*) FROM jobs WHERE status = 'done' AND attempts = 1")" 300 \
	"every job done exactly once (FOR UPDATE SKIP LOCKED)"
is "$(sql -c "SELECT count(*) FROM jobs WHERE attempts <> 1")" 0 "no job taken twice"
is "$(sql -c "SELECT status || ': ' || error FROM jobs WHERE kind = 'no-such-kind'")" \
	'failed: unrecognized job kind "no-such-kind"' "an unknown kind fails with its reason"
is "$(cat "$T/w1.err" "$T/w2.err" | grep -c 'worker: job [0-9]* (welcome) done')" 300 \
	"the two logs together show each job once"
sql -c "INSERT INTO jobs (kind, payload) VALUES ('sleep', '{\"seconds\": 1}'); NOTIFY jobs"
started() { [ "$(sql -c "SELECT count(*) FROM jobs WHERE kind = 'sleep' AND status = 'queued'")" = 0 ]; }
wait_for 20 started
kill -TERM "$w1" "$w2"
wait "$w1"
r1=$?
wait "$w2"
r2=$?
is "$r1 $r2" "0 0" "both workers exit 0 on TERM"
is "$(sql -c "SELECT status FROM jobs WHERE kind = 'sleep'")" "done" \
	"the job in hand when TERM came was finished, not dropped"
like "$(cat "$T/w1.err")" 'worker: stopped' "the worker says it stopped"

# --- web -----------------------------------------------------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$port "$EP" web >"$T/web.out" 2>"$T/web.err" &
web=$!
track "$web"
get() {
	"$PY" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.stdout.write(r.read().decode())' "http://127.0.0.1:$port$1" 2>/dev/null
}
healthy() { get /healthz >/dev/null; }
ok "web answers /healthz" wait_for 20 healthy
is "$(get /healthz)" ok "/healthz says ok"
is "$(get /readyz)" ready "/readyz reaches the database"
page=$(get /)
like "$page" '1244 users, 10 active' "the page counts users from the database"
like "$page" '<td>bob@example.org</td><td>Bob, Jr.</td><td>yes</td>' "the page lists users"
kill -TERM "$web"
wait "$web"
is "$?" 0 "web exits 0 on TERM"
like "$(cat "$T/web.err")" 'web: got SIGTERM, stopping' "web saw the TERM entrypoint forwarded"
like "$(cat "$T/web.err")" 'web: stopped' "and stopped cleanly"

done_testing
