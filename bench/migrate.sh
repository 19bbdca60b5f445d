#!/bin/bash
# bench/migrate.sh - migrate side by side with dbmate, psql and a libpq
# floor, on one throwaway cluster, in one run:
#   apply:  N small migrations to an empty database (median of 3 rounds,
#           rotating order): entrypoint migrate (dev and static) | dbmate up
#           | one psql session running each file's up section between
#           BEGIN and COMMIT (no bookkeeping at all)
#   trips:  round trips to the server for the apply and for a no-op,
#           counted the same way for every tool from strace: a send on the
#           database socket followed by a receive is one round trip
#   no-op:  migrate with the N applied (median of RUNS, interleaved):
#           entrypoint | dbmate up | psql -Atc reading the applied list |
#           bench/floor.c (libpq: connect, read the applied list)
#   series: the no-op as the number of applied migrations grows (SERIES),
#           into $NOOP_DAT, plotted by bench/noop-migrate.gp into $PLOT
# Goals (issues 3, 9): no-op (audit on, the default) <= 1.2x the floor and
# >= 2x faster than dbmate;
# applying no slower than psql.
#
#	bash bench/migrate.sh
# Environment: EP (dev build, default build/entrypoint), EP_STATIC (default
# build/entrypoint-static, skipped when absent), N=1000, RUNS=21,
# SERIES="10 100 300 1000 3000", SERIES_RUNS=11, NOOP_DAT (default
# build/bench/noop.dat), PLOT (default bench/noop-migrate.png, "" for none),
# BENCH_OUT (a file to get the results as KEY=VALUE lines, for report.sh).
# dbmate comes from npm (@dbmate/linux-x64) into .cache/bench; without npm
# its columns say "n/a".  Without strace the round trips say "n/a".
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export SRCDIR
: "${EP:=$SRCDIR/build/entrypoint}"
: "${EP_STATIC:=$SRCDIR/build/entrypoint-static}"
: "${N:=1000}"
: "${RUNS:=21}"
: "${APPLY_ROUNDS:=5}"
: "${SERIES:=10 100 300 1000 3000}"
: "${SERIES_RUNS:=11}"
: "${NOOP_DAT:=$SRCDIR/build/bench/noop.dat}"
: "${PLOT=$SRCDIR/bench/noop-migrate.png}"
: "${BENCH_OUT:=}"
CACHE=$SRCDIR/.cache/bench
mkdir -p "$CACHE" "$(dirname "$NOOP_DAT")"
case $NOOP_DAT in /*) ;; *) NOOP_DAT=$PWD/$NOOP_DAT ;; esac
case $PLOT in /* | "") ;; *) PLOT=$PWD/$PLOT ;; esac
case $BENCH_OUT in /* | "") ;; *) BENCH_OUT=$PWD/$BENCH_OUT ;; esac

# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"
# shellcheck source=bench/lib-bench.sh
. "$SRCDIR/bench/lib-bench.sh"

[ -x "$EP" ] || { echo "bench: build $EP first (make)" >&2; exit 1; }
EPS=
[ -x "$EP_STATIC" ] && EPS=$EP_STATIC
# "us" in the series and the goals: the shipped (static) binary if built.
US=${EPS:-$EP}
DBMATE=$CACHE/node_modules/@dbmate/linux-x64/bin/dbmate
DBMATE_NOTE=
if [ ! -x "$DBMATE" ]; then
	if command -v npm >/dev/null; then
		npm install --prefix "$CACHE" --no-audit --no-fund --silent \
			@dbmate/linux-x64 >/dev/null 2>&1
	else
		DBMATE_NOTE="npm not found: dbmate skipped (install node/npm)"
	fi
fi
if [ -x "$DBMATE" ]; then
	DBMATE_VERSION=$("$DBMATE" --version 2>/dev/null | head -n 1)
else
	DBMATE=
	DBMATE_VERSION=
	: "${DBMATE_NOTE:=npm install @dbmate/linux-x64 failed: dbmate skipped}"
fi
STRACE=$(command -v strace || true)
FLOOR=$CACHE/floor
cc -O2 -I"$(pg_config --includedir)" -o "$FLOOR" "$SRCDIR/bench/floor.c" \
	-lpq || exit 1

# out KEY VALUE: one result for report.sh
out() {
	[ -n "$BENCH_OUT" ] && printf '%s=%s\n' "$1" "$2" >>"$BENCH_OUT"
	return 0
}
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

pg_start >/dev/null
cd "$T" || exit 1
# A quiet server for every tool alike: the apply rounds leave thousands of
# new tables behind, and autovacuum working through them (and the
# checkpoints of their WAL) moved the short no-op runs measured after
# them by a quarter.  The cluster is this run's own.
psql_q "ALTER SYSTEM SET autovacuum = off" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null

# mkmig DIR FROM TO: migrations FROM..TO into DIR, and their up sections
# alone into DIR.up (what psql runs: the down section is no comment to it)
mkmig() {
	local i f
	mkdir -p "$1" "$1.up"
	for ((i = $2; i <= $3; i++)); do
		f=$(printf '%05d_t%d.sql' "$i" "$i")
		printf -- '-- migrate:up\nCREATE TABLE t%d (id int PRIMARY KEY, v text);\nINSERT INTO t%d VALUES (1, %s);\n' \
			"$i" "$i" "'x;y'" >"$1.up/$f"
		{
			cat "$1.up/$f"
			printf -- '-- migrate:down\nDROP TABLE t%d;\n' "$i"
		} >"$1/$f"
	done
}
mkmig migrations 1 "$N"
# one psql script: BEGIN; \i file; COMMIT; for each file
for f in migrations.up/*.sql; do
	printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"
done >psql-all.sql

median_ms() {
	median 1000
}

dbmate_url() {
	echo "postgres://postgres@/$1?socket=$PGHOST&port=$PGPORT&sslmode=disable"
}

# The command line of each tool: tool_cmd TOOL DB MIGRATIONS-DIR
# (ep/eps need $DB.ini, written by ini_for)
ini_for() {
	printf '[database]\nurl = %s\n' "$(pg_url "$1")" >"$1.ini"
}
LIST_SQL='SELECT version, checksum FROM entrypoint.migrations ORDER BY version'

# trips CMD...: round trips of one run of CMD into $trips ("n/a" without
# strace or when CMD fails)
trips() {
	trips=n/a
	[ -n "$STRACE" ] || return 0
	"$STRACE" -f -qq --seccomp-bpf -o "$T/trace" -e signal=none \
		-e trace=connect,close,read,write,writev,sendto,recvfrom,sendmsg,recvmsg \
		"$@" >/dev/null 2>&1 || return 0
	trips=$(pg_roundtrips "$T/trace")
}

per() {
	awk -v a="$1" -v n="$2" 'BEGIN { if (a == "n/a") print "n/a"; else printf "%.2f", a / n }'
}

echo "bench/migrate.sh: $N migrations, PostgreSQL $(psql_q 'SHOW server_version'), $(nproc) cpu"
echo "  entrypoint: $EP${EPS:+ and $EPS}"
echo "  dbmate: ${DBMATE:+$DBMATE ($DBMATE_VERSION)}${DBMATE_NOTE}"
[ -n "$STRACE" ] || echo "  strace not found: round trips n/a"
out pg_version "$(psql_q 'SHOW server_version')"
out dbmate_version "${DBMATE_VERSION:-n/a}"
out dbmate_note "$DBMATE_NOTE"
out n "$N"
out runs "$RUNS"
out us "$US"

# apply_one TOOL ROUND: apply to a fresh database TOOL-ROUND
declare -A times
apply_one() {
	local tool=$1 db=$1$2
	case $tool in
	ep | eps)
		[ "$tool" = ep ] || [ -n "$EPS" ] || return 0
		createdb "$db"
		ini_for "$db"
		if [ "$tool" = ep ]; then
			ms "$EP" -c "$db.ini" migrate
		else
			ms "$EPS" -c "$db.ini" migrate
		fi
		[ "$st" = 0 ] || { echo "entrypoint failed:"; tail -3 "$T/last.err"; }
		;;
	ps)
		createdb "$db"
		ms psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f psql-all.sql
		[ "$st" = 0 ] || echo "psql failed"
		;;
	dbm)
		[ -n "$DBMATE" ] || return 0
		createdb "$db"
		ms "$DBMATE" --url "$(dbmate_url "$db")" \
			--migrations-dir migrations --no-dump-schema up
		[ "$st" = 0 ] || { echo "dbmate failed:"; tail -3 "$T/last.err"; }
		;;
	esac
	times[$tool]="${times[$tool]:-} $elapsed"
}

echo
echo "apply $N small migrations to an empty database (median of $APPLY_ROUNDS rounds,"
echo "the tools in a different order each round; a warm-up run first)"
sec=$SECONDS
createdb warm
psql -X -q -d warm -f psql-all.sql >/dev/null 2>&1
# The dev build only applies when there is no static one (it is the same
# code; its no-op is measured below).
APPLY_TOOLS=(eps ps dbm)
[ -n "$EPS" ] || APPLY_TOOLS=(ep ps dbm)
for ((r = 1; r <= APPLY_ROUNDS; r++)); do
	for ((j = 0; j < ${#APPLY_TOOLS[@]}; j++)); do
		apply_one "${APPLY_TOOLS[(j + r) % ${#APPLY_TOOLS[@]}]}" "$r"
	done
done
# minimum: the fastest round (what load disturbs least), for reference
minimum() {
	tr ' ' '\n' | grep . | sort -n | head -n 1 | grep . || echo n/a
}
us_apply=$(echo "${times[${APPLY_TOOLS[0]}]}" | median)
us_min=$(echo "${times[${APPLY_TOOLS[0]}]}" | minimum)
ps_apply=$(echo "${times[ps]}" | median)
ps_min=$(echo "${times[ps]}" | minimum)
dbm_apply=$(echo "${times[dbm]:-}" | median)
dbm_min=$(echo "${times[dbm]:-}" | minimum)

t_apply=$((SECONDS - sec))
sec=$SECONDS
# Round trips, each tool applying to one more fresh database under strace.
createdb rtep
ini_for rtep
trips "$US" -c rtep.ini migrate
rt_us=$trips
createdb rtps
trips psql -X -q -v ON_ERROR_STOP=1 -d rtps -f psql-all.sql
rt_ps=$trips
rt_dbm=n/a
if [ -n "$DBMATE" ]; then
	createdb rtdbm
	trips "$DBMATE" --url "$(dbmate_url rtdbm)" --migrations-dir migrations \
		--no-dump-schema up
	rt_dbm=$trips
fi

t_trips=$((SECONDS - sec))
printf '  %-38s %8s ms  (fastest round %s ms)\n' \
	"entrypoint migrate ($(basename "$US"))" "$us_apply" "$us_min" \
	"psql, BEGIN/COMMIT per file" "$ps_apply" "$ps_min" \
	"dbmate up" "$dbm_apply" "$dbm_min"
echo "  round trips per migration (strace, whole run / $N):"
printf '    entrypoint %s   psql %s   dbmate %s\n' "$(per "$rt_us" "$N")" \
	"$(per "$rt_ps" "$N")" "$(per "$rt_dbm" "$N")"
printf '  entrypoint / psql = %s (goal <= 1.00)   dbmate / entrypoint = %s\n' \
	"$(ratio "$us_apply" "$ps_apply")" "$(ratio "$dbm_apply" "$us_apply")"
echo "  (apply rounds took $t_apply s, the strace runs $t_trips s)"
out apply_rounds "$APPLY_ROUNDS"
out apply_us "$us_apply"
out apply_us_min "$us_min"
out apply_psql "$ps_apply"
out apply_psql_min "$ps_min"
out apply_dbmate "$dbm_apply"
out apply_dbmate_min "$dbm_min"
out rt_apply_us "$rt_us"
out rt_apply_psql "$rt_ps"
out rt_apply_dbmate "$rt_dbm"

echo
echo "no-op migrate with $N applied (median of $RUNS runs, interleaved)"
psql_q "CHECKPOINT" >/dev/null	# the apply rounds' WAL, written now
sec=$SECONDS
NOOP_DB=${APPLY_TOOLS[0]}1
url=$(pg_url "$NOOP_DB")
t_ep="" t_eps="" t_floor="" t_dbm="" t_ps=""
for ((i = 0; i < RUNS; i++)); do
	st=0
	us "$EP" -c "$NOOP_DB.ini" migrate
	t_ep="$t_ep $elapsed"
	if [ -n "$EPS" ]; then
		us "$EPS" -c "$NOOP_DB.ini" migrate
		t_eps="$t_eps $elapsed"
	fi
	us "$FLOOR" "$url"
	t_floor="$t_floor $elapsed"
	us psql -X -Atq -d "$NOOP_DB" -c "$LIST_SQL"
	t_ps="$t_ps $elapsed"
	if [ -n "$DBMATE" ]; then
		us "$DBMATE" --url "$(dbmate_url dbm1)" \
			--migrations-dir migrations --no-dump-schema up
		t_dbm="$t_dbm $elapsed"
	fi
	[ "$st" = 0 ] || { echo "a no-op run failed"; break; }
done
ep_noop=$(echo "$t_ep" | median_ms)
eps_noop=$(echo "$t_eps" | median_ms)
floor_noop=$(echo "$t_floor" | median_ms)
ps_noop=$(echo "$t_ps" | median_ms)
dbm_noop=$(echo "$t_dbm" | median_ms)
us_noop=${EPS:+$eps_noop}
us_noop=${us_noop:-$ep_noop}
trips "$US" -c "$NOOP_DB.ini" migrate
rtn_us=$trips
trips "$FLOOR" "$url"
rtn_floor=$trips
trips psql -X -Atq -d "$NOOP_DB" -c "$LIST_SQL"
rtn_ps=$trips
rtn_dbm=n/a
if [ -n "$DBMATE" ]; then
	trips "$DBMATE" --url "$(dbmate_url dbm1)" --migrations-dir migrations \
		--no-dump-schema up
	rtn_dbm=$trips
fi
printf '  %-34s %8s ms\n' "entrypoint migrate (dev, glibc)" "$ep_noop"
[ -n "$EPS" ] && printf '  %-34s %8s ms\n' "entrypoint migrate (static, musl)" "$eps_noop"
printf '  %-34s %8s ms\n' "libpq floor (connect, read list)" "$floor_noop" \
	"psql -Atc (read list)" "$ps_noop" "dbmate up" "$dbm_noop"
printf '  round trips: entrypoint %s   floor %s   psql %s   dbmate %s\n' \
	"$rtn_us" "$rtn_floor" "$rtn_ps" "$rtn_dbm"
printf '  dev:    entrypoint / floor = %s (not shipped: the goals are the static binary'"'"'s)   dbmate / entrypoint = %s\n' \
	"$(ratio "$ep_noop" "$floor_noop")" "$(ratio "$dbm_noop" "$ep_noop")"
[ -n "$EPS" ] && printf '  static: entrypoint / floor = %s (goal <= 1.20)   dbmate / entrypoint = %s (goal >= 2.00)\n' \
	"$(ratio "$eps_noop" "$floor_noop")" "$(ratio "$dbm_noop" "$eps_noop")"
echo "  (took $((SECONDS - sec)) s)"
out noop_ep "$ep_noop"
out noop_eps "$eps_noop"
out noop_floor "$floor_noop"
out noop_psql "$ps_noop"
out noop_dbmate "$dbm_noop"
out rt_noop_us "$rtn_us"
out rt_noop_floor "$rtn_floor"
out rt_noop_psql "$rtn_ps"
out rt_noop_dbmate "$rtn_dbm"

# --- series: the no-op as the applied list grows --------------------------
# One migrations directory grows step by step; entrypoint ($US) and dbmate
# each apply the new files to their own database, then every tool runs its
# no-op SERIES_RUNS times, interleaved.
echo
echo "no-op as the applied list grows (median of $SERIES_RUNS runs, ms; $(basename "$US"))"
printf '  %6s %10s %10s %10s %10s\n' applied entrypoint dbmate psql floor
sec=$SECONDS
createdb sep
ini_for sep
# the growing folder, not the N-file one the no-op above read
printf 'migrations = series\n' >>sep.ini
[ -n "$DBMATE" ] && createdb sdbm
surl=$(pg_url sep)
have=0
{
	echo "# no-op migrate time in ms (median of $SERIES_RUNS) by applied migrations"
	echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cpu; entrypoint = $US"
	echo "# applied entrypoint dbmate psql floor"
} >"$NOOP_DAT"
for k in $SERIES; do
	mkmig series $((have + 1)) "$k"
	have=$k
	"$US" -c sep.ini migrate >/dev/null 2>&1 || {
		echo "entrypoint failed to apply $k"
		break
	}
	if [ -n "$DBMATE" ]; then
		"$DBMATE" --url "$(dbmate_url sdbm)" --migrations-dir series \
			--no-dump-schema up >/dev/null 2>&1 || echo "dbmate failed to apply $k"
	fi
	a="" b="" c="" d=""
	for ((i = 0; i < SERIES_RUNS; i++)); do
		st=0
		us "$US" -c sep.ini migrate
		a="$a $elapsed"
		if [ -n "$DBMATE" ]; then
			us "$DBMATE" --url "$(dbmate_url sdbm)" --migrations-dir series \
				--no-dump-schema up
			b="$b $elapsed"
		fi
		us psql -X -Atq -d sep -c "$LIST_SQL"
		c="$c $elapsed"
		us "$FLOOR" "$surl"
		d="$d $elapsed"
	done
	row=$(printf '%6s %10s %10s %10s %10s' "$k" "$(echo "$a" | median_ms)" \
		"$(echo "$b" | median_ms)" "$(echo "$c" | median_ms)" \
		"$(echo "$d" | median_ms)")
	echo "  $row"
	echo "$row" | sed 's/n\/a/NaN/g' >>"$NOOP_DAT"
	out "series_$k" "$(echo "$row" | tr -s ' ' | sed 's/^ //')"
done
echo "  (took $((SECONDS - sec)) s)"
out series "$SERIES"
out series_runs "$SERIES_RUNS"
out noop_dat "$NOOP_DAT"

if [ -n "$PLOT" ]; then
	if command -v gnuplot >/dev/null; then
		if gnuplot -e "dat='$NOOP_DAT'; out='$PLOT'; us='$(basename "$US")'" \
			"$SRCDIR/bench/noop-migrate.gp"; then
			echo "  plot: $PLOT"
			out plot "$PLOT"
		else
			echo "  gnuplot failed: no plot"
		fi
	else
		echo "  gnuplot not found (apt-get install gnuplot-nox): no plot"
	fi
fi
exit 0
