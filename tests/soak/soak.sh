#!/bin/bash
# soak.sh - minutes of PID 1 under load, beside 1,000 one-off runs.
#
#	bash tests/soak/soak.sh		(make soak)
#
# The static binary (build/entrypoint-static; else $EP, else the dev build,
# and the report says so) is PID 1 in `unshare --pid --fork --mount-proc`,
# supervising tests/soak/churn.c, which keeps making orphans and
# short-lived grandchildren while USR1, WINCH and HUP rain on PID 1 (churn
# traps them and must survive).  Alongside, SOAK_RUNS `docker exec`-style
# one-off runs (`entrypoint -c CFG task ...`, ordinary processes) against a
# throwaway PostgreSQL with audit = required: some succeed, some fail
# (exit 3), some are killed by their 1 s timeout (124).
#
# Checked (exit 1 when any fails; the report says which):
#   - PID 1's open fds (/proc/PID/fd) never change; its VmRSS at the end is
#     within SOAK_RSS_SLACK_KB of the first sample (first/last/max reported);
#   - no zombie in the namespace at the end (its own /proc, via nsenter);
#   - churn survived every signal and PID 1 passed its exit code on TERM;
#   - every one-off run exited as expected and has its row in
#     entrypoint.runs: counts by status equal what the driver ran, the run
#     ids the children saw equal the table's, none left running.
# Knobs: SOAK_SECONDS (180), SOAK_RUNS (1000), SOAK_WORKERS (4),
# SOAK_SAMPLE (2, seconds between samples), SOAK_RSS_SLACK_KB (64),
# SOAK_OUT (build/soak: report.txt, samples.tsv, runs.tsv, logs).
# shellcheck disable=SC2317  # functions called through cond/wait_for
# shellcheck disable=SC2016  # $ENTRYPOINT_RUN_ID is for the child
set -u
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOAK_SECONDS=${SOAK_SECONDS:-180}
SOAK_RUNS=${SOAK_RUNS:-1000}
SOAK_WORKERS=${SOAK_WORKERS:-4}
SOAK_SAMPLE=${SOAK_SAMPLE:-2}
SOAK_RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-64}
SOAK_OUT=${SOAK_OUT:-$SRCDIR/build/soak}

if [ -n "${EP:-}" ]; then
	ep_note="EP=$EP (from the environment)"
elif [ -x "$SRCDIR/build/entrypoint-static" ]; then
	EP=$SRCDIR/build/entrypoint-static
	ep_note="build/entrypoint-static (the release binary)"
else
	EP=$SRCDIR/build/entrypoint
	ep_note="build/entrypoint: FALLBACK, the static binary is missing (make static)"
fi
[ -x "$EP" ] || {
	echo "soak: no binary at $EP (make static)" >&2
	exit 2
}
export EP SRCDIR

