#!/bin/bash
# t3710-layout-gaps: what t3700 left open.  The start gate and `check`
# count another tool's history as applied (in memory, writing nothing);
# a FIFO in a migrations folder is refused at once, never read; after a
# takeover Flyway's repeatable migrations run again only when their
# checksum (Flyway's CRC-32 over the lines) differs from the last row's;
# `migrate create` in another tool's folder writes that tool's form, which
# migrate then applies, and the folder stays one layout; baseline and
# resolve take a migration named as the folder or status shows it
# (Flyway's 1.2, sql-migrate's file name, Prisma's folder).
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
like "$out" 'ok +pending +0 pending' "check: 0 pending"
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
like "$out" 'ok +pending +1 pending' "check: 1 pending"
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
# migration 2 (or 1) of each chain, named as lib-layouts.sh names it
fifo_case dbmate dbmate "$(chain_version dbmate 2)_m2.sql"
fifo_case diesel-up diesel "$(chain_version diesel 1)_m1/up.sql"
fifo_case diesel-down diesel "$(chain_version diesel 1)_m1/down.sql"
fifo_case prisma prisma "$(chain_id prisma 1)/migration.sql"
fifo_case flyway-conf flyway "V$(chain_version flyway 1)__m1.sql.conf"

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

# 4. Flyway versions as real folders write them: timestamps, dates in
# parts, parts of any size, ordered as Flyway's MigrationVersion orders
# them (numbers part by part, trailing zeros ignored).
mkdir -p "$T/fv/migrations"
cd "$T/fv" || exit 1
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
# name version: in Flyway's order
FV="a:1 b:1.9 c:1.10 d:2023.01.01.1200 e:2023.01.01.1201 f:2023_01_02_08_00_00 g:20230101120000 h:20230101120000.1 i:20230101120001"
printf 'CREATE TABLE seq (n serial, m text);\n' >migrations/V0__seq.sql
for x in $FV; do
	printf "INSERT INTO seq (m) VALUES ('%s');\n" "${x%%:*}" >"migrations/V${x#*:}__${x%%:*}.sql"
done
printf 'CREATE VIEW seq_v AS SELECT m FROM seq;\n' >migrations/R__seq_v.sql
newdb fv
DATABASE_URL=$(url fv) run_ep migrate
is "$rc" 0 "flyway: timestamp and many-part versions apply"
is "$(q fv "SELECT string_agg(m, '' ORDER BY n) FROM seq")" abcdefghi \
	"flyway: in Flyway's order (1.9 < 1.10 < 2023.01.01.1200 < 2023.1.2.8 < 20230101120000 < its .1)"
DATABASE_URL=$(url fv) run_ep migrate
like "$err" "nothing to apply" "flyway: a second run finds every one applied"
DATABASE_URL=$(url fv) run_ep migrate status
is "$(grep -c '^applied' <<<"$out")" 11 "flyway: status: all 11 applied"
is "$(grep -o 'V[0-9._]*__[a-z]' <<<"$out" | sed 's/.*__//' | tr -d '\n')" "sabcdefghi" \
	"flyway: status lists them in Flyway's order"
# a new one between two applied ones: pending, applied with a warning
printf "INSERT INTO seq (m) VALUES ('x');\n" >migrations/V2023.01.01.1300__x.sql
DATABASE_URL=$(url fv) run_ep migrate status
like "$out" 'pending .*V2023.01.01.1300__x' "flyway: a version between applied ones is pending"
rm migrations/V2023.01.01.1300__x.sql

# taken over from flyway_schema_history, versions as Flyway writes them
newdb fv2
psql -X -q -v ON_ERROR_STOP=1 -d fv2 -f migrations/V0__seq.sql
history_rows flyway fv2 "$T/fv/migrations" 0
k=1
for x in a b c d e; do
	v=$(for y in $FV; do [ "${y%%:*}" = "$x" ] && echo "${y#*:}"; done)
	psql -X -q -v ON_ERROR_STOP=1 -d fv2 -f "migrations/V${v}__$x.sql" \
		-c "INSERT INTO flyway_schema_history VALUES ($k, '$v', '$x', 'SQL', 'V${v}__$x.sql', 1, 'postgres', now(), 1, true)"
	k=$((k + 1))
