#!/bin/bash
# t3700-layouts: migrate applies folders written for dbmate, golang-migrate,
# goose, sql-migrate, Flyway, diesel and Prisma as they are, takes over the
# history each tool wrote (half of the chain applied by that tool, or by
# psql with the rows as the tool's source writes them), and refuses a dirty
# or failed history, or one naming a migration the folder lacks.  Each
# final schema is compared with psql applying the same up parts.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
. "$SRCDIR/tests/pg/lib-layouts.sh"
cd "$T" || exit 1

pg_start
N=12
K=6
LAYOUTS="dbmate golang-migrate goose sql-migrate flyway diesel prisma"

# The real tools where they install here: dbmate from npm (bench/ puts it
# in .cache/bench), sql-migrate from Debian.
DBMATE=$SRCDIR/.cache/bench/node_modules/@dbmate/linux-x64/bin/dbmate
if [ ! -x "$DBMATE" ] && command -v npm >/dev/null; then
	npm install --prefix "$SRCDIR/.cache/bench" --no-audit --no-fund \
		--silent @dbmate/linux-x64 >/dev/null 2>&1
fi
[ -x "$DBMATE" ] || DBMATE=$(command -v dbmate || true)
SQLMIGRATE=$(command -v sql-migrate || true)

url() {
	echo "postgresql:///$1?host=$PGDIR&port=$PGPORT&user=postgres"
}

newdb() {
	PGOPTIONS="-c client_min_messages=warning" psql_q "DROP DATABASE IF EXISTS $1" >/dev/null
	psql_q "CREATE DATABASE $1" >/dev/null
}

# The schema without entrypoint's and the other tool's tables.
schema() {
	pg_dump --schema-only -N entrypoint -T "$2" -d "$1" |
		grep -v '^\\\(un\)\{0,1\}restrict ' | grep -v '^--'
}

q() {
	psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# A row the folder does not have, as each tool would record it.
history_extra() {
	local l=$1 db=$2
	case $l in
	dbmate) q "$db" "INSERT INTO public.schema_migrations VALUES ('99990101')" ;;
	golang-migrate) q "$db" "UPDATE public.schema_migrations SET version = 99990101" ;;
	goose) q "$db" "INSERT INTO public.goose_db_version (version_id, is_applied) VALUES (99990101, true)" ;;
	sql-migrate) q "$db" "INSERT INTO public.gorp_migrations VALUES ('9999-gone.sql', now())" ;;
	flyway) q "$db" "INSERT INTO public.flyway_schema_history VALUES (999, '9.9', 'gone', 'SQL', 'V9.9__gone.sql', 1, 'postgres', now(), 1, true)" ;;
	diesel) q "$db" "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')" ;;
	prisma) q "$db" "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('ffffffff-0000-4000-8000-000000000000', 'x', now(), '29990101000000_gone', 1)" ;;
	esac >/dev/null
}