mkdir -p "$SOAK_OUT"
rm -f "$SOAK_OUT"/*.tsv "$SOAK_OUT"/*.log "$SOAK_OUT"/report.txt
CHURN=$SOAK_OUT/churn
cc -D_GNU_SOURCE -std=c99 -O2 -Wall -Wextra -Werror -o "$CHURN" \
	"$SRCDIR/tests/soak/churn.c" || exit 2

# shellcheck source=tests/sh/lib.sh
. "$SRCDIR/tests/sh/lib.sh"
# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 2
chmod 755 "$T"

REPORT=$SOAK_OUT/report.txt
failures=0
say() {
	printf '%s\n' "$*" | tee -a "$REPORT"
}
check() {
	# check OK|FAIL TEXT
	if [ "$1" = ok ]; then
		say "ok    $2"
	else
		say "FAIL  $2"
		failures=$((failures + 1))
	fi
}
cond() {
	# cond TEXT CMD...: check on CMD's status
	local text=$1
	shift
	if "$@"; then check ok "$text"; else check fail "$text"; fi
}

for tool in unshare nsenter ps; do
	command -v "$tool" >/dev/null || {
		echo "soak: $tool is missing (util-linux, procps)" >&2
		exit 2
	}
done
unshare --pid --fork --mount-proc true 2>/dev/null || {
	echo "soak: cannot make a PID namespace here (unshare --pid needs root)" >&2
	exit 2
}

pg_start
CFG=$T/soak.ini
STATS=$T/churn.stats
cat >"$CFG" <<INI
[app]
name = soak
release = soak-1
stop_timeout = 2s

[database]
url = \${DATABASE_URL}
wait = 10s
audit = required

[process.churn]
command = $CHURN run $STATS

[task.ok]
command = sh -c 'echo "\$ENTRYPOINT_RUN_ID"'

[task.fail]
command = sh -c 'echo "\$ENTRYPOINT_RUN_ID"; exit 3'

[task.slow]
command = sh -c 'echo "\$ENTRYPOINT_RUN_ID"; exec sleep 30'
timeout = 1s
INI

say "soak: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -sr), $(nproc) cpus"
say "binary: $ep_note"
say "plan: ${SOAK_SECONDS}s, $SOAK_RUNS one-off runs in $SOAK_WORKERS workers, sample every ${SOAK_SAMPLE}s"

# --- PID 1 ------------------------------------------------------------------
unshare --pid --fork --mount-proc "$EP" -c "$CFG" churn \
	>"$SOAK_OUT/pid1.log" 2>&1 &
USHARE=$!
track "$USHARE"
p1_of() {
	P1=$(cat "/proc/$USHARE/task/$USHARE/children" 2>/dev/null)
	P1=${P1%% *}
	[ -n "$P1" ] && [ "$(readlink "/proc/$P1/exe")" = "$(readlink -f "$EP")" ]
}
wait_for 10 p1_of || {
	echo "soak: PID 1 did not start" >&2
	cat "$SOAK_OUT/pid1.log" >&2
	exit 2
}
churn_of() {
	CHURN_PID=$(cat "/proc/$P1/task/$P1/children" 2>/dev/null)
	CHURN_PID=${CHURN_PID%% *}
	[ -n "$CHURN_PID" ] &&
		[ "$(readlink "/proc/$CHURN_PID/exe")" = "$CHURN" ]
}
wait_for 10 churn_of || {
	echo "soak: churn did not start under PID 1" >&2
	exit 2
}
say "PID 1: pid $P1 outside the namespace; churn: pid $CHURN_PID"

fd_count() {
	local n=0 f
	for f in "/proc/$1/fd/"*; do
		[ -e "$f" ] || [ -L "$f" ] && n=$((n + 1))
	done
	echo "$n"
}
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}
# ns_ps: every process of the namespace, "pid stat comm", read from the
# namespace's own /proc (nsenter's ps itself excluded).
ns_ps() {
	nsenter --target "$P1" --pid --mount -- ps -eo pid=,stat=,comm= |
		awk '$3 != "ps"'
}
zombies() {
	ns_ps | awk '$2 ~ /^Z/' | wc -l
}

# --- samples ------------------------------------------------------------------
sampler() {
	local t0=$EPOCHSECONDS
	printf 't_s\tfds\trss_kb\tprocs\tzombies\n'
	while [ -d "/proc/$P1" ]; do
		local ps
		ps=$(ns_ps)
		printf '%s\t%s\t%s\t%s\t%s\n' $((EPOCHSECONDS - t0)) \
			"$(fd_count "$P1")" "$(rss_kb "$P1")" \
			"$(printf '%s\n' "$ps" | grep -c .)" \
			"$(printf '%s\n' "$ps" | awk '$2 ~ /^Z/' | wc -l)"
		sleep "$SOAK_SAMPLE"
	done
}
sampler >"$SOAK_OUT/samples.tsv" &
SAMPLER=$!
track "$SAMPLER"

"$CHURN" rain "$P1" "$SOAK_SECONDS" 2000 >"$SOAK_OUT/rain.log" 2>&1 &
RAIN=$!
track "$RAIN"

# --- one-off runs -------------------------------------------------------------
# Run k of SOAK_RUNS starts no earlier than t0 + k * SOAK_SECONDS / SOAK_RUNS,
# so they are spread over the whole soak.  Kinds: every 20th from 7 times
# out (124), every 10th from 3 fails (3), every 10th from 5 is `run`, the
# rest `task ok`.
kind_of() {
	if [ $(($1 % 20)) = 7 ]; then
		echo "slow 124"
	elif [ $(($1 % 10)) = 3 ]; then
		echo "fail 3"
	elif [ $(($1 % 10)) = 5 ]; then
		echo "run 0"
	else
		echo "ok 0"
	fi
}
worker() {
	local w=$1 k kind want rc id start now
	for ((k = w; k < SOAK_RUNS; k += SOAK_WORKERS)); do
		read -r kind want <<<"$(kind_of "$k")"
		start=$((T0_US + k * SOAK_SECONDS * 1000000 / SOAK_RUNS))
		now=${EPOCHREALTIME/./}
		if [ "$now" -lt "$start" ]; then
			sleep "$(printf '%d.%06d' $(((start - now) / 1000000)) \
				$(((start - now) % 1000000)))"
		fi
		if [ "$kind" = run ]; then
			id=$("$EP" -c "$CFG" run sh -c 'echo "$ENTRYPOINT_RUN_ID"' \
				2>>"$SOAK_OUT/oneoff.$w.log" </dev/null)
		else
			id=$("$EP" -c "$CFG" task "$kind" \
				2>>"$SOAK_OUT/oneoff.$w.log" </dev/null)
		fi
		rc=$?
		printf '%s\t%s\t%s\t%s\t%s\n' "$k" "$kind" "$want" "$rc" "${id:--}"
	done
}
T0_US=${EPOCHREALTIME/./}
workers=()
for ((w = 0; w < SOAK_WORKERS; w++)); do
	worker "$w" >"$SOAK_OUT/runs.$w.tsv" &
	workers+=("$!")
	track "$!"
done
for p in "${workers[@]}"; do
	wait "$p"
done
runs_s=$(((${EPOCHREALTIME/./} - T0_US) / 1000000))
# PID 1 runs at least SOAK_SECONDS, even when the runs were quicker.
wait "$RAIN"
rain_rc=$?
soak_s=$(((${EPOCHREALTIME/./} - T0_US) / 1000000))
cat "$SOAK_OUT"/runs.*.tsv | sort -n >"$SOAK_OUT/runs.tsv"

# --- the end ------------------------------------------------------------------
# churn stops making processes; every orphan lives at most 20 ms, so the
# namespace must be down to PID 1 and churn, zombies none, at once.
kill -USR2 "$CHURN_PID"
only_two() {
	[ "$(ns_ps | wc -l)" = 2 ] && [ "$(zombies)" = 0 ]
}
wait_for 10 only_two
left=$(ns_ps)
nz=$(zombies)
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
# One last sample, after the churn.
printf '%s\t%s\t%s\t%s\t%s\n' "$soak_s" "$(fd_count "$P1")" "$(rss_kb "$P1")" \
	"$(printf '%s\n' "$left" | grep -c .)" "$nz" >>"$SOAK_OUT/samples.tsv"
churn_alive=no
[ "$(cat "/proc/$P1/task/$P1/children" 2>/dev/null)" = "$CHURN_PID " ] &&
	churn_alive=yes
kill -TERM "$P1"
ended() {
	! kill -0 "$USHARE" 2>/dev/null
}
wait_for 20 ended
wait "$USHARE"
p1_rc=$?

# --- report -------------------------------------------------------------------
say ""
say "ran for ${soak_s}s (one-off runs done after ${runs_s}s)"
say "rain: $(cat "$SOAK_OUT/rain.log") (exit $rain_rc)"
say "churn: $(cat "$STATS" 2>/dev/null || echo 'no stats (it did not end cleanly)')"
awk -F '\t' 'NR > 1 {
		n++; fd[n] = $2; rss[n] = $3; z = $5 > z ? $5 : z
		p = $4 > p ? $4 : p
		if (n == 1 || $2 > fdmax) fdmax = $2
		if (n == 1 || $3 > rssmax) rssmax = $3
	}
	END {
		printf "samples: %d\n", n
		printf "fds:     first %d last %d max %d\n", fd[1], fd[n], fdmax
		printf "rss_kb:  first %d last %d max %d\n", rss[1], rss[n], rssmax
		printf "namespace: max %d processes, max %d zombies in a sample\n", p, z
	}' "$SOAK_OUT/samples.tsv" | tee -a "$REPORT"
read -r fd_first fd_last fd_max rss_first rss_last rss_max < <(awk -F '\t' '
	NR > 1 { n++; fd[n] = $2; rss[n] = $3
		if (n == 1 || $2 > fm) fm = $2; if (n == 1 || $3 > rm) rm = $3 }
	END { print fd[1], fd[n], fm, rss[1], rss[n], rm }' "$SOAK_OUT/samples.tsv")

say ""
cond "PID 1 ran the whole soak (rain found it every time)" [ "$rain_rc" = 0 ]
fd_flat() {
	[ "$fd_first" = "$fd_last" ] && [ "$fd_first" = "$fd_max" ]
}
cond "PID 1's fds stayed flat (first $fd_first, last $fd_last, max $fd_max)" fd_flat
cond "PID 1's VmRSS stayed flat (first $rss_first kB, last $rss_last kB, max $rss_max kB; slack ${SOAK_RSS_SLACK_KB} kB)" \
	[ "$rss_last" -le $((rss_first + SOAK_RSS_SLACK_KB)) ]
cond "no zombie left in the namespace at the end ($nz)" [ "$nz" = 0 ]
cond "only PID 1 and churn left once churn stopped forking" \
	[ "$(printf '%s\n' "$left" | wc -l)" = 2 ]
[ "$(printf '%s\n' "$left" | wc -l)" = 2 ] || say "$left"
cond "churn survived every signal (still PID 1's child at the end)" \
	[ "$churn_alive" = yes ]
read -r got_usr1 got_winch got_hup < <(sed -E \
	's/usr1=([0-9]+) winch=([0-9]+) hup=([0-9]+).*/\1 \2 \3/' "$STATS" 2>/dev/null)
