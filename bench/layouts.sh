#!/bin/bash
# bench/layouts.sh - apply a few-hundred-migration chain in each other
# tool's layout (dbmate, golang-migrate, goose, sql-migrate, Flyway,
# diesel, Prisma) with entrypoint, next to psql applying the same up parts
# file by file (one psql process per migration, -1 for the transactional
# ones): what a user would otherwise script.  The chains are the test
# fixtures of tests/pg/lib-layouts.sh (our own).  Each figure is the median
# of RUNS runs, each on a fresh database, tools in rotating order.
#
#	bash bench/layouts.sh		(N=300 RUNS=3 EP=build/entrypoint)
# With BENCH_OUT=FILE also writes layout_<name>_{ep,psql}=ms lines for
# bench/report.sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
: "${EP:=$SRCDIR/build/entrypoint}"
: "${N:=300}"
: "${RUNS:=3}"
: "${BENCH_OUT:=}"
: "${LAYOUTS:=dbmate golang-migrate goose sql-migrate flyway diesel prisma}"
case $EP in /*) ;; *) EP=$PWD/$EP ;; esac
case $BENCH_OUT in /* | "") ;; *) BENCH_OUT=$PWD/$BENCH_OUT ;; esac
[ -x "$EP" ] || { echo "bench: build $EP first (make)" >&2; exit 1; }

# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"
# shellcheck source=bench/lib-bench.sh
. "$SRCDIR/bench/lib-bench.sh"
# shellcheck source=tests/pg/lib-layouts.sh
. "$SRCDIR/tests/pg/lib-layouts.sh"
cd "$T" || exit 1
pg_start

newdb() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1"
	psql -X -q -d postgres -c "CREATE DATABASE $1"
}

run_ep() {
	(cd "$T/$1" && DATABASE_URL="postgresql:///$2?host=$PGDIR&port=$PGPORT&user=postgres" \
		"$EP" migrate)
}

out() {
	[ -n "$BENCH_OUT" ] && echo "$1=$2" >>"$BENCH_OUT"
	return 0
}

echo "layouts: $N migrations per chain, median of $RUNS runs, fresh database each"
printf '| layout | files | entrypoint migrate (ms) | psql file by file (ms) | psql / entrypoint |\n'
printf '|---|---|---|---|---|\n'
k=0
for l in $LAYOUTS; do
	mkdir -p "$T/$l"
	write_chain "$l" "$T/$l/migrations" "$N" "$T/$l/ref"
	printf '[database]\nurl = ${DATABASE_URL}\nwait = 5s\n' >"$T/$l/entrypoint.ini"
	files=$(find "$T/$l/migrations" -type f | wc -l)
	ep_t="" ps_t=""
	for ((r = 0; r < RUNS; r++)); do
		k=$((k + 1))
		for tool in $( ((k % 2)) && echo "ep psql" || echo "psql ep"); do
			db=b_${l//-/_}_$tool
			newdb "$db"
			if [ "$tool" = ep ]; then
				ms run_ep "$l" "$db"
				[ "$st" = 0 ] || { echo "entrypoint failed on $l: $(tail -n 3 "$T/last.err")" >&2; exit 1; }
				ep_t+=" $elapsed"
			else
				ms psql_refs "$db" "$T/$l/ref"
				[ "$st" = 0 ] || { echo "psql failed on $l: $(tail -n 3 "$T/last.err")" >&2; exit 1; }
				ps_t+=" $elapsed"
			fi
		done
	done
	e=$(echo "$ep_t" | median 1)
	p=$(echo "$ps_t" | median 1)
	printf '| %s | %s | %s | %s | %s |\n' "$l" "$files" "$e" "$p" \
		"$(awk -v a="$p" -v b="$e" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
	out "layout_${l//-/_}_ep" "$e"
	out "layout_${l//-/_}_psql" "$p"
done
out layout_n "$N"
out layout_runs "$RUNS"
