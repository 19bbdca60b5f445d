# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are for the suites that source this.)
# lib-pid1.sh - helpers for the PID-1 suites (tests/sh/t1*.sh), on top of
# lib.sh.  Source lib.sh first, then this file.
#
# Every PID-1 case runs in two modes:
#	plain	$EP as an ordinary process (a child subreaper)
#	pid1	$EP as PID 1 of a fresh PID namespace
#		(unshare --pid --fork --mount-proc)
# The suites cd into $T so that no entrypoint.ini of the source tree is
# picked up by accident.

MODES="plain pid1"

# Skip the whole suite when PID namespaces are not available here.
require_pidns() {
	unshare --pid --fork --mount-proc true 2>/dev/null ||
		skip_all "no PID namespaces (unshare --pid --fork --mount-proc)"
}

# ep_cmd MODE ARGS... : run $EP ARGS in MODE, in the foreground.
ep_cmd() {
	local mode=$1
	shift
	case $mode in
	plain) "$EP" "$@" ;;
	pid1) unshare --pid --fork --mount-proc "$EP" "$@" ;;
	*) echo "ep_cmd: unrecognized mode \"$mode\"" >&2; return 2 ;;
	esac
}

# run_mode MODE ARGS... : like run_ep, in MODE ($out, $err, $rc).
run_mode() {
	local mode=$1 o e
	shift
	o=$T/.out.$$
	e=$T/.err.$$
	ep_cmd "$mode" "$@" >"$o" 2>"$e" </dev/null
	rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
}

# The first child of pid $1, or nothing.
child_of() {
	local c=
	[ -n "$1" ] || return 1
	# The file has no final newline: read "fails" but still sets c.
	read -r c _ 2>/dev/null <"/proc/$1/task/$1/children"
	[ -n "$c" ] && echo "$c"
}

# start_mode MODE ARGS... : start $EP ARGS in the background in MODE.
# Sets BG (the pid to wait for) and EP_PID (the pid of $EP itself, to
# signal: in pid1 mode the child of unshare).  Output goes to $T/bg.out
# and $T/bg.err.
start_mode() {
	local mode=$1
	shift
	case $mode in
	plain) "$EP" "$@" >"$T/bg.out" 2>"$T/bg.err" </dev/null & ;;
	pid1) unshare --pid --fork --mount-proc "$EP" "$@" \
		>"$T/bg.out" 2>"$T/bg.err" </dev/null & ;;
	esac
	BG=$!
	track "$BG"
	EP_PID=$BG
	if [ "$mode" = pid1 ]; then
		EP_PID=
		wait_for 10 child_of "$BG" >/dev/null || return 1
		EP_PID=$(child_of "$BG")
		track "$EP_PID"
	fi
}

# finish_bg SECONDS : wait for the background run to end; sets $rc
# (124 from us when it did not end in time).
finish_bg() {
	if ! wait_for "$1" eval '! kill -0 "$BG" 2>/dev/null'; then
		rc=124
		return 1
	fi
	wait "$BG"
	rc=$?
}

# log_has FILE REGEX : FILE has a line matching REGEX (grep -E).
log_has() {
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# log_count FILE REGEX : how many lines of FILE match REGEX.
log_count() {
	cat -- "$1" 2>/dev/null | grep -Ec -- "$2"
}