done
psql_q -d fv2 "INSERT INTO flyway_schema_history VALUES (0, '0', 'seq', 'SQL', 'V0__seq.sql', 1, 'postgres', now(), 1, true)" >/dev/null
DATABASE_URL=$(url fv2) run_ep migrate
is "$rc" 0 "flyway: a history with timestamp versions: taken over"
like "$err" "took over 6 applied migrations from flyway_schema_history" "flyway: six taken over"
is "$(q fv2 "SELECT string_agg(m, '' ORDER BY n) FROM seq")" abcdefghi \
	"flyway: only the rest applied, in order"
cd "$T" || exit 1

# 5. 14-digit timestamp versions in goose, golang-migrate, dbmate and
# diesel's dated folders keep working, with a takeover.
ts_case() {
	local l=$1 tbl=$2 rows=$3
	mkdir -p "$T/ts-$l/migrations"
	cd "$T/ts-$l" || exit 1
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
	case $l in
	goose)
		printf -- '-- +goose Up\nCREATE TABLE ts1 (x int);\n-- +goose Down\nDROP TABLE ts1;\n' >migrations/20230101120000_a.sql
		printf -- '-- +goose Up\nCREATE TABLE ts2 (x int);\n' >migrations/20230102120000_b.sql ;;
	golang-migrate)
		printf 'CREATE TABLE ts1 (x int);\n' >migrations/20230101120000_a.up.sql
		printf 'DROP TABLE ts1;\n' >migrations/20230101120000_a.down.sql
		printf 'CREATE TABLE ts2 (x int);\n' >migrations/20230102120000_b.up.sql
		printf 'DROP TABLE ts2;\n' >migrations/20230102120000_b.down.sql ;;
	dbmate)
		printf -- '-- migrate:up\nCREATE TABLE ts1 (x int);\n-- migrate:down\nDROP TABLE ts1;\n' >migrations/20230101120000_a.sql
		printf -- '-- migrate:up\nCREATE TABLE ts2 (x int);\n' >migrations/20230102120000_b.sql ;;
	diesel)
		mkdir migrations/2023-01-01-120000_a migrations/2023-01-02-120000_b
		printf 'CREATE TABLE ts1 (x int);\n' >migrations/2023-01-01-120000_a/up.sql
		printf 'CREATE TABLE ts2 (x int);\n' >migrations/2023-01-02-120000_b/up.sql ;;
	esac
	newdb "ts_${l//-/_}"
	psql -X -q -v ON_ERROR_STOP=1 -d "ts_${l//-/_}" -c "CREATE TABLE ts1 (x int)" -c "$rows"
	DATABASE_URL=$(url "ts_${l//-/_}") run_ep migrate
	is "$rc" 0 "$l: 14-digit versions, the first applied by the tool: 0"
	like "$err" "took over 1 applied migration from $tbl" "$l: the first taken over"
	is "$(q "ts_${l//-/_}" "SELECT string_agg(version::text, ',' ORDER BY version) FROM entrypoint.migrations")" \
		20230101120000,20230102120000 "$l: recorded under their 14-digit versions"
	cd "$T" || exit 1
}
ts_case goose goose_db_version "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now()); INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (20230101120000, true)"
ts_case golang-migrate schema_migrations "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (20230101120000, false)"
ts_case dbmate schema_migrations "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20230101120000')"
ts_case diesel __diesel_schema_migrations "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP); INSERT INTO __diesel_schema_migrations (version) VALUES ('20230101120000')"

