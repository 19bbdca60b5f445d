#!/bin/bash
# t3610-gated: destructive and gated runs, and files judged alike by every
# command.  `migrate down` asks on a terminal (a real pty, through tmux) or
# needs --yes (77 without, nothing reverted), takes --dry-run, and its audit
# row and history say "migrate down N"; plan does not fail where its one
# transaction cannot tell (a new enum value used by the next migration);
# the first migrate as a role that may not create the schema exits 77 with
# the grant it needs; check and migrate agree on a ROLLBACK and on 5_x.SQL.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
cat >entrypoint.ini <<'INI'
[database]
url = ${DATABASE_URL}
audit = required
wait = 5s
INI

mig() {
	cat >"migrations/$1"
}
tables() {
	psql_q "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public'"
}
versions() {
	psql_q "SELECT string_agg(version::text, ',' ORDER BY version) FROM entrypoint.migrations"
}

mig 0001_a.sql <<'SQL'
-- migrate:up
CREATE TABLE a (x int);
-- migrate:down
DROP TABLE a;
SQL
mig 0002_b.sql <<'SQL'
-- migrate:up
CREATE TABLE b (x int);
-- migrate:down
DROP TABLE b;
SQL
run_ep migrate
is "$rc" 0 "two migrations applied"

# ---- down: --yes, or a terminal ------------------------------------------
run_ep migrate down
is "$rc" 77 "down without --yes and without a terminal: 77"
like "$err" 'pass --yes' "says what to do"
is "$(tables)/$(versions)" "a,b/1,2" "nothing was reverted"

run_ep migrate down --dry-run
is "$rc" 0 "down --dry-run: 0"
like "$out" '^ok +0002_b reverted' "says what it would revert"
is "$(tables)/$(versions)" "a,b/1,2" "and rolls it back"
is "$(psql_q "SELECT task || ',' || dry_run FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")" \
	"down 1,true" "its audit row: migrate down 1, a dry run"

run_ep migrate down 2 --dry-run
like "$out" 'ok +0001_a reverted' "down 2 --dry-run tries both, newest first"
is "$(tables)/$(versions)" "a,b/1,2" "and changes nothing"

command -v tmux >/dev/null || skip_tmux=1
tmux_use down
# ask ANSWER: run `migrate down` on a pty, answer the question
ask() {
	rm -f "$T/rc"
	"${TM[@]}" new-session -d -x 120 -y 24 -s t \
		"cd $T && $EP migrate down 2>&1; echo \$? >$T/rc; sleep 60"
	ok "the question is asked on the terminal, naming 0002_b" \
		wait_for 10 pane_has 'Go on\? \[y/N\]'
	ok "the question lists 0002_b" pane_has '^  0002_b$'
	"${TM[@]}" send-keys -t t "$1" Enter
	wait_for 10 test -s "$T/rc"
	rc=$(cat "$T/rc" 2>/dev/null)
	"${TM[@]}" kill-server 2>/dev/null
}
if [ -z "${skip_tmux:-}" ]; then
	ask n
	is "$rc" 77 "answered n: 77"
	is "$(tables)/$(versions)" "a,b/1,2" "nothing was reverted"
	ask y
	is "$rc" 0 "answered y: reverted"
	is "$(tables)/$(versions)" "a/1" "0002 reverted, its record gone"
	run_ep migrate
	is "$rc" 0 "applied again"
else
	skip "no tmux: the terminal question is not tried"
fi

run_ep migrate down --yes
is "$rc" 0 "down --yes"
is "$(tables)/$(versions)" "a/1" "0002 reverted"
is "$(psql_q "SELECT command || ' ' || task || ',' || status FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")" \
	"migrate down 1,succeeded" "the audit row says migrate down 1"
run_ep history -n 1
like "$out" 'migrate down 1 ' "history says migrate down 1"
run_ep migrate down sideways --yes
is "$rc" 64 "down with a bad count is still a usage error"
run_ep migrate status --yes
is "$rc" 64 "--yes is only for down"
run_ep migrate
is "$rc" 0 "applied again"

# ---- plan and a new enum value ---------------------------------------------
mig 0003_enum.sql <<'SQL'
CREATE TYPE mood AS ENUM ('calm');
SQL
run_ep migrate
mig 0004_add_value.sql <<'SQL'
ALTER TYPE mood ADD VALUE 'angry';
SQL
mig 0005_use_value.sql <<'SQL'
CREATE TABLE moods AS SELECT 'angry'::mood AS m;
SQL
run_ep migrate plan
is "$rc" 0 "plan: a use of an enum value added by an earlier pending migration does not fail"
like "$out" 'ok +0004_add_value' "the one adding it is tried"
like "$out" '^unknown 0005_use_value .*cannot be tried' "the one using it says it cannot be tried"
is "$(psql_q "SELECT count(*) FROM pg_enum WHERE enumlabel = 'angry'")" 0 "plan changed nothing"
run_ep migrate
is "$rc" 0 "and migrate applies both: plan did not hide a failure"
is "$(psql_q "SELECT m FROM moods")" angry "the value is used"
mig 0006_add_and_use.sql <<'SQL'
ALTER TYPE mood ADD VALUE 'sad';
CREATE TABLE sad AS SELECT 'sad'::mood AS m;
SQL
run_ep migrate plan
is "$rc" 65 "plan: adding and using a value in one file fails (migrate would too)"
run_ep migrate
is "$rc" 65 "migrate: it fails"
rm migrations/0006_add_and_use.sql

# ---- check and migrate agree on a file's content ---------------------------
mig 0007_rollback.sql <<'SQL'
CREATE TABLE r (x int);
ROLLBACK;
SQL
run_ep check
is "$rc" 65 "check refuses a ROLLBACK in a transactional migration"
like "$out" '0007_rollback.sql:2: ROLLBACK' "at file:line"
run_ep migrate
is "$rc" 65 "migrate refuses it too"
run_ep migrate plan
is "$rc" 65 "and plan"
run_ep migrate status
is "$rc" 65 "and status"
like "$err" '0007_rollback.sql:2: ROLLBACK' "which names it too"
rm migrations/0007_rollback.sql
printf 'CREATE TABLE upper (x int);\n' >migrations/0008_upper.SQL
run_ep check
is "$rc" 65 "check reports 0008_upper.SQL"
like "$out" '0008_upper.SQL.*lower case' "says why"
run_ep migrate
is "$rc" 65 "migrate reports it too, not skipping it"
run_ep migrate status
is "$rc" 65 "and status"
rm migrations/0008_upper.SQL
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename IN ('r', 'upper')")" 0 \
	"nothing of them ran"

# ---- a role that may not create the schema ----------------------------------
psql_q "CREATE ROLE t3610_app LOGIN" >/dev/null
psql_q "CREATE DATABASE t3610_db" >/dev/null
cat >lowpriv.ini <<INI
[database]
url = postgresql:///t3610_db?host=$PGHOST&port=$PGPORT&user=t3610_app
audit = off
INI
run_ep -c lowpriv.ini migrate
is "$rc" 77 "first migrate as a role without CREATE on the database: 77"
like "$err" 'GRANT CREATE ON DATABASE "t3610_db" TO "t3610_app"' "names the grant"
psql -X -q -d t3610_db -c 'GRANT CREATE ON DATABASE t3610_db TO t3610_app'
psql -X -q -d t3610_db -c 'GRANT CREATE ON SCHEMA public TO t3610_app'
run_ep -c lowpriv.ini migrate
is "$rc" 0 "with the grant it works"

done_testing
