#!/bin/bash
# bench/migrate.sh - migrate side by side with dbmate, psql and a libpq
# floor, on one throwaway cluster, in one run:
#   apply: 1000 small migrations to an empty database
#          entrypoint migrate | dbmate up | one psql session running each
#          file between BEGIN and COMMIT (no bookkeeping at all)
#   no-op: migrate with the 1000 applied (mean of $RUNS runs)
#          entrypoint migrate | dbmate up | bench/floor.c (connect, read
#          the applied list, disconnect)
# Goals (issue 3): no-op <= 1.3x the floor and >= 2x faster than dbmate;
# applying no slower than psql.
#
#	sh bench/migrate.sh   (EP=path/to/entrypoint, N=1000, RUNS=20)
# dbmate comes from npm (@dbmate/linux-x64) into .cache/bench; without npm
# its columns say "n/a".
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export SRCDIR
: "${EP:=$SRCDIR/build/entrypoint}"
: "${N:=1000}"
: "${RUNS:=20}"
CACHE=$SRCDIR/.cache/bench
mkdir -p "$CACHE"

# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"

[ -x "$EP" ] || { echo "bench: build $EP first (make)" >&2; exit 1; }
DBMATE=$CACHE/node_modules/@dbmate/linux-x64/bin/dbmate
if [ ! -x "$DBMATE" ] && command -v npm >/dev/null; then
	npm install --prefix "$CACHE" --no-audit --no-fund --silent \
		@dbmate/linux-x64 >/dev/null 2>&1
fi
[ -x "$DBMATE" ] || DBMATE=
FLOOR=$CACHE/floor
cc -O2 -I"$(pg_config --includedir)" -o "$FLOOR" "$SRCDIR/bench/floor.c" \
	-lpq || exit 1

pg_start >/dev/null
cd "$T" || exit 1
mkdir migrations
for ((i = 1; i <= N; i++)); do
	printf -- '-- migrate:up\nCREATE TABLE t%d (id int PRIMARY KEY, v text);\nINSERT INTO t%d VALUES (1, %s);\n-- migrate:down\nDROP TABLE t%d;\n' \
		"$i" "$i" "'x;y'" "$i" >"migrations/$(printf '%05d' "$i")_t$i.sql"
done
for db in ep dbm ps; do createdb "$db"; done
cat >ep.ini <<INI
[database]
url = $(pg_url ep)
INI
DBMATE_URL="postgres://postgres@/dbm?socket=$PGHOST&port=$PGPORT&sslmode=disable"
# one psql script: BEGIN; \i file; COMMIT; for each file
for f in migrations/*.sql; do
	printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"
done >psql-all.sql

# ms CMD...: wall time of one run in ms into $elapsed, exit status in $st
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>"$T/last.err"
	st=$?
	t1=$(date +%s%N)
	elapsed=$(((t1 - t0) / 1000000))
}

# mean_ms CMD...: mean wall time of $RUNS runs, in ms with one decimal
mean_ms() {
	local t0 t1 i
	t0=$(date +%s%N)
	for ((i = 0; i < RUNS; i++)); do
		"$@" >/dev/null 2>&1 || { echo fail; return; }
	done
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) -v r="$RUNS" 'BEGIN { printf "%.1f", d / r / 1e6 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "fail" && b != "fail") printf "%.2f", a / b; else print "n/a" }'
}

echo "bench/migrate.sh: $N migrations, PostgreSQL $(psql_q 'SHOW server_version'), $(nproc) cpu"
echo
echo "apply $N small migrations to an empty database (one run each)"
ms env ENTRYPOINT_DEBUG=1 "$EP" -c ep.ini migrate
ep_apply=$elapsed
[ "$st" = 0 ] || { echo "entrypoint failed:"; tail -3 "$T/last.err"; }
rt=$(sed -n 's/.*: \([0-9]*\) round trips$/\1/p' "$T/last.err")
ms psql -X -q -v ON_ERROR_STOP=1 -d ps -f psql-all.sql
ps_apply=$elapsed
[ "$st" = 0 ] || echo "psql failed"
if [ -n "$DBMATE" ]; then
	ms "$DBMATE" --url "$DBMATE_URL" --migrations-dir migrations \
		--no-dump-schema up
	dbm_apply=$elapsed
	[ "$st" = 0 ] || { echo "dbmate failed:"; tail -3 "$T/last.err"; }
else
	dbm_apply=n/a
fi
printf '  %-34s %8s ms  (%s round trips, %.2f per migration)\n' \
	"entrypoint migrate" "$ep_apply" "$rt" "$(awk -v r="$rt" -v n="$N" 'BEGIN { print r / n }')"
printf '  %-34s %8s ms  (3+ round trips per file, nothing recorded)\n' \
	"psql, BEGIN/COMMIT per file" "$ps_apply"
printf '  %-34s %8s ms\n' "dbmate up" "$dbm_apply"
printf '  entrypoint / psql = %s (goal <= 1.00)   dbmate / entrypoint = %s\n' \
	"$(ratio "$ep_apply" "$ps_apply")" "$(ratio "$dbm_apply" "$ep_apply")"

echo
echo "no-op migrate with $N applied (mean of $RUNS runs)"
ep_noop=$(mean_ms "$EP" -c ep.ini migrate)
floor_noop=$(mean_ms "$FLOOR" "$(pg_url ep)")
if [ -n "$DBMATE" ]; then
	dbm_noop=$(mean_ms "$DBMATE" --url "$DBMATE_URL" --migrations-dir \
		migrations --no-dump-schema up)
else
	dbm_noop=n/a
fi
printf '  %-34s %8s ms\n' "entrypoint migrate" "$ep_noop" \
	"libpq floor (connect, read list)" "$floor_noop" "dbmate up" "$dbm_noop"
printf '  entrypoint / floor = %s (goal <= 1.30)   dbmate / entrypoint = %s (goal >= 2.00)\n' \
	"$(ratio "$ep_noop" "$floor_noop")" "$(ratio "$dbm_noop" "$ep_noop")"
