# shellcheck shell=bash
# lib-layouts.sh - our own migration chains in the layouts of other tools
# (dbmate, golang-migrate, goose, sql-migrate, Flyway, diesel, Prisma), and
# the history rows each tool writes, for tests/pg/t37xx and bench/.
#
#	write_chain LAYOUT DIR N REFDIR
#		N migrations in DIR in LAYOUT's own form; REFDIR gets the up
#		part of each as NNNN.sql (NNNN.notx.sql when it must run
#		outside a transaction), in the order the tool applies them,
#		for psql to apply file by file.
#	psql_refs DB REFDIR [COUNT]	apply the first COUNT references
#	history_rows LAYOUT DB DIR K [dirty]
#		write LAYOUT's history table in DB saying the first K
#		migrations are applied, as that tool's source writes it; with
#		"dirty", the K-th is recorded dirty/failed (where the tool has
#		that notion).
#	history_table LAYOUT		the table's name
#
# Migration i (0-based) is one of four kinds, i % 4:
#	0 a table with rows whose text holds ';' and quotes
#	1 a plpgsql function with a dollar-quoted body holding ';'
#	2 CREATE INDEX CONCURRENTLY outside a transaction: two statements in
#	  one section where the tool runs them one by one, one statement
#	  alone where the tool sends a section as one query string (dbmate,
#	  golang-migrate, Prisma: several would be one implicit transaction)
#	3 ALTER TABLE and a view
# each with a down part that undoes it.  Flyway's chain also has two
# repeatable migrations (R__), applied after the versioned ones.

# The up SQL of migration i in layout l.
chain_up() {
	local l=$1 i=$2 t=$(($2 - $2 % 4))
	case $(($2 % 4)) in
	0)
		printf 'CREATE TABLE t%d (id bigint PRIMARY KEY, v text NOT NULL);\n' "$i"
		printf "INSERT INTO t%d VALUES (1, 'semi;colon'), (2, 'it''s');\n" "$i"
		;;
	1)
		printf 'CREATE FUNCTION f%d(x int) RETURNS int LANGUAGE plpgsql AS $fn$\n' "$i"
		printf 'BEGIN\n\t-- a comment; with a semicolon\n\tRETURN x + %d;\nEND;\n$fn$;\n' "$i"
		;;
	2)
		printf 'CREATE INDEX CONCURRENTLY i%d_a ON t%d (v);\n' "$i" "$t"
		case $l in
		dbmate | golang-migrate | prisma) ;;
		*) printf 'CREATE INDEX CONCURRENTLY i%d_b ON t%d (id, v);\n' "$i" "$t" ;;
		esac
		;;
	3)
		printf 'ALTER TABLE t%d ADD COLUMN c%d int DEFAULT %d;\n' "$t" "$i" "$i"
		printf 'CREATE VIEW v%d AS SELECT id, c%d FROM t%d;\n' "$i" "$i" "$t"
		;;
	esac
}

chain_down() {
	local l=$1 i=$2 t=$(($2 - $2 % 4))
	case $(($2 % 4)) in
	0) printf 'DROP TABLE t%d;\n' "$i" ;;
	1) printf 'DROP FUNCTION f%d(int);\n' "$i" ;;
	2)
		printf 'DROP INDEX CONCURRENTLY i%d_a;\n' "$i"
		case $l in
		dbmate | golang-migrate | prisma) ;;
		*) printf 'DROP INDEX CONCURRENTLY i%d_b;\n' "$i" ;;
		esac
		;;
	3) printf 'DROP VIEW v%d;\nALTER TABLE t%d DROP COLUMN c%d;\n' "$i" "$t" "$i" ;;
	esac
}

# The version of migration i as the file name carries it.
chain_version() {
	local l=$1 i=$2
	case $l in
	flyway) printf '1.%d' $(($2 + 1)) ;;	# 1.9 before 1.10
	diesel) printf '2020-01-01-%06d' $((i + 1)) ;;
	prisma) printf '2020010100%04d' $((i + 1)) ;;
	goose) printf '%05d' $((i + 1)) ;;
	sql-migrate) printf '%d' $((i + 1)) ;;
	*) printf '%04d' $((i + 1)) ;;
	esac
}

