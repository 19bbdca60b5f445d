#!/bin/bash
# bench/report.sh - run bench/pid1.sh, bench/migrate.sh and bench/plan.sh once, in one run
# (every anchor measured alongside), and write BENCHMARKS.md from what they
# print: the machine, the tables with ratios against each anchor, the goals
# of issues 2 and 3 (met or not), the no-op plot, the static binary's size,
# the size of each release artifact (make dist, make dist-image),
# and the commands that reproduce each figure.  Nothing in BENCHMARKS.md is
# typed by hand: edit this script and run it again.
#
#	bash bench/report.sh          (or: make bench)
# Environment: EP (dev build, default build/entrypoint), EP_STATIC (default
# build/entrypoint-static), HELPERS (default build/helpers), OUT (default
# BENCHMARKS.md), DIST (make dist's artifacts, listed with their sizes,
# default dist); the knobs of pid1.sh (RUNS, ORPHANS) and of migrate.sh
# (N, MRUNS for its RUNS, SERIES, SERIES_RUNS), of plan.sh (PRUNS for its
# RUNS) and of layouts.sh (LN for its N, LRUNS for its RUNS) pass through.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib-bench.sh
. "$SRCDIR/bench/lib-bench.sh"
: "${EP:=$SRCDIR/build/entrypoint}"
: "${EP_STATIC:=$SRCDIR/build/entrypoint-static}"
: "${HELPERS:=$SRCDIR/build/helpers}"
: "${OUT:=$SRCDIR/BENCHMARKS.md}"
: "${DIST:=$SRCDIR/dist}"
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
for b in EP EP_STATIC HELPERS; do
	case ${!b} in /*) ;; *) printf -v "$b" '%s' "$PWD/${!b}" ;; esac
done

if [ ! -x "$EP" ]; then
	echo "bench/report.sh: no $EP (make)" >&2
	exit 1
fi
US=$EP
[ -x "$EP_STATIC" ] && US=$EP_STATIC

W=$(mktemp -d "${TMPDIR:-/tmp}/ep-report.XXXXXX")
trap 'rm -rf "$W"' EXIT

loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}

# --- the run ---------------------------------------------------------------
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_pid1=0 t_migrate=0 t_layouts=0
t0=$SECONDS
load0=$(loadavg)
# pid1.sh last: its reaping test puts 10000 processes on the run queue at
# once, and the machine takes a while to settle after it (the short
# no-op runs of migrate.sh measured right after it moved by 25%).
echo "bench/report.sh: migrate (bench/migrate.sh) ..." >&2
EP=$EP EP_STATIC=$EP_STATIC BENCH_OUT=$W/migrate.env \
	RUNS=${MRUNS:-21} bash "$SRCDIR/bench/migrate.sh" >"$W/migrate.txt" 2>&1
migrate_rc=$?
t_migrate=$((SECONDS - t0))
load1=$(loadavg)
echo "bench/report.sh: plan's lock tracing (bench/plan.sh) ..." >&2
EP=$EP BENCH_OUT=$W/plan.env RUNS=${PRUNS:-11} bash "$SRCDIR/bench/plan.sh" \
	>"$W/plan.txt" 2>&1
plan_rc=$?
t_plan=$((SECONDS - t0 - t_migrate))
echo "bench/report.sh: output and recording (bench/record.sh) ..." >&2
EP=$EP bash "$SRCDIR/bench/record.sh" >"$W/record.txt" 2>&1
record_rc=$?
t_record=$((SECONDS - t0 - t_migrate - t_plan))
echo "bench/report.sh: other tools' layouts (bench/layouts.sh) ..." >&2
EP=$EP N=${LN:-300} RUNS=${LRUNS:-1} bash "$SRCDIR/bench/layouts.sh" \
	>"$W/layouts.txt" 2>&1
layouts_rc=$?
t_layouts=$((SECONDS - t0 - t_migrate - t_plan - t_record))
echo "bench/report.sh: PID 1 (bench/pid1.sh) ..." >&2
EP=$US HELPERS=$HELPERS bash "$SRCDIR/bench/pid1.sh" >"$W/pid1.txt" 2>&1
pid1_rc=$?
load2=$(loadavg)
took=$((SECONDS - t0))
t_pid1=$((took - t_migrate - t_plan - t_record - t_layouts))
cat "$W/pid1.txt" "$W/migrate.txt" "$W/plan.txt" "$W/record.txt" \
	"$W/layouts.txt" >&2

# --- parsing ---------------------------------------------------------------
# pid1.sh's table: "init startup+ms RSSkB reapms" rows after the header.
declare -A P_START P_RSS P_REAP M
INITS=(entrypoint tini tini-static dumb-init catatonit)
while read -r name s r p; do
	P_START[$name]=$s
	P_RSS[$name]=$r
	P_REAP[$name]=$p
done < <(awk '/^init[[:space:]]/ { t = 1; next } t && NF == 0 { exit }
	t && NF >= 4 { print $1, $2, $3, $4 }' "$W/pid1.txt")
bare=$(sed -n 's/^bare \/bin\/true: \([0-9.]*\) ms.*/\1/p' "$W/pid1.txt")
orphans=$(sed -n 's/^init.*reap \([0-9]*\) ms.*/\1/p' "$W/pid1.txt")
prunes=$(sed -n 's/^bare .* fastest of \([0-9]*\) runs.*/\1/p' "$W/pid1.txt")
pid1_ok=1
for n in "${INITS[@]}"; do
	[ -n "${P_START[$n]:-}" ] || pid1_ok=0