# 6. Several migrations of one number: sql-migrate orders them by number
# then by the whole file name, Prisma by folder name; each applies once.
SQLMIGRATE=$(command -v sql-migrate || true)
mkdir -p "$T/dup/sm" "$T/dup/pr"
cd "$T/dup" || exit 1
for x in 1-a 2-b 2-a 02-c 3-a; do
	printf -- "-- +migrate Up\nINSERT INTO seq (m) VALUES ('%s');\n-- +migrate Down\nDELETE FROM seq WHERE m = '%s';\n" "$x" "$x" >"sm/$x.sql"
done
printf -- "-- +migrate Up\nCREATE TABLE seq (n serial, m text);\n" >sm/0-seq.sql
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\nmigrations = sm\n' >sm.ini
newdb dup_sm
DATABASE_URL=$(url dup_sm) run_ep -c sm.ini migrate
is "$rc" 0 "sql-migrate: one number, several files: applies"
is "$(q dup_sm "SELECT string_agg(m, ' ' ORDER BY n) FROM seq")" "1-a 02-c 2-a 2-b 3-a" \
	"sql-migrate: by number, then by file name"
DATABASE_URL=$(url dup_sm) run_ep -c sm.ini migrate
like "$err" "nothing to apply" "sql-migrate: each recorded once, nothing again"
if [ -n "$SQLMIGRATE" ]; then
	newdb dup_sm2
	printf 'e:\n  dialect: postgres\n  datasource: host=%s port=%s user=postgres dbname=dup_sm2 sslmode=disable\n  dir: %s\n' \
		"$PGDIR" "$PGPORT" "$T/dup/sm" >dbconfig.yml
	"$SQLMIGRATE" up -config=dbconfig.yml -env=e -limit=4 >/dev/null 2>tool.err ||
		fail "sql-migrate up failed: $(tail -n 3 tool.err)"
	is "$(q dup_sm2 "SELECT string_agg(m, ' ' ORDER BY n) FROM seq")" "1-a 02-c 2-a" \
		"sql-migrate itself applies them in that order"
	DATABASE_URL=$(url dup_sm2) run_ep -c sm.ini migrate
	is "$rc" 0 "sql-migrate: its history taken over"
	like "$err" "took over 4 applied migrations from gorp_migrations" "sql-migrate: four taken over"
	is "$(q dup_sm2 "SELECT string_agg(m, ' ' ORDER BY n) FROM seq")" "1-a 02-c 2-a 2-b 3-a" \
		"sql-migrate: the rest applied once each, in order"
else
	pass "sql-migrate is not installed: skipped # SKIP"
fi

for x in 20230101000000_b 20230101000000_a 20221231000000_z; do
	mkdir -p "pr/$x"
	printf "INSERT INTO seq (m) VALUES ('%s');\n" "${x#*_}" >"pr/$x/migration.sql"
done
mkdir -p pr/20200101000000_seq
printf 'CREATE TABLE seq (n serial, m text);\n' >pr/20200101000000_seq/migration.sql
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\nmigrations = pr\n' >pr.ini
newdb dup_pr
DATABASE_URL=$(url dup_pr) run_ep -c pr.ini migrate
is "$rc" 0 "prisma: two folders of one timestamp: applies"
is "$(q dup_pr "SELECT string_agg(m, ' ' ORDER BY n) FROM seq")" "z a b" \
	"prisma: by folder name"
DATABASE_URL=$(url dup_pr) run_ep -c pr.ini migrate
like "$err" "nothing to apply" "prisma: each recorded once"
cd "$T" || exit 1