got_all() {
	[ "${got_usr1:-0}" -gt 0 ] && [ "${got_winch:-0}" -gt 0 ] &&
		[ "${got_hup:-0}" -gt 0 ]
}
cond "churn received USR1, WINCH and HUP through PID 1" got_all
cond "PID 1 exited with churn's code on TERM (got $p1_rc)" [ "$p1_rc" = 0 ]

nruns=$(wc -l <"$SOAK_OUT/runs.tsv")
bad=$(awk -F '\t' '$3 != $4' "$SOAK_OUT/runs.tsv")
cond "$nruns of $SOAK_RUNS one-off runs ran" [ "$nruns" = "$SOAK_RUNS" ]
cond "every one-off run exited as expected (0, 3 or 124)" [ -z "$bad" ]
[ -z "$bad" ] || printf '%s\n' "$bad" | head -n 20 | tee -a "$REPORT"
want_counts=$(awk -F '\t' '{ s = $3 == 0 ? "succeeded" : $3 == 3 ? "failed" : $3 == 124 ? "timed_out" : "other"; c[s]++ }
	END { for (s in c) print s, c[s] }' "$SOAK_OUT/runs.tsv" | sort)
got_counts=$(psql_q "SELECT status || ' ' || count(*) FROM entrypoint.runs GROUP BY status ORDER BY status")
say "driver: $(echo "$want_counts" | paste -sd, -)"
say "runs:   $(echo "$got_counts" | paste -sd, -)"
cond "entrypoint.runs has one row per run, by status, as the driver counted" \
	[ "$want_counts" = "$got_counts" ]
awk -F '\t' '$5 != "-" { print $5 }' "$SOAK_OUT/runs.tsv" | sort >"$T/ids.child"
psql_q "SELECT id FROM entrypoint.runs ORDER BY 1" | sort >"$T/ids.table"
cond "the run ids the children saw are exactly the table's ($(wc -l <"$T/ids.child") ids)" \
	cmp -s "$T/ids.child" "$T/ids.table"
cond "timed-out rows say exit 124" [ "$(psql_q "SELECT count(*) FROM entrypoint.runs WHERE status = 'timed_out' AND exit_code IS DISTINCT FROM 124")" = 0 ]
read -r d_p50 d_p99 d_max < <(psql_q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::int || ' ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::int || ' ' || round(max(ms))::int FROM (SELECT extract(epoch FROM finished_at - started_at) * 1000 AS ms FROM entrypoint.runs WHERE status <> 'timed_out') s")
say "one-off run duration (row start to end, not timed out): p50 ${d_p50}ms p99 ${d_p99}ms max ${d_max}ms"

say ""
if [ "$failures" = 0 ]; then
	say "soak: PASS (report: $REPORT)"
	exit 0
fi
say "soak: FAIL, $failures check(s) (report: $REPORT)"
exit 1