done
[ "$pid1_rc" = 0 ] || pid1_ok=0

while IFS='=' read -r k v; do
	M[$k]=$v
done <"$W/migrate.env" 2>/dev/null
while IFS='=' read -r k v; do
	M[$k]=$v
done <"$W/plan.env" 2>/dev/null
m() {
	echo "${M[$1]:-n/a}"
}

# verdict A OP B: met / not met / unknown
verdict() {
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/) { print "unknown"; exit }
		ok = op == "<=" ? a + 0 <= b + 0 : a + 0 >= b + 0
		print ok ? "**met**" : "**not met**" }'
}
mul() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/) print "n/a"; else printf "%.3f", a * b }'
}
per() {
	awk -v a="$1" -v n="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || n + 0 <= 0) print "n/a"
		else printf "%.2f", a / n }'
}
reap() {
	case $1 in -1) echo failed ;; *) echo "$1" ;; esac
}

N=$(m n)
us_name="static, musl"
[ "$US" = "$EP" ] && us_name="dev, glibc"
us_noop=$(m noop_eps)
[ "$US" = "$EP" ] && us_noop=$(m noop_ep)
us_apply=$(m apply_us)
size=$(stat -c %s "$US")
size_mb=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1e6 }')
size_mib=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')
tls=no
# OpenSSL's libssl inside: its protocol names and its assembler's credits
grep -aq 'TLSv1\.3' "$US" && grep -aq 'openssl\.org' "$US" && tls=yes
linkage=$(file -b "$US" | sed 's/,.*BuildID[^,]*//')

