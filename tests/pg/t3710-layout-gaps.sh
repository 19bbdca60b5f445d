#!/bin/bash
# t3710-layout-gaps: what t3700 left open.  The start gate and `check`
# count another tool's history as applied (in memory, writing nothing);
# a FIFO in a migrations folder is refused at once, never read; after a
# takeover Flyway's repeatable migrations run again only when their
# checksum (Flyway's CRC-32 over the lines) differs from the last row's.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
. "$SRCDIR/tests/pg/lib-layouts.sh"
cd "$T" || exit 1

pg_start
N=8

url() {
	echo "postgresql:///$1?host=$PGDIR&port=$PGPORT&user=postgres"
}

newdb() {
	PGOPTIONS="-c client_min_messages=warning" psql_q "DROP DATABASE IF EXISTS $1" >/dev/null
	psql_q "CREATE DATABASE $1" >/dev/null
}

q() {
	psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# run_to SECS ARGS...: run_ep, but a hang ends in 124 instead of the suite
run_to() {
	local s=$1
	shift
	"$EP" "$@" >"$T/.o" 2>"$T/.e" </dev/null &
	local pid=$!
	track "$pid"
	if wait_for "$s" sh -c "! kill -0 $pid 2>/dev/null"; then
		wait "$pid"
		rc=$?
	else
		kill -TERM "$pid" 2>/dev/null
		wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid"
		wait "$pid"
		rc=124
	fi
	out=$(cat "$T/.o")
	err=$(cat "$T/.e")
}

# 1. The gate and check on a database goose fully migrated.
mkdir -p "$T/gate"
cd "$T/gate" || exit 1
write_chain goose "$T/gate/migrations" "$N" "$T/gate/ref"
cat >entrypoint.ini <<INI
[database]
url = \${DATABASE_URL}
wait = 5s

[process.web]
command = touch $T/gate/web.ran
require_migrations = fail
INI
newdb gate
psql_refs gate "$T/gate/ref"
history_rows goose gate "$T/gate/migrations" "$N"
export DATABASE_URL
DATABASE_URL=$(url gate)
run_ep web
is "$rc" 0 "gate: a database goose fully migrated: the web process starts"
ok "gate: it ran" test -e web.ran
unlike "$err" 'pending' "gate: nothing said to be pending"
run_ep check
is "$rc" 0 "check: 0"
like "$out" 'ok  pending +0 pending' "check: 0 pending"
is "$(q gate "SELECT count(*) FROM pg_namespace WHERE nspname = 'entrypoint'")" 0 \
	"gate and check wrote nothing"
# one migration short of the whole chain: still pending, still refused
newdb gate2
psql_refs gate2 "$T/gate/ref" $((N - 1))
history_rows goose gate2 "$T/gate/migrations" $((N - 1))
rm -f web.ran
DATABASE_URL=$(url gate2) run_ep web
is "$rc" 75 "gate: one migration not applied by goose: 75"
like "$err" '1 migration is pending' "gate: says how many"
ok "gate: it did not start" test ! -e web.ran
DATABASE_URL=$(url gate2) run_ep check
like "$out" 'ok  pending +1 pending' "check: 1 pending"
cd "$T" || exit 1

# 2. A FIFO where a migration file is: refused by name, at once.
fifo_case() {
	local name=$1 layout=$2 path=$3
	mkdir -p "$T/fifo-$name"
	cd "$T/fifo-$name" || exit 1
	write_chain "$layout" "$T/fifo-$name/migrations" 4 "$T/fifo-$name/ref"
	rm -f "migrations/$path"
	mkfifo "migrations/$path"
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
	newdb "fifo_${name//-/_}"
	DATABASE_URL=$(url "fifo_${name//-/_}") run_to 20 migrate
	is "$rc" 65 "$name: a FIFO as $path: migrate refuses (65), does not block"
	like "$err" "migrations/$path.*not a regular file" "$name: names it"
	is "$(q "fifo_${name//-/_}" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" 0 \
		"$name: nothing applied"
	DATABASE_URL=$(url "fifo_${name//-/_}") run_to 20 check
	is "$rc" 65 "$name: check refuses it too (65)"
	cd "$T" || exit 1
}
fifo_case dbmate dbmate "$(cd "$T" && write_chain dbmate "$T/probe" 4 "$T/probe.ref" && ls "$T/probe" | sed -n 3p)"
fifo_case diesel-up diesel "$(write_chain diesel "$T/probe2" 4 "$T/probe2.ref" && ls "$T/probe2" | sed -n 2p)/up.sql"
fifo_case diesel-down diesel "$(ls "$T/probe2" | sed -n 2p)/down.sql"
fifo_case prisma prisma "$(write_chain prisma "$T/probe3" 4 "$T/probe3.ref" && ls "$T/probe3" | grep _ | sed -n 2p)/migration.sql"
fifo_case flyway-conf flyway "$(write_chain flyway "$T/probe4" 4 "$T/probe4.ref" && ls "$T/probe4" | grep '^V' | sed -n 2p).conf"

# 3. Flyway: after a takeover, a repeatable migration whose checksum
# matches its last row is applied; one whose file changed runs again.
# flyway_crc FILE: Flyway's checksum (CRC-32 over the lines without their
# line breaks, BOM dropped), computed here with gzip's CRC-32.
flyway_crc() {
	local u
	u=$(sed '1s/^\xEF\xBB\xBF//' "$1" | tr -d '\r\n' | gzip -c | tail -c 8 |
		od -An -tu4 -N4 | tr -d ' ')
	[ "$u" -gt 2147483647 ] && u=$((u - 4294967296))
	echo "$u"
}
mkdir -p "$T/rep"
cd "$T/rep" || exit 1
write_chain flyway "$T/rep/migrations" "$N" "$T/rep/ref"
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
# CRLF line ends and a BOM: Flyway's checksum ignores both
printf '\xEF\xBB\xBF' >migrations/R__views_a.crlf
sed 's/$/\r/' migrations/R__views_a.sql >>migrations/R__views_a.crlf
mv migrations/R__views_a.crlf migrations/R__views_a.sql
newdb rep
psql_refs rep "$T/rep/ref" "$N"
history_rows flyway rep "$T/rep/migrations" "$N"
ca=$(flyway_crc migrations/R__views_a.sql)
cb=$(flyway_crc migrations/R__views_b.sql)
psql -X -q -v ON_ERROR_STOP=1 -d rep -c "CREATE VIEW rv_a AS SELECT 1 AS id;" \
	-c "INSERT INTO flyway_schema_history VALUES ($((N + 1)), NULL, 'views a', 'SQL', 'R__views_a.sql', $ca, 'postgres', now(), 1, true), ($((N + 2)), NULL, 'views b', 'SQL', 'R__views_b.sql', $((cb + 1)), 'postgres', now(), 1, true)"
psql_q -d rep "CREATE TABLE rep_marker (x int)" >/dev/null
DATABASE_URL=$(url rep) run_ep migrate
is "$rc" 0 "flyway: takeover with repeatables: 0"
like "$err" "took over $((N + 1)) applied migrations from flyway_schema_history" \
	"flyway: the repeatable whose checksum matches is taken over"
like "$err" "applied 1 migration" "flyway: the one whose checksum differs runs again, alone"
is "$(q rep "SELECT count(*) FROM pg_views WHERE viewname = 'rv_a' AND definition LIKE '%1 AS id%'")" 1 \
	"flyway: the matching repeatable did not run again (its view is as it was)"
is "$(q rep "SELECT count(*) FROM entrypoint.migrations WHERE name LIKE 'R__%'")" 2 \
	"flyway: both repeatables recorded"
cd "$T" || exit 1

done_testing
