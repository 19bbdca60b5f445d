# shellcheck shell=bash
# lib.sh - TAP helpers for the shell suites.  Source it first:
#	. "$SRCDIR/tests/sh/lib.sh"
# Provides: ok/not_ok/is/like/unlike/skip_all/done_testing, a per-test
# temporary directory $T (removed at exit), wait_for (a condition with a
# deadline, never a bare sleep), and track/kill_tracked so every process a
# test starts is ended by pid at exit; tmux on a private socket (tmux_use,
# pane/pane_has/keys; every server is killed at exit), pid_of, state_is.
# The binary under test is $EP; helper programs are in $HELPERS.

set -u
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${EP:=$SRCDIR/build/entrypoint}"
: "${HELPERS:=$SRCDIR/build/helpers}"
export SRCDIR EP HELPERS

_tap_n=0
_tap_failed=0
_tracked=()
T=$(mktemp -d "${TMPDIR:-/tmp}/ep-test.XXXXXX")
export T

# Register a pid to be ended (TERM, then KILL) when the test exits.
track() {
	_tracked+=("$1")
}

kill_tracked() {
	local p i
	for p in "${_tracked[@]+"${_tracked[@]}"}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_tracked[@]+"${_tracked[@]}"}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_tracked=()
}

# tmux on a private socket: tmux_use NAME points TM at $T/tmux-NAME.sock
# (before any call: 0); a new NAME gives a new server (a new one on the socket of a
# server still shutting down can fail to start).  Every server is killed at
# exit.  pane/pane_has/keys act on the session named t.
TM=(tmux -S "$T/tmux-0.sock" -f /dev/null)
tmux_use() {
	TM=(tmux -S "$T/tmux-$1.sock" -f /dev/null)
}
tmux_kill_all() {
	local sock
	for sock in "$T"/tmux-*.sock; do
		[ -S "$sock" ] && tmux -S "$sock" kill-server 2>/dev/null
	done
	return 0
}
pane() {
	"${TM[@]}" capture-pane -p -J -S -200 -t t 2>/dev/null
}
pane_has() {
	pane | grep -Eq -- "$1"
}
keys() {
	"${TM[@]}" send-keys -t t "$@"
}

# pane_resize_ok LABEL: with a shell at its prompt in pane t, resizing the
# window to 100x30 reaches the shell (its WINCH trap runs) and its terminal
# (stty size says 30 100).
pane_resize_ok() {
	keys "trap 'echo got-winch' WINCH" Enter
	keys 'echo "trap-$((1 + 1))"' Enter
	wait_for 10 pane_has '^trap-2'
	"${TM[@]}" resize-window -t t -x 100 -y 30
	keys 'stty size' Enter
	ok "$1: the resize reached the shell (WINCH)" \
		wait_for 10 pane_has '^got-winch'
	ok "$1: the terminal has the new size" wait_for 10 pane_has '^30 100'
}

# pid_of CMDLINE: the pid of the process whose command line is exactly
# CMDLINE (arguments joined by spaces).
pid_of() {
	local p
	for p in /proc/[0-9]*; do
		if [ "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" = "$1 " ]; then
			echo "${p#/proc/}"
			return 0
		fi
	done
	return 1
}

# state_is PID LETTER: the process is in that state (/proc/PID/stat).
state_is() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" = "$2" ]
}

_lib_cleanup() {
	tmux_kill_all
	kill_tracked
	rm -rf "$T"
}
trap _lib_cleanup EXIT

ok() {
	# ok NAME CMD... : passes when CMD succeeds
	local name=$1
	shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		echo "ok $_tap_n - $name"
	else
		echo "not ok $_tap_n - $name"
		_tap_failed=$((_tap_failed + 1))
	fi
}

pass() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	local l
	for l in "$@"; do
		echo "#   $l"
	done
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:  '$1'" "want: '$2'"
	fi
}

# like GOT REGEX NAME (extended regex, grep -E, across lines)
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "got:  '$1'" "want match: /$2/"
	fi
}

unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3" "got:  '$1'" "want no match: /$2/"
	else
		pass "$3"
	fi
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # SKIP $1"
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# wait_for SECONDS CMD... : poll CMD every 50 ms until it succeeds or the
# deadline passes.  Returns CMD's last status.
wait_for() {
	local secs=$1 i n
	shift
	n=$((secs * 20))
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

# run_ep ARGS... : run $EP, capturing $out (stdout), $err (stderr) and $rc.
run_ep() {
	local o e
	o=$T/.out.$$
	e=$T/.err.$$
	"$EP" "$@" >"$o" 2>"$e" </dev/null
	rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
	export out err rc
}

# Write a config file: write_ini FILE <<EOF ... EOF
write_ini() {
	cat >"$1"
}
