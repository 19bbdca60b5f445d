#!/bin/bash
# t4300-check: `entrypoint check` on a real PostgreSQL finds every problem
# a deploy would trip over in one run, one line each with file:line, and
# exits with the most severe one's code; --json gives one object each.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
GOOD_URL=$DATABASE_URL
unset DATABASE_URL

mkdir -p app/migrations app/tasks app/adir
cd app || exit 1
printf '#!/nonexistent/bin/python9\nprint(1)\n' >tasks/py.sh
printf '#!/usr/bin/env no-such-interpreter-i14\n' >tasks/envy.sh
printf '#!/bin/sh\necho ok\n' >tasks/good.sh
printf 'echo not executable\n' >tasks/noexec.sh
chmod +x tasks/py.sh tasks/envy.sh tasks/good.sh

printf -- '-- migrate:up\nCREATE TABLE one (x int);\n' >migrations/1_one.sql
printf -- '-- migrate:up\nCREATE TABLE two (x int);\n' >migrations/2_two.sql

cat >good.ini <<'INI'
[app]
name = checked

[process.web]
command = tasks/good.sh

[task.report]
command = sh -c 'echo report'
INI

# A config with a problem of every kind, none of which stops the others.
cat >bad.ini <<'INI'
[app]
user = no-such-user-i14
require_env = I14_NOT_SET

[process.web]
command = no-such-command-i14 --port 8080

[process.worker]
command = tasks/good.sh

[task.py]
command = tasks/py.sh

[task.envy]
command = tasks/envy.sh

[task.dir]
command = adir

[task.noexec]
command = tasks/noexec.sh

[task.fine]
command = tasks/good.sh
on_exit = no-such-on-exit-i14
INI

# --- every problem, one run ---------------------------------------------
printf -- '-- migrate:up\nSELECT 1;\nROLLBACK;\n' >migrations/3_rb.sql
printf -- '-- migrate:up\nSELECT 1;\n\\set x 1\n' >migrations/4_meta.sql
DATABASE_URL=$GOOD_URL run_ep -c bad.ini check
is "$rc" 78 "the most severe problem's code: config (78)"
like "$out" '^error +env +bad\.ini:3: .*I14_NOT_SET' "missing require_env, file:line"
like "$out" '^error +user +.*no-such-user-i14' "a user that is not in the image"
like "$out" '^error +process web +bad\.ini:5: "no-such-command-i14": command not found' \
	"a process command not on PATH, file:line"
like "$out" '^ok +process worker +.*tasks/good\.sh' "a good command is ok"
like "$out" '^error +task py +bad\.ini:11: .*interpreter "/nonexistent/bin/python9"' \
	"a script whose #! interpreter is missing"
like "$out" '^error +task envy +bad\.ini:14: .*"no-such-interpreter-i14" \(#!/usr/bin/env' \
	"#!/usr/bin/env NAME with NAME not on PATH"
like "$out" '^error +task dir +bad\.ini:17: .*is a directory|^error +task dir +bad\.ini:17: .*not found' \
	"a directory as a command"
like "$out" '^error +task noexec +bad\.ini:20: .*not executable' \
	"a script without the x bit"
like "$out" '^error +task fine on_exit +bad\.ini:23: "no-such-on-exit-i14"' \
	"an on_exit command"
like "$out" '^error +migrations +migrations/3_rb\.sql:3: ROLLBACK' \
	"a bad migration, file:line"
like "$out" '^error +migrations +migrations/4_meta\.sql:3: psql meta-command' \
	"and the next bad migration too, not only the first"
like "$out" '^ok +database url +from DATABASE_URL' \
	"DATABASE_URL is used when [database] url is unset"
like "$out" '^ok +database +reachable' "the database is reached"
like "$out" '^[0-9]+ problems' "a summary line"
is "$(printf '%s\n' "$out" | grep -c '^error')" 10 "ten problems, each on its own line"
is "$err" "" "nothing on stderr: the findings are the output"
ok "nothing was applied" test "$(psql_q "SELECT to_regclass('entrypoint.migrations') IS NULL")" = t

# --- --json: one object per finding ---------------------------------------
DATABASE_URL=$GOOD_URL run_ep -c bad.ini check --json
is "$rc" 78 "--json exits the same"
printf '%s\n' "$out" >"$T/check.json"
got=$(python3 - "$T/check.json" <<'PY'
import json, sys
n = bad = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    n += 1
    assert o["level"] in ("ok", "warning", "error"), o
    assert isinstance(o["check"], str) and isinstance(o["message"], str)
    if o["level"] == "error":
        bad += 1
        assert isinstance(o["code"], int), o
    if o["check"] == "task py":
        assert o["file"] == "bad.ini" and o["line"] == 11 and o["code"] == 127, o
print(n, bad)
PY
)
like "$got" '^[0-9]+ 10$' "every line is a JSON object; 10 errors with codes and places"

rm migrations/3_rb.sql migrations/4_meta.sql

# --- a good config, DATABASE_URL only: pending counted --------------------
DATABASE_URL=$GOOD_URL run_ep -c good.ini check
is "$rc" 0 "a good config exits 0"
like "$out" '^ok +pending +2 pending' "pending migrations counted"
like "$out" '^0 problems' "and no problem"
DATABASE_URL=$GOOD_URL "$EP" -c good.ini migrate >/dev/null 2>&1
DATABASE_URL=$GOOD_URL run_ep -c good.ini check
like "$out" '^ok +pending +0 pending' "none pending after migrate"

# --- what migrate would refuse: a changed applied migration ---------------
printf -- '-- migrate:up\nCREATE TABLE two (x int, y int);\n' >migrations/2_two.sql
DATABASE_URL=$GOOD_URL run_ep -c good.ini check
is "$rc" 65 "a changed applied migration: 65"
like "$out" '^error +history +.*2_two' "named in the history check"
DATABASE_URL=$GOOD_URL run_ep -c good.ini migrate
is "$rc" 65 "which migrate refuses as well"
printf -- '-- migrate:up\nCREATE TABLE two (x int);\n' >migrations/2_two.sql

# --- the database unreachable: the precise reason, 69 ---------------------
DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres" run_ep -c good.ini check
is "$rc" 69 "an unreachable database alone: 69"
like "$out" '^error +database +.*(refused|port 1)' "with libpq's reason"
mkdir -p "$T/nowhere"
DATABASE_URL="postgresql:///postgres?host=$T/nowhere" run_ep -c good.ini check
is "$rc" 69 "no server at the socket: 69"
like "$out" "^error +database +.*$T/nowhere" "naming where it looked"

# --- no database at all: a warning, the files still checked --------------
printf -- '-- migrate:up\nROLLBACK;\n' >migrations/5_rb.sql
run_ep -c good.ini check
is "$rc" 65 "without a database the migrations are still checked"
like "$out" '^warning +database url +none' "and the missing url is a warning"
rm migrations/5_rb.sql
run_ep -c good.ini check
is "$rc" 0 "no database and nothing else wrong: 0"

run_ep -c good.ini check --bogus
is "$rc" 64 "an unknown option: 64"

done_testing