for l in $LAYOUTS; do
	d=$T/$l
	db=${l//-/_}
	tbl=$(history_table "$l")
	rep=0			# Flyway's repeatable migrations
	[ "$l" = flyway ] && rep=2
	mkdir -p "$d"
	write_chain "$l" "$d/migrations" "$N" "$d/ref"
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >"$d/entrypoint.ini"
	cd "$d" || exit 1

	newdb "${db}_ref"
	psql_refs "${db}_ref" "$d/ref" || fail "$l: psql could not apply the references"
	want=$(schema "${db}_ref" "$tbl")

	# 1. the whole chain on an empty database
	newdb "${db}_full"
	DATABASE_URL=$(url "${db}_full") run_ep migrate
	is "$rc" 0 "$l: the whole chain applies as it is"
	like "$err" "applied $((N + rep)) migrations" "$l: all $((N + rep)) applied"
	is "$(schema "${db}_full" "$tbl")" "$want" \
		"$l: same schema as psql applying the up parts"
	is "$(q "${db}_full" 'SELECT count(*) FROM entrypoint.migrations')" \
		"$((N + rep))" "$l: $((N + rep)) records"

	# 2. half applied by the tool (or as it records it), then taken over
	newdb "${db}_half"
	how="rows as its source writes them"
	if [ "$l" = dbmate ] && [ -n "$DBMATE" ]; then
		mkdir -p "$d/half"
		for f in $(find "$d/migrations" -name '*.sql' | sort | head -n "$K"); do
			cp "$f" "$d/half/"
		done
		"$DBMATE" --url "postgres://postgres@/${db}_half?socket=$PGDIR&port=$PGPORT&sslmode=disable" --no-dump-schema \
			--migrations-dir "$d/half" up >/dev/null 2>"$d/tool.err" ||
			fail "dbmate up failed: $(tail -n 3 "$d/tool.err")"
		how="dbmate itself"
	elif [ "$l" = sql-migrate ] && [ -n "$SQLMIGRATE" ]; then
		printf 'e:\n  dialect: postgres\n  datasource: host=%s port=%s user=postgres dbname=%s sslmode=disable\n  dir: %s\n' \
			"$PGDIR" "$PGPORT" "${db}_half" "$d/migrations" >"$d/dbconfig.yml"
		"$SQLMIGRATE" up -config="$d/dbconfig.yml" -env=e -limit="$K" \
			>/dev/null 2>"$d/tool.err" ||
			fail "sql-migrate up failed: $(tail -n 3 "$d/tool.err")"
		how="sql-migrate itself"
	else
		psql_refs "${db}_half" "$d/ref" "$K"
		history_rows "$l" "${db}_half" "$d/migrations" "$K"
	fi
	before=$(q "${db}_half" "SELECT * FROM $tbl ORDER BY 1")
	DATABASE_URL=$(url "${db}_half") run_ep migrate
	is "$rc" 0 "$l: half applied by $how: migrate takes over"
	like "$err" "took over $K applied migrations from $tbl" \
		"$l: says what it took over, in one line"
	like "$err" "applied $((N - K + rep)) migrations" "$l: applies only the rest"
	is "$(schema "${db}_half" "$tbl")" "$want" "$l: same schema as psql"
	is "$(q "${db}_half" "SELECT count(*) FILTER (WHERE release = 'taken over from $tbl'), count(*) FROM entrypoint.migrations")" \
		"$K|$((N + rep))" "$l: $K records taken over, $((N + rep)) in all"
	is "$(q "${db}_half" "SELECT * FROM $tbl ORDER BY 1")" "$before" \
		"$l: $tbl left as it was"
	DATABASE_URL=$(url "${db}_half") run_ep migrate status
	like "$out" "applied .*taken over from $tbl" "$l: status shows the taken-over ones"
	DATABASE_URL=$(url "${db}_half") run_ep migrate
	like "$err" "nothing to apply" "$l: a second run applies nothing"

	# 3. a history naming a migration the folder does not have
	newdb "${db}_gone"
	psql_refs "${db}_gone" "$d/ref" "$K"
	history_rows "$l" "${db}_gone" "$d/migrations" "$K"
	history_extra "$l" "${db}_gone"
	t0=$(q "${db}_gone" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
	DATABASE_URL=$(url "${db}_gone") run_ep migrate
	is "$rc" 65 "$l: a history naming a migration the folder lacks: 65"
	like "$err" "cannot take over .*$tbl records migration .*no file" \
		"$l: says which and what to fix"
	is "$(q "${db}_gone" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")/$(q "${db}_gone" 'SELECT count(*) FROM entrypoint.migrations')" \
		"$t0/0" "$l: nothing applied, nothing recorded"

	# 4. dirty or failed, where the tool records that
	case $l in
	golang-migrate | flyway | prisma)
		newdb "${db}_dirty"
		psql_refs "${db}_dirty" "$d/ref" $((K - 1))
		history_rows "$l" "${db}_dirty" "$d/migrations" "$K" dirty
		t0=$(q "${db}_dirty" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
		DATABASE_URL=$(url "${db}_dirty") run_ep migrate
		is "$rc" 65 "$l: a dirty/failed history: 65"
		like "$err" "$tbl records migration .* as (dirty|failed).*nothing applied" \
			"$l: names the migration and says nothing was applied"
		is "$(q "${db}_dirty" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")/$(q "${db}_dirty" 'SELECT count(*) FROM entrypoint.migrations')" \
			"$t0/0" "$l: nothing applied, nothing recorded"
		;;
	esac
	cd "$T" || exit 1
done

# Flyway: a repeatable migration runs again when it changed, alone.
cd "$T/flyway" || exit 1
printf 'CREATE OR REPLACE VIEW rv_b AS SELECT id, 2 AS two FROM rv_a;\n' \
	>migrations/R__views_b.sql
