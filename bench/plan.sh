#!/bin/bash
# bench/plan.sh - what plan's lock tracing adds to a plan of a few hundred
# migrations, on one throwaway cluster, in one run (median of RUNS,
# interleaved):
#   traced:   entrypoint migrate plan (this tree: pg_locks, relfilenode and
#             sizes read after every statement, in the same pipeline)
#   untraced: entrypoint migrate plan built from the commit before the
#             tracing (the same dry run without it), into .cache/bench
#   psql:     what a user would run instead for a dry run: one psql
#             session, BEGIN, every file's up section, ROLLBACK
# N migrations against 50 tables of ROWS rows each: a third create a table
# and fill it, a third add a column to one of the 50, a third build an
# index on one of them (the statements plan warns about), so each
# statement holds locks the trace reads.
#
#	bash bench/plan.sh
# Environment: EP (default build/entrypoint), PLAN_N=300, ROWS=2000, RUNS=11,
# BASE_REV (the commit to build the untraced plan from; default: the parent
# of the commit that added entrypoint/migplan.c), BENCH_OUT (KEY=VALUE
# lines for report.sh).
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export SRCDIR
: "${EP:=$SRCDIR/build/entrypoint}"
: "${PLAN_N:=300}"
: "${ROWS:=2000}"
: "${RUNS:=11}"
: "${BENCH_OUT:=}"
case $BENCH_OUT in /* | "") ;; *) BENCH_OUT=$PWD/$BENCH_OUT ;; esac
CACHE=$SRCDIR/.cache/bench
mkdir -p "$CACHE"

# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"
# shellcheck source=bench/lib-bench.sh
. "$SRCDIR/bench/lib-bench.sh"

[ -x "$EP" ] || { echo "bench: build $EP first (make)" >&2; exit 1; }

out() {
	[ -n "$BENCH_OUT" ] && printf '%s=%s\n' "$1" "$2" >>"$BENCH_OUT"
	return 0
}
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

# The untraced plan: the tree just before tracing, built once and cached.
if [ -z "${BASE_REV:-}" ]; then
	added=$(git -C "$SRCDIR" log --format=%H --diff-filter=A -- \
		entrypoint/migplan.c 2>/dev/null | tail -n 1)
	[ -n "$added" ] && BASE_REV=$(git -C "$SRCDIR" rev-parse --short \
		"$added^" 2>/dev/null)
fi
UNTRACED=
if [ -n "${BASE_REV:-}" ]; then
	UNTRACED=$CACHE/ep-untraced-$BASE_REV
	if [ ! -x "$UNTRACED" ]; then
		src=$(mktemp -d "${TMPDIR:-/tmp}/ep-plan-base.XXXXXX")
		if git -C "$SRCDIR" archive "$BASE_REV" | tar -x -C "$src" &&
			make -s -C "$src" all >"$src/build.log" 2>&1; then
			cp "$src/build/entrypoint" "$UNTRACED"
		else
			echo "bench: could not build $BASE_REV (see $src/build.log)" >&2
			UNTRACED=
		fi
		[ -n "$UNTRACED" ] && rm -rf "$src"
	fi
fi

pg_start >/dev/null
cd "$T" || exit 1

{
	for ((k = 1; k <= 50; k++)); do
		printf 'CREATE TABLE base%d (id int PRIMARY KEY, v text);\n' "$k"
		printf "INSERT INTO base%d SELECT g, 'v' || g FROM generate_series(1, %d) g;\n" \
			"$k" "$ROWS"
	done
	echo 'ANALYZE;'
} | psql -X -q -v ON_ERROR_STOP=1 >/dev/null || exit 1

mkdir migrations
for ((i = 1; i <= PLAN_N; i++)); do
	f=$(printf 'migrations/%05d_m%d.sql' "$i" "$i")
	b=$((i % 50 + 1))
	case $((i % 3)) in
	0) printf 'CREATE TABLE t%d (id int PRIMARY KEY, v text);\nINSERT INTO t%d SELECT g, %s FROM generate_series(1, 10) g;\n' \
		"$i" "$i" "'x'" ;;
	1) printf 'ALTER TABLE base%d ADD COLUMN c%d int;\n' "$b" "$i" ;;
	2) printf 'CREATE INDEX i%d ON base%d (v);\n' "$i" "$b" ;;
	esac >"$f"
done
{
	echo 'BEGIN;'
	for f in migrations/*.sql; do
		printf '\\i %s\n' "$f"
	done
	echo 'ROLLBACK;'
} >psql-plan.sql
printf '[database]\nurl = %s\n' "$DATABASE_URL" >bench.ini

# sanity: every tool runs the whole plan
"$EP" -c bench.ini migrate plan --json >traced.json 2>/dev/null ||
	{ echo "bench: plan failed" >&2; cat "$T/last.err" >&2; exit 1; }
stmts=$(wc -l <traced.json)
warns=$(grep -c '"warnings":\["' traced.json)
if [ -n "$UNTRACED" ] && ! "$UNTRACED" -c bench.ini migrate plan \
	>/dev/null 2>&1; then
	echo "bench: the untraced plan ($BASE_REV) failed" >&2
	UNTRACED=
fi

# timed CMD...: us (µs into $elapsed), saying when CMD failed
timed() {
	st=0
	us "$@"
	[ "$st" = 0 ] || echo "bench: $1 failed" >&2
}

t_tr='' t_tx='' t_un='' t_ps=''
for ((r = 0; r < RUNS; r++)); do
	timed "$EP" -c bench.ini migrate plan --json
	t_tr="$t_tr $elapsed"
	timed "$EP" -c bench.ini migrate plan
	t_tx="$t_tx $elapsed"
	if [ -n "$UNTRACED" ]; then
		timed "$UNTRACED" -c bench.ini migrate plan
		t_un="$t_un $elapsed"
	fi
	timed psql -X -q -v ON_ERROR_STOP=1 -f psql-plan.sql
	t_ps="$t_ps $elapsed"
done
tr=$(echo "$t_tr" | median 1000)
tx=$(echo "$t_tx" | median 1000)
un=$(echo "$t_un" | median 1000)
ps=$(echo "$t_ps" | median 1000)
pg=$(psql -X -At -c 'SHOW server_version')

echo "plan of $PLAN_N pending migrations, 50 tables of $ROWS rows (median of $RUNS runs, interleaved, ms)"
printf '%-46s %10s %12s\n' tool ms "traced / X"
printf '%-46s %10s %12s\n' "entrypoint migrate plan --json (traced)" "$tr" 1.00
printf '%-46s %10s %12s\n' "entrypoint migrate plan (traced, text)" "$tx" "$(ratio "$tr" "$tx")"
printf '%-46s %10s %12s\n' "entrypoint migrate plan, untraced (${BASE_REV:-n/a})" "${un:-n/a}" "$(ratio "$tr" "$un")"
printf '%-46s %10s %12s\n' "psql: BEGIN, every file, ROLLBACK" "$ps" "$(ratio "$tr" "$ps")"
echo "statements traced: $stmts; with a warning: $warns"
echo "tracing adds $(awk -v a="$tr" -v b="$un" 'BEGIN { if (b ~ /^[0-9.]+$/ && b > 0) printf "%.1f ms (%.2f ms per statement)", a - b, (a - b) / '"$stmts"'; else print "n/a" }')"

out plan_n "$PLAN_N"
out plan_rows "$ROWS"
out plan_runs "$RUNS"
out plan_stmts "$stmts"
out plan_warns "$warns"
out plan_traced "$tr"
out plan_traced_text "$tx"
out plan_untraced "${un:-n/a}"
out plan_base_rev "${BASE_REV:-n/a}"
out plan_psql "$ps"
out plan_pg_version "$pg"
