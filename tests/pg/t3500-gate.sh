#!/bin/bash
# t3500-gate: require_migrations (off, warn, wait, fail) on a long-running
# process, an applied migration missing or changed in the image, and
# `entrypoint check`.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
printf 'CREATE TABLE one (x int);\n' >migrations/1_one.sql
printf 'CREATE TABLE two (x int);\n' >migrations/2_two.sql

# cfg MODE [WAIT]
cfg() {
	cat >"$1.ini" <<INI
[database]
url = \${DATABASE_URL}
wait = ${2:-5s}

[process.web]
command = touch $T/web.ran
require_migrations = $1
INI
}

for m in off warn wait fail; do cfg "$m"; done
cfg waitshort 1s
sed -i 's/= waitshort/= wait/' waitshort.ini

run_ep -c fail.ini web
is "$rc" 75 "fail with pending migrations: 75"
like "$err" '2 migrations are pending' "says how many"
ok "the process did not start" test ! -e web.ran

run_ep -c off.ini web
is "$rc" 0 "off: starts"
ok "off: it ran" test -e web.ran
rm -f web.ran

run_ep -c warn.ini web
is "$rc" 0 "warn: starts"
like "$err" 'warning: web: 2 migrations are pending; starting anyway' "warn: warns"
ok "warn: it ran" test -e web.ran
rm -f web.ran

run_ep -c waitshort.ini web
is "$rc" 75 "wait: nobody migrates within the deadline: 75"
ok "wait: it did not start" test ! -e web.ran

"$EP" -c wait.ini web >"$T/web.out" 2>"$T/web.err" </dev/null &
web=$!
track "$web"
wait_for 10 grep -qs 'waiting for 2 pending' "$T/web.err"
ok "wait: the process waits" test ! -e web.ran
run_ep -c wait.ini migrate
is "$rc" 0 "migrate meanwhile"
wait "$web"
is "$?" 0 "wait: starts once everything is applied"
ok "wait: it ran" test -e web.ran
rm -f web.ran

run_ep -c fail.ini web
is "$rc" 0 "fail: starts when nothing is pending"

# An applied migration missing from the image, or changed in it: wait and
# fail refuse to start (65; no waiting fixes it), warn warns and starts.
rm -f web.ran
mv migrations/2_two.sql "$T/"
run_ep -c fail.ini web
is "$rc" 65 "fail: an applied migration missing here: 65"
like "$err" 'applied migration 2_two has no file in this image' "names it"
ok "fail: the process did not start" test ! -e web.ran
run_ep -c wait.ini web
is "$rc" 65 "wait: the same, at once"
run_ep -c warn.ini web
is "$rc" 0 "warn: starts"
like "$err" 'warning: web: applied migration 2_two has no file' "warn: warns"
rm -f web.ran
mv "$T/2_two.sql" migrations/
printf 'CREATE TABLE two (x bigint);\n' >migrations/2_two.sql
run_ep -c fail.ini web
is "$rc" 65 "fail: an applied migration changed here: 65"
like "$err" 'applied migration 2_two was changed' "names it"
run_ep -c warn.ini web
is "$rc" 0 "warn: starts anyway"
like "$err" 'warning: web: applied migration 2_two was changed' "warn: warns"
rm -f web.ran
printf 'CREATE TABLE two (x int);\n' >migrations/2_two.sql

# check
printf 'CREATE TABLE three (x int);\n' >migrations/3_three.sql
run_ep -c fail.ini check
like "$out" 'database +reachable' "check: database reachable"
like "$out" 'pending +1 pending' "check: pending count"
printf 'SELECT 1;\n\\set x 1\n' >migrations/4_meta.sql
run_ep -c fail.ini check
is "$rc" 65 "check: invalid migration: 65"
like "$out" '4_meta.sql:2: psql meta-command' "check names file:line"

done_testing