DATABASE_URL=$(url flyway_full) run_ep migrate
is "$rc" 0 "flyway: a changed repeatable migration: migrate applies it"
like "$err" "applied 1 migration in" "flyway: only that one"
is "$(q flyway_full 'SELECT two FROM rv_b LIMIT 1')" 2 "flyway: its new text ran"
DATABASE_URL=$(url flyway_full) run_ep migrate
like "$err" "nothing to apply" "flyway: unchanged, not applied again"
cd "$T" || exit 1

# goose: the Down section never runs on the way up (it used to, right
# after Up, when the name happened to parse).
is "$(q goose_full "SELECT count(*) FROM pg_tables WHERE tablename = 't0'")" 1 \
	"goose: the table its Down section drops is there"

# status and plan show the takeover without writing anything.
cd "$T/goose" || exit 1
newdb goose_show
psql_refs goose_show "$T/goose/ref" "$K"
history_rows goose goose_show "$T/goose/migrations" "$K"
DATABASE_URL=$(url goose_show) run_ep migrate status
is "$rc" 0 "status on a history not taken over yet: 0"
like "$err" "would take over $K applied migrations from goose_db_version" \
	"status says what migrate would take over"
is "$(grep -c 'taken over from goose_db_version' <<<"$out")/$(grep -c '^pending' <<<"$out")" \
	"$K/$((N - K))" "status: $K taken over, $((N - K)) pending"
DATABASE_URL=$(url goose_show) run_ep migrate plan
is "$rc" 0 "plan on a history not taken over yet: 0"
is "$(grep -cE '^(ok|skip) ' <<<"$out")" "$((N - K))" \
	"plan tries (or skips) only the rest"
unlike "$out" 'm0[^0-9]' "plan leaves the taken-over ones alone"
is "$(q goose_show "SELECT count(*) FROM pg_namespace WHERE nspname = 'entrypoint'")" 0 \
	"status and plan wrote nothing"
cd "$T" || exit 1

# A file no layout uses is named; a README is ignored with a warning.
mkdir -p "$T/other/migrations"
cd "$T/other" || exit 1
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
printf -- '-- migrate:up\nCREATE TABLE o (id int);\n' >migrations/0001_o.sql
printf 'notes\n' >migrations/README.md
printf 'x\n' >migrations/schema.rb
newdb other
DATABASE_URL=$(url other) run_ep migrate
is "$rc" 65 "an unrecognized file in the folder: 65"
like "$err" 'unrecognized file ".*migrations/schema.rb"' "names it"
is "$(q other "SELECT count(*) FROM pg_tables WHERE tablename = 'o'")" 0 "nothing applied"
rm migrations/schema.rb
DATABASE_URL=$(url other) run_ep migrate
is "$rc" 0 "a README beside the migrations: applies"
like "$err" 'warning: ignoring ".*migrations/README.md": not a migration' \
	"with a warning naming it"
cd "$T" || exit 1

# Mixed layouts, a forced layout, an unrecognized format.
mkdir -p "$T/mixed/migrations"
cd "$T/mixed" || exit 1
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >entrypoint.ini
cp "$T/goose/migrations/00001_m0.sql" migrations/
cp "$T/flyway/migrations/V1.2__m1.sql" migrations/
newdb mixed
DATABASE_URL=$(url mixed) run_ep migrate
is "$rc" 65 "goose and Flyway files in one folder: 65"
like "$err" 'mixed migration layouts.*00001_m0.sql.*V1.2__m1.sql' \
	"names a file of each"
is "$(q mixed "SELECT count(*) FROM pg_namespace WHERE nspname = 'entrypoint'")" 0 \
	"nothing created"
rm migrations/V1.2__m1.sql
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\nformat = flyway\n' >entrypoint.ini
DATABASE_URL=$(url mixed) run_ep migrate
is "$rc" 65 "format = flyway on a goose file: 65"
like "$err" '00001_m0.sql.*flyway' "names the file and the layout"
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\nformat = liquibase\n' >entrypoint.ini
DATABASE_URL=$(url mixed) run_ep migrate
is "$rc" 78 "an unrecognized format: 78"
like "$err" 'invalid \[database\] format "liquibase"' "says which"
printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\nformat = goose\n' >entrypoint.ini
DATABASE_URL=$(url mixed) run_ep migrate
is "$rc" 0 "format = goose reads the goose file"

done_testing