# artifacts_table: one row per release artifact in $DIST (make dist) and
# per architecture of the binary image (make dist-image), with its size.
artifacts_table() {
	local f n img sz
	if [ ! -f "$DIST/SHA256SUMS" ]; then
		echo "| (none: run \`make dist dist-image\` first) | |"
		return
	fi
	for f in "$DIST"/*; do
		n=$(stat -c %s "$f")
		printf '| dist/%s | %s bytes (%s MB) |\n' "$(basename "$f")" "$n" \
			"$(awk -v s="$n" 'BEGIN { printf "%.2f", s / 1e6 }')"
	done
	for a in amd64 arm64; do
		img=entrypoint:$(cat "$SRCDIR/VERSION")-$a
		sz=$(CONTAINERS_CONF=${CONTAINERS_CONF:-$SRCDIR/tests/container/containers.conf} \
			podman image inspect --format '{{.Size}}' "$img" 2>/dev/null) ||
			continue
		printf '| image %s (linux/%s, of the manifest list) | %s bytes (%s MB) |\n' \
			"$img" "$a" "$sz" \
			"$(awk -v s="$sz" 'BEGIN { printf "%.2f", s / 1e6 }')"
	done
}
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")
# What the binary says it was built from, and the tree at the run.
built=$("$US" version 2>/dev/null | head -n 1)
commit=$(git -C "$SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
rel() {
	case $1 in "$SRCDIR"/*) echo "${1#"$SRCDIR"/}" ;; *) echo "$1" ;; esac
}

# --- BENCHMARKS.md ------------------------------------------------------------
{
	cat <<EOF
# Benchmarks

<!-- Generated by bench/report.sh: do not edit by hand, run it again. -->

Every number below comes from one run of \`bash bench/report.sh\`, started
$started and taking ${took} s: \`bench/migrate.sh\` (${t_migrate} s),
\`bench/plan.sh\` (${t_plan} s), \`bench/record.sh\` (${t_record} s),
\`bench/layouts.sh\` (${t_layouts} s) and \`bench/pid1.sh\` (${t_pid1} s) ran one
after the other, in that order, and each measures entrypoint and every tool it is compared
with side by side, interleaved, in the same run. Ratios are entrypoint / X:
below 1 means entrypoint is faster or smaller.

## Machine

| | |
|---|---|
| CPUs (nproc) | $(nproc) |
| CPU | ${cpu:-unknown} |
| memory | $mem |
| kernel | $(uname -sr) ($(uname -m)) |
| OS | ${os:-unknown} |
| PostgreSQL | $(m pg_version) (throwaway cluster, unix socket, fsync=off) |
| dbmate | $(m dbmate_version) (npm @dbmate/linux-x64) |
| load average (1, 5, 15 min) | before: $load0; after migrate.sh: $load1; after pid1.sh, at the end: $load2 |
| entrypoint | $(rel "$US") ($us_name): \`version\` says "${built:-?}"; tree at $commit |

The machine is shared: other work ran alongside (see the load average, on
$(nproc) CPUs), so absolute times are noisy; each tool's number is a median
(startup: the fastest run) of runs interleaved with the others', so the
ratios hold up better than the absolute numbers. The load average counts
runnable processes, and pid1.sh's reaping test itself puts ${orphans:-10000}
processes on the run queue at once: that shows in the figure after it, and
it runs last so that the short runs of the others are not measured in its wake.

EOF

	echo "## Goals"
	echo
	echo "| goal (issue) | entrypoint | anchor | verdict |"
	echo "|---|---|---|---|"
	tol=$(mul "${P_START[tini-static]:-}" 1.05)
	echo "| startup overhead no worse than tini-static's, within 5% timer noise (2) | ${P_START[entrypoint]:-n/a} ms | ${P_START[tini-static]:-n/a} ms | $(verdict "${P_START[entrypoint]:-}" '<=' "$tol") |"
	echo "| RSS of PID 1 no worse than tini-static's (2) | ${P_RSS[entrypoint]:-n/a} kB | ${P_RSS[tini-static]:-n/a} kB | $(verdict "${P_RSS[entrypoint]:-}" '<=' "${P_RSS[tini-static]:-}") |"
	echo "| static binary with TLS at most 3.2 MB (2) | $size bytes ($size_mb MB), TLS: $tls | 3,200,000 bytes | $( [ "$tls" = yes ] && verdict "$size" '<=' 3200000 || echo '**not met** (no OpenSSL in it)') |"
	echo "| no-op migrate, $N applied, audit on, at most 1.2x the libpq floor (3, 9) | $us_noop ms | floor $(m noop_floor) ms x 1.2 = $(mul "$(m noop_floor)" 1.2) ms | $(verdict "$us_noop" '<=' "$(mul "$(m noop_floor)" 1.2)") |"
	echo "| no-op migrate at least 2x faster than dbmate (3) | $us_noop ms | dbmate $(m noop_dbmate) ms / 2 = $(mul "$(m noop_dbmate)" 0.5) ms | $(verdict "$us_noop" '<=' "$(mul "$(m noop_dbmate)" 0.5)") |"
	echo "| applying $N migrations no slower than psql (3) | $us_apply ms | psql $(m apply_psql) ms | $(verdict "$us_apply" '<=' "$(m apply_psql)") |"
	echo
	echo "entrypoint here is the shipped binary, $(rel "$US") ($us_name)."
	echo

	echo "## PID 1 (bench/pid1.sh)"
	echo
	if [ "$pid1_ok" = 1 ]; then
		cat <<EOF
Each init runs \`X -- /bin/true\` (startup overhead: the fastest of
${prunes:-?} runs under hyperfine, minus bare /bin/true's ${bare:-?} ms), is PID 1 of a
fresh PID namespace while its child sleeps (VmRSS of PID 1), and is PID 1
while ${orphans:-?} orphaned grandchildren exit at once (time until the last one is
reaped, median of 3).

| init | startup overhead, ms | RSS of PID 1, kB | reap ${orphans:-?} orphans, ms |
|---|--:|--:|--:|
EOF
		for n in "${INITS[@]}"; do
			echo "| $n | ${P_START[$n]} | ${P_RSS[$n]} | $(reap "${P_REAP[$n]}") |"
		done
		echo
		echo "Ratios entrypoint / X:"
		echo
		echo "| X | startup overhead | RSS | reap |"
		echo "|---|--:|--:|--:|"
		for n in "${INITS[@]:1}"; do
			echo "| $n | $(ratio "${P_START[entrypoint]}" "${P_START[$n]}") | $(ratio "${P_RSS[entrypoint]}" "${P_RSS[$n]}") | $(ratio "${P_REAP[entrypoint]}" "${P_REAP[$n]}") |"
		done
	else
		echo "bench/pid1.sh did not produce its table in this run (exit $pid1_rc);"
		echo "its output is under \"Raw output\" below."
	fi
	echo

	cat <<EOF
## migrate (bench/migrate.sh)

Migrations are small: \`CREATE TABLE tN (id int PRIMARY KEY, v text)\` and one
\`INSERT\`. psql runs each file's up section between \`BEGIN\` and \`COMMIT\` in
one session and records nothing; dbmate and entrypoint record each migration.
The libpq floor (bench/floor.c) connects, reads the applied list (version and
checksum of each row) and disconnects: what any tool must at least do for a
no-op. Round trips are counted the same way for every tool, from an strace of
one run: a send on the server socket followed by a receive on it is one
(connection start-up included).

### No-op migrate with $N applied (median of $(m runs) runs, interleaved)

| tool | ms | round trips | entrypoint / tool |
|---|--:|--:|--:|
| entrypoint migrate ($us_name) | $us_noop | $(m rt_noop_us) | 1.00 |
EOF
	if [ "$US" != "$EP" ]; then
		echo "| entrypoint migrate (dev, glibc) | $(m noop_ep) | | $(ratio "$us_noop" "$(m noop_ep)") |"
	fi
	cat <<EOF
| dbmate up | $(m noop_dbmate) | $(m rt_noop_dbmate) | $(ratio "$us_noop" "$(m noop_dbmate)") |
| psql -Atc reading the applied list | $(m noop_psql) | $(m rt_noop_psql) | $(ratio "$us_noop" "$(m noop_psql)") |
| libpq floor (bench/floor.c) | $(m noop_floor) | $(m rt_noop_floor) | $(ratio "$us_noop" "$(m noop_floor)") |

### Applying $N small migrations to an empty database (median of $(m apply_rounds) rounds, rotating order)

| tool | ms (median) | ms (fastest round) | round trips per migration | entrypoint / tool (median) | entrypoint / tool (fastest) |
|---|--:|--:|--:|--:|--:|
| entrypoint migrate ($us_name) | $us_apply | $(m apply_us_min) | $(per "$(m rt_apply_us)" "$N") | 1.00 | 1.00 |
| dbmate up | $(m apply_dbmate) | $(m apply_dbmate_min) | $(per "$(m rt_apply_dbmate)" "$N") | $(ratio "$us_apply" "$(m apply_dbmate)") | $(ratio "$(m apply_us_min)" "$(m apply_dbmate_min)") |
| psql, BEGIN/COMMIT per file | $(m apply_psql) | $(m apply_psql_min) | $(per "$(m rt_apply_psql)" "$N") | $(ratio "$us_apply" "$(m apply_psql)") | $(ratio "$(m apply_us_min)" "$(m apply_psql_min)") |

Each round applies to a fresh database per tool. Round trips per migration
are the whole run's divided by $N. A whole apply is one long run, so load
from other work on the machine moves it more than the short runs above; the
fastest round is shown for reference, the goal uses the median.

### No-op migrate as the applied list grows

![no-op migrate time against migrations applied](bench/noop-migrate.png)

| applied | entrypoint ($us_name), ms | dbmate, ms | psql, ms | libpq floor, ms | entrypoint / floor | dbmate / entrypoint |
|--:|--:|--:|--:|--:|--:|--:|
EOF
	for k in $(m series); do
		# shellcheck disable=SC2086
		set -- ${M[series_$k]:-$k n/a n/a n/a n/a}
		echo "| $1 | $2 | $3 | $4 | $5 | $(ratio "$2" "$5") | $(ratio "$3" "$2") |"
	done
	cat <<EOF

Medians of $(m series_runs) runs per point, the tools interleaved; one migrations
directory grows from point to point and each tool applies the new files to
its own database before the no-op runs.

## migrate plan's lock tracing (bench/plan.sh)

A plan of $(m plan_n) pending migrations against 50 tables of $(m plan_rows) rows
each (a third create and fill a table, a third add a column, a third build an
index): $(m plan_stmts) statements, each traced (pg_locks of plan's backend,
relfilenode, sizes), $(m plan_warns) with a warning. Median of $(m plan_runs) runs,
interleaved. "untraced" is plan built from $(m plan_base_rev), the commit before the
tracing; psql is what a user would run for a dry run instead: one session,
\`BEGIN\`, every file, \`ROLLBACK\`.

| tool | ms | traced / tool |
|---|--:|--:|
| entrypoint migrate plan --json (traced) | $(m plan_traced) | 1.00 |
| entrypoint migrate plan (traced, text) | $(m plan_traced_text) | $(ratio "$(m plan_traced)" "$(m plan_traced_text)") |
| entrypoint migrate plan, untraced ($(m plan_base_rev)) | $(m plan_untraced) | $(ratio "$(m plan_traced)" "$(m plan_untraced)") |
| psql: BEGIN, every file, ROLLBACK | $(m plan_psql) | $(ratio "$(m plan_traced)" "$(m plan_psql)") |

Tracing adds $(awk -v a="$(m plan_traced)" -v b="$(m plan_untraced)" -v n="$(m plan_stmts)" 'BEGIN {
	if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || n + 0 <= 0) print "n/a"
	else printf "%.0f ms, %.2f ms per statement", a - b, (a - b) / n }'): the trace
is a prepared statement run after each statement in the same pipeline (no extra
round trip), and returns only the locks the previous one did not.

## Output kept and consoles recorded (bench/record.sh)

A task's output copied through entrypoint and a shell recorded through its
pty, against the same command run directly; each time less that of an
empty output (the fixed cost), so the ratio is one of throughput (goal of
issue 13: at least 0.9).  Then PID 1's RSS during a recorded session.

\`\`\`
$(cat "$W/record.txt")
\`\`\`

## Static binary

| | |
|---|---|
| file | $(rel "$US") |
| size | $size bytes ($size_mb MB, $size_mib MiB); goal at most 3.2 MB |
| TLS (OpenSSL linked in) | $tls |
| \`file\` | $linkage |

## Release artifacts

| artifact | size |
|---|---|
$(artifacts_table)

## Folders written for other tools

A chain of ${LN:-300} migrations in each tool's layout (our own fixtures,
tests/pg/lib-layouts.sh: tables, dollar-quoted functions, CREATE INDEX
CONCURRENTLY outside a transaction, ALTER TABLE and views), applied on a
fresh database by \`entrypoint migrate\` (dev build) and by psql file by file
(one \`psql -X -1 -v ON_ERROR_STOP=1 -f\` per migration, without -1 for the
non-transactional ones), median of ${LRUNS:-1} run(s), in ${t_layouts} s:

$(grep '^|' "$W/layouts.txt")

## How to reproduce

Build the binaries (\`make && make static\`), then:

| figure | command |
|---|---|
| this whole file, in one run | \`bash bench/report.sh\` (writes BENCHMARKS.md, build/bench/noop.dat, bench/noop-migrate.png) |
| PID 1 tables | \`bash bench/pid1.sh\` (EP=build/entrypoint-static; RUNS=${prunes:-1000} hyperfine runs, ORPHANS=${orphans:-10000}) |
| plan's tracing | \`bash bench/plan.sh\` (PLAN_N=$(m plan_n), ROWS=$(m plan_rows), RUNS=$(m plan_runs); EP=build/entrypoint) |
| migrate tables | \`bash bench/migrate.sh\` (N=$N, RUNS=$(m runs), APPLY_ROUNDS=$(m apply_rounds); EP=build/entrypoint, EP_STATIC=build/entrypoint-static) |
| the series and the plot | \`bash bench/migrate.sh\` (SERIES="$(m series)", SERIES_RUNS=$(m series_runs)) writes build/bench/noop.dat and bench/noop-migrate.png |
| the plot alone, from the data | \`gnuplot -e "dat='build/bench/noop.dat'; out='bench/noop-migrate.png'" bench/noop-migrate.gp\` |
| output and recording | \`bash bench/record.sh\` (SIZE=128 MiB, RUNS=5) |
| other tools' layouts | \`bash bench/layouts.sh\` (N=${LN:-300}, RUNS=${LRUNS:-1}; EP=build/entrypoint) |
| binary size | \`make static && stat -c %s build/entrypoint-static\` |
| release artifacts | \`make dist dist-image && stat -c '%s %n' dist/*\`; \`podman image inspect --format '{{.Size}}' entrypoint:VERSION-ARCH\` |

Tools: hyperfine, tini (with tini-static), dumb-init and catatonit from
Debian; PostgreSQL 15 and psql from Debian; dbmate from npm
(\`npm install --prefix .cache/bench @dbmate/linux-x64\`, done by migrate.sh);
strace for the round trips; gnuplot-nox for the plot.
$( [ -n "$(m dbmate_note | sed 's/^n\/a$//')" ] && echo && echo "Note: $(m dbmate_note)")

This run used: EP=$(rel "$EP") EP_STATIC=$(rel "$EP_STATIC") HELPERS=$(rel "$HELPERS").

<details><summary>Raw output of this run</summary>

\`\`\`
$(cat "$W/pid1.txt")

$(cat "$W/migrate.txt")

$(cat "$W/plan.txt")

$(cat "$W/layouts.txt")
\`\`\`

</details>
EOF
} >"$OUT"
echo "bench/report.sh: wrote $OUT (${took} s)" >&2
[ "$pid1_rc" = 0 ] && [ "$migrate_rc" = 0 ] && [ "$plan_rc" = 0 ] &&
	[ "$record_rc" = 0 ] && [ "$layouts_rc" = 0 ]