# The id the tool's history records for migration i.
chain_id() {
	local l=$1 i=$2 v
	v=$(chain_version "$l" "$i")
	case $l in
	sql-migrate) printf '%s-m%d.sql' "$v" "$i" ;;
	prisma) printf '%s_m%d' "$v" "$i" ;;
	diesel) printf '%s' "${v//-/}" ;;
	goose | golang-migrate) printf '%d' $((10#$v)) ;;
	*) printf '%s' "$v" ;;
	esac
}

_chain_one() {
	local l=$1 d=$2 i=$3 v notx=$(($3 % 4 == 2)) f
	v=$(chain_version "$l" "$i")
	case $l in
	dbmate)
		{
			if [ "$notx" = 1 ]; then
				echo '-- migrate:up transaction:false'
			else
				echo '-- migrate:up'
			fi
			chain_up "$l" "$i"
			if [ "$notx" = 1 ]; then
				echo '-- migrate:down transaction:false'
			else
				echo '-- migrate:down'
			fi
			chain_down "$l" "$i"
		} >"$d/${v}_m$i.sql"
		;;
	golang-migrate)
		# names with dots and versions in them
		chain_up "$l" "$i" >"$d/${v}_m$i.v2.9.0.up.sql"
		chain_down "$l" "$i" >"$d/${v}_m$i.v2.9.0.down.sql"
		;;
	goose)
		{
			[ "$notx" = 1 ] && echo '-- +goose NO TRANSACTION'
			echo '-- +goose Up'
			if [ $((i % 4)) = 1 ]; then
				echo '-- +goose StatementBegin'
				chain_up "$l" "$i"
				echo '-- +goose StatementEnd'
			else
				chain_up "$l" "$i"
			fi
			echo
			echo '-- +goose Down'
			chain_down "$l" "$i"
		} >"$d/${v}_m$i.sql"
		;;
	sql-migrate)
		{
			if [ "$notx" = 1 ]; then
				echo '-- +migrate Up notransaction'
			else
				echo '-- +migrate Up'
			fi
			if [ $((i % 4)) = 1 ]; then
				echo '-- +migrate StatementBegin'
				chain_up "$l" "$i"
				echo '-- +migrate StatementEnd'
			else
				chain_up "$l" "$i"
			fi
			if [ "$notx" = 1 ]; then
				echo '-- +migrate Down notransaction'
			else
				echo '-- +migrate Down'
			fi
			chain_down "$l" "$i"
		} >"$d/$v-m$i.sql"
		;;
	flyway)
		chain_up "$l" "$i" >"$d/V${v}__m$i.sql"
		chain_down "$l" "$i" >"$d/U${v}__m$i.sql"
		;;
	diesel)
		f=$d/${v}_m$i
		mkdir -p "$f"
		chain_up "$l" "$i" >"$f/up.sql"
		chain_down "$l" "$i" >"$f/down.sql"
		[ "$notx" = 1 ] && echo 'run_in_transaction = false' >"$f/metadata.toml"
		;;
	prisma)
		mkdir -p "$d/${v}_m$i"
		chain_up "$l" "$i" >"$d/${v}_m$i/migration.sql"
		;;
	esac
}

write_chain() {
	local l=$1 d=$2 n=$3 ref=$4 i
	mkdir -p "$d" "$ref"
	for ((i = 0; i < n; i++)); do
		_chain_one "$l" "$d" "$i"
		if [ $((i % 4)) = 2 ]; then
			chain_up "$l" "$i" >"$ref/$(printf %04d "$i").notx.sql"
		else
			chain_up "$l" "$i" >"$ref/$(printf %04d "$i").sql"
		fi
	done
	[ "$l" = prisma ] && printf 'provider = "postgresql"\n' >"$d/migration_lock.toml"
	if [ "$l" = flyway ]; then
		# repeatable ones, applied after the versioned ones in the
		# order of their descriptions (b's view reads a's)
		printf 'CREATE OR REPLACE VIEW rv_a AS SELECT id, v FROM t0;\n' |
			tee "$d/R__views_a.sql" >"$ref/9000.sql"
		printf 'CREATE OR REPLACE VIEW rv_b AS SELECT id FROM rv_a;\n' |
			tee "$d/R__views_b.sql" >"$ref/9001.sql"
	fi
	return 0
}

