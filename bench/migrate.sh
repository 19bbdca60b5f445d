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
# Times come from bash 5's EPOCHREALTIME (microseconds, no fork).
# ms CMD...: wall time of one run in ms into $elapsed, exit status in $st
ms() {
	local t0=${EPOCHREALTIME/./} t1
	"$@" >/dev/null 2>"$T/last.err"
	st=$?
	t1=${EPOCHREALTIME/./}
	elapsed=$(((t1 - t0) / 1000))
}

# us CMD...: one run's wall time in microseconds into $elapsed
us() {
	local t0=${EPOCHREALTIME/./} t1
	"$@" >/dev/null 2>&1 || st=1
	t1=${EPOCHREALTIME/./}
	elapsed=$((t1 - t0))
}

# median [DIV]: the median of the numbers on stdin, divided by DIV
median() {
	tr ' ' '\n' | grep . | sort -n | awk -v div="${1:-1}" '{ a[NR] = $1 }
		END { if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf (div == 1 ? "%.0f" : "%.1f"), m / div }'
}

median_ms() {
	median 1000
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "n/a" && b != "n/a") printf "%.2f", a / b; else print "n/a" }'
}

EPS=$(command -v "${EP_STATIC:-$SRCDIR/build/entrypoint-static}" || true)
echo "bench/migrate.sh: $N migrations, PostgreSQL $(psql_q 'SHOW server_version'), $(nproc) cpu"
echo "  entrypoint: $EP${EPS:+ and $EPS}"

# apply_round R ORDER...: apply to fresh databases epR/dbmR/psR
declare -A times
apply_one() {
	local tool=$1 r=$2 db
	case $tool in
	ep)
		db=ep$r
		createdb "$db"
		printf '[database]\nurl = %s\n' "$(pg_url "$db")" >"$db.ini"
		ms env ENTRYPOINT_DEBUG=1 "$EP" -c "$db.ini" migrate
		[ "$st" = 0 ] || { echo "entrypoint failed:"; tail -3 "$T/last.err"; }
		rt=$(sed -n 's/.*: \([0-9]*\) round trips$/\1/p' "$T/last.err")
		;;
	ps)
		db=ps$r
		createdb "$db"
		ms psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f psql-all.sql
		[ "$st" = 0 ] || echo "psql failed"
		;;
	dbm)
		[ -n "$DBMATE" ] || { times[$tool]=; return; }
		db=dbm$r
		createdb "$db"
		ms "$DBMATE" --url "postgres://postgres@/$db?socket=$PGHOST&port=$PGPORT&sslmode=disable" \
			--migrations-dir migrations --no-dump-schema up
		[ "$st" = 0 ] || { echo "dbmate failed:"; tail -3 "$T/last.err"; }
		;;
	esac
	times[$tool]="${times[$tool]:-} $elapsed"
}

# one psql script: BEGIN; \i file; COMMIT; for each file
for f in migrations/*.sql; do
	printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"
done >psql-all.sql

echo
echo "apply $N small migrations to an empty database (median of 3 rounds,"
echo "the tools in a different order each round; a warm-up run first)"
createdb warm
psql -X -q -d warm -f psql-all.sql >/dev/null 2>&1
for tool in ep ps dbm; do apply_one "$tool" 1; done
for tool in dbm ep ps; do apply_one "$tool" 2; done
for tool in ps dbm ep; do apply_one "$tool" 3; done
ep_apply=$(echo "${times[ep]}" | median)
ps_apply=$(echo "${times[ps]}" | median)
dbm_apply=$(echo "${times[dbm]:-}" | median)
printf '  %-34s %8s ms  (%s round trips: %.2f per migration)\n' \
	"entrypoint migrate" "$ep_apply" "$rt" "$(awk -v r="$rt" -v n="$N" 'BEGIN { print r / n }')"
printf '  %-34s %8s ms  (3+ round trips per file, nothing recorded)\n' \
	"psql, BEGIN/COMMIT per file" "$ps_apply"
printf '  %-34s %8s ms\n' "dbmate up" "$dbm_apply"
printf '  entrypoint / psql = %s (goal <= 1.00)   dbmate / entrypoint = %s\n' \
	"$(ratio "$ep_apply" "$ps_apply")" "$(ratio "$dbm_apply" "$ep_apply")"

echo
echo "no-op migrate with $N applied (median of $RUNS runs, interleaved)"
url=$(pg_url ep1)
printf '[database]\nurl = %s\n' "$url" >noop.ini
t_ep="" t_eps="" t_floor="" t_dbm=""
for ((i = 0; i < RUNS; i++)); do
	st=0
	us "$EP" -c noop.ini migrate
	t_ep="$t_ep $elapsed"
	if [ -n "$EPS" ]; then
		us "$EPS" -c noop.ini migrate
		t_eps="$t_eps $elapsed"
	fi
	us "$FLOOR" "$url"
	t_floor="$t_floor $elapsed"
	if [ -n "$DBMATE" ]; then
		us "$DBMATE" --url "postgres://postgres@/dbm1?socket=$PGHOST&port=$PGPORT&sslmode=disable" \
			--migrations-dir migrations --no-dump-schema up
		t_dbm="$t_dbm $elapsed"
	fi
	[ "$st" = 0 ] || { echo "a no-op run failed"; break; }
done
ep_noop=$(echo "$t_ep" | median_ms)
eps_noop=$(echo "$t_eps" | median_ms)
floor_noop=$(echo "$t_floor" | median_ms)
dbm_noop=$(echo "$t_dbm" | median_ms)
printf '  %-34s %8s ms\n' "entrypoint migrate (dev, glibc)" "$ep_noop"
[ -n "$EPS" ] && printf '  %-34s %8s ms\n' "entrypoint migrate (static, musl)" "$eps_noop"
printf '  %-34s %8s ms\n' "libpq floor (connect, read list)" "$floor_noop" \
	"dbmate up" "$dbm_noop"
printf '  dev:    entrypoint / floor = %s (goal <= 1.30)   dbmate / entrypoint = %s (goal >= 2.00)\n' \
	"$(ratio "$ep_noop" "$floor_noop")" "$(ratio "$dbm_noop" "$ep_noop")"
[ -n "$EPS" ] && printf '  static: entrypoint / floor = %s (goal <= 1.30)   dbmate / entrypoint = %s (goal >= 2.00)\n' \
	"$(ratio "$eps_noop" "$floor_noop")" "$(ratio "$dbm_noop" "$eps_noop")"
exit 0
