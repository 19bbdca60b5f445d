# shellcheck shell=bash
# shellcheck disable=SC2034  # elapsed and st are the callers'
# lib-bench.sh - timing and summaries shared by bench/migrate.sh,
# bench/layouts.sh, bench/plan.sh and bench/report.sh.  Times come from
# bash 5's EPOCHREALTIME (microseconds, no fork).
#
#	ms CMD...	wall time of one run in ms into $elapsed, its exit
#			status into $st, its stderr into $T/last.err
#	us CMD...	wall time of one run in µs into $elapsed; $st set to
#			1 when it fails (left alone otherwise: set it to 0
#			before a series and look once after)
#	median [DIV]	the median of the numbers on stdin, divided by DIV
#			("%.0f" without DIV, "%.1f" with one; "n/a" for none)
#	ratio A B	A / B with two decimals, "n/a" unless both are
#			numbers and B > 0

ms() {
	local t0=${EPOCHREALTIME/./} t1
	"$@" >/dev/null 2>"$T/last.err"
	st=$?
	t1=${EPOCHREALTIME/./}
	elapsed=$(((t1 - t0) / 1000))
}

us() {
	local t0=${EPOCHREALTIME/./} t1
	"$@" >/dev/null 2>&1 || st=1
	t1=${EPOCHREALTIME/./}
	elapsed=$((t1 - t0))
}

median() {
	tr ' ' '\n' | grep . | sort -n | awk -v div="${1:-1}" '{ a[NR] = $1 }
		END { if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf (div == 1 ? "%.0f" : "%.1f"), m / div }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 <= 0) print "n/a"
		else printf "%.2f", a / b }'
}