# psql_refs DB REFDIR [COUNT]: psql applies the references file by file
# (-1 for the transactional ones).
psql_refs() {
	local db=$1 ref=$2 count=${3:-999999} f k=0
	for f in "$ref"/*.sql; do
		[ "$k" -lt "$count" ] || break
		k=$((k + 1))
		case $f in
		*.notx.sql) psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$f" ;;
		*) psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$f" ;;
		esac || return 1
	done
}

history_table() {
	case $1 in
	dbmate | golang-migrate) echo schema_migrations ;;
	goose) echo goose_db_version ;;
	sql-migrate) echo gorp_migrations ;;
	flyway) echo flyway_schema_history ;;
	diesel) echo __diesel_schema_migrations ;;
	prisma) echo _prisma_migrations ;;
	esac
}

# history_rows LAYOUT DB DIR K [dirty]: the table and rows the tool writes
# (its DDL and INSERTs as its source has them, for PostgreSQL).
history_rows() {
	local l=$1 db=$2 d=$3 k=$4 dirty=${5:-} i id sql="" ok
	case $l in
	dbmate)
		sql="CREATE TABLE IF NOT EXISTS public.schema_migrations (version varchar(128) PRIMARY KEY);"
		for ((i = 0; i < k; i++)); do
			sql+="INSERT INTO public.schema_migrations (version) VALUES ('$(chain_id "$l" "$i")');"
		done
		;;
	golang-migrate)
		sql="CREATE TABLE IF NOT EXISTS public.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);"
		if [ "$k" -gt 0 ]; then
			ok=false
			[ -n "$dirty" ] && ok=true
			sql+="TRUNCATE public.schema_migrations;INSERT INTO public.schema_migrations (version, dirty) VALUES ($(chain_id "$l" $((k - 1))), $ok);"
		fi
		;;
	goose)
		sql="CREATE TABLE public.goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());"
		sql+="INSERT INTO public.goose_db_version (version_id, is_applied) VALUES (0, true);"
		for ((i = 0; i < k; i++)); do
			sql+="INSERT INTO public.goose_db_version (version_id, is_applied) VALUES ($(chain_id "$l" "$i"), true);"
		done
		;;
	sql-migrate)
		sql="CREATE TABLE IF NOT EXISTS public.gorp_migrations (id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone);"
		for ((i = 0; i < k; i++)); do
			sql+="INSERT INTO public.gorp_migrations (id, applied_at) VALUES ('$(chain_id "$l" "$i")', now());"
		done
		;;
	flyway)
		sql='CREATE TABLE "public"."flyway_schema_history" ("installed_rank" INT NOT NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL, "type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER, "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP NOT NULL DEFAULT now(), "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);'
		sql+='ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");'
		sql+='CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");'
		for ((i = 0; i < k; i++)); do
			ok=true
			[ -n "$dirty" ] && [ "$i" = $((k - 1)) ] && ok=false
			sql+="INSERT INTO \"public\".\"flyway_schema_history\" (\"installed_rank\", \"version\", \"description\", \"type\", \"script\", \"checksum\", \"installed_by\", \"execution_time\", \"success\") VALUES ($((i + 1)), '$(chain_id "$l" "$i")', 'm$i', 'SQL', 'V$(chain_version "$l" "$i")__m$i.sql', $((1000 + i)), 'postgres', 3, $ok);"
		done
		;;
	diesel)
		sql="CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);"
		for ((i = 0; i < k; i++)); do
			sql+="INSERT INTO __diesel_schema_migrations (version) VALUES ('$(chain_id "$l" "$i")');"
		done
		;;
	prisma)
		sql='CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0);'
		for ((i = 0; i < k; i++)); do
			id=$(chain_id "$l" "$i")
			ok="now()"
			[ -n "$dirty" ] && [ "$i" = $((k - 1)) ] && ok=NULL
			sql+="INSERT INTO \"_prisma_migrations\" (\"id\", \"checksum\", \"finished_at\", \"migration_name\", \"started_at\", \"applied_steps_count\") VALUES ('$(printf '%08d' "$i")-0000-4000-8000-000000000000', '$(sha256sum <"$d/$id/migration.sql" | cut -d' ' -f1)', $ok, '$id', now() + interval '$i ms', 1);"
		done
		;;
	esac
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "$sql"
}