# migrate create in each layout's folder: the tool's own form, applied.
for l in dbmate golang-migrate goose sql-migrate flyway diesel prisma; do
	d=$T/create-$l
	db=create_${l//-/_}
	mkdir -p "$d"
	write_chain "$l" "$d/migrations" 2 "$d/ref"
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >"$d/entrypoint.ini"
	newdb "$db"
	cd "$d" || exit 1
	before=$(find migrations -type f | wc -l)
	DATABASE_URL=$(url "$db") run_ep migrate create add_widgets
	is "$rc" 0 "create in a $l folder"
	made=$(find migrations -type f -newer entrypoint.ini | sort)
	like "$made" "add_widgets" "$l: the new file's name says add_widgets"
	is "$(echo "$out" | sort)" "$made" "$l: prints what it made"
	case $l in
	golang-migrate | diesel) want=2 ;;
	*) want=1 ;;
	esac
	is "$(($(find migrations -type f | wc -l) - before))" "$want" \
		"$l: $want new file(s)"
	DATABASE_URL=$(url "$db") run_ep migrate
	is "$rc" 0 "$l: migrate applies the chain and the new one"
	like "$err" "applied [35] migrations" "$l: applies the chain and the new one"
	like "$err" "database at [^ ]*add_widgets" "$l: the new one is the last"
	# down: where the layout keeps a down part, the new one has an empty
	# one; Flyway's is a separate undo file, Prisma has none
	DATABASE_URL=$(url "$db") run_ep migrate down --yes
	case $l in
	flyway)
		is "$rc" 65 "$l: down without an undo file: 65"
		like "$err" 'has no down part \(a U<version>__name.sql undo file\)' \
			"$l: says where the undo file would be"
		;;
	prisma)
		is "$rc" 65 "$l: down: 65"
		like "$err" 'has no down part \(Prisma migrations have none\)' \
			"$l: says Prisma has none"
		;;
	*)
		is "$rc" 0 "$l: down reverts the new one"
		like "$err" "reverted [^ ]*add_widgets" "$l: the new one"
		;;
	esac
	cd "$T" || exit 1
done

# baseline by the names a user sees
baseline_in() {	# LAYOUT NAME WANT-MARKED [REPEATABLES]
	local l=$1 name=$2 want=$3 d=$T/baseline-$1 db=baseline_${1//-/_}
	mkdir -p "$d"
	[ -d "$d/migrations" ] || write_chain "$l" "$d/migrations" 6 "$d/ref"
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >"$d/entrypoint.ini"
	newdb "$db"
	# the database already has the schema up to there (what baseline
	# adopts): psql applied those migrations' up parts
	psql_refs "$db" "$d/ref" "$want" || fail "$l: psql could not apply the references"
	cd "$d" || exit 1
	DATABASE_URL=$(url "$db") run_ep migrate baseline "$name"
	is "$rc" 0 "$l: baseline $name"
	is "$(echo "$out" | grep -c '^baseline ')" "$want" \
		"$l: baseline $name marks $want migrations"
	is "$(q "$db" "SELECT count(*) FROM entrypoint.migrations WHERE status = 'baseline'")" \
		"$want" "$l: $want rows say baseline"
	DATABASE_URL=$(url "$db") run_ep migrate
	is "$rc" 0 "$l: migrate after the baseline"
	like "$err" "applied $((6 - want + ${4:-0})) migrations" \
		"$l: applies the ones after it"
	cd "$T" || exit 1
}
baseline_in flyway 1.2 2 2		# V1.1, V1.2; then 1.3..1.6 and 2 R__
baseline_in sql-migrate 3-m2.sql 3
baseline_in prisma 20200101000002_m1 2
baseline_in goose 00004 4
baseline_in dbmate 2 2
d=$T/baseline-flyway
newdb baseline_none
cd "$d" || exit 1
DATABASE_URL=$(url baseline_none) run_ep migrate baseline 9.9
is "$rc" 65 "flyway: baseline of a version no file has: 65"
like "$err" 'no migration "9\.9"' "names it"
is "$(q baseline_none "SELECT to_regclass('entrypoint.migrations') IS NULL OR (SELECT count(*) = 0 FROM entrypoint.migrations)")" t \
	"nothing recorded"
DATABASE_URL=$(url baseline_none) run_ep migrate baseline 'x y'
is "$rc" 64 "a version no migration can be named: 64"
cd "$T" || exit 1

done_testing
