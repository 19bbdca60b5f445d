#!/bin/bash
# t1500-signals-other-inits: what tini's and dumb-init's own test suites
# expect of an init, as PID 1 and not.
#  - dumb-init tests/proxies_signals_test.py sends every signal 1..31 but
#    KILL, STOP, CHLD and the job-control three, and wants each to reach
#    the child: that includes ABRT BUS FPE ILL SEGV SYS TRAP, which a
#    kill() from outside must not turn into our own death (orphaning the
#    child) nor, as PID 1, into nothing.
#  - tini forwards TSTP (src/tini.c), dumb-init forwards TSTP/TTIN/TTOU
#    (tests/shell_background_test.py): not PID 1 we forward all three and
#    never stop ourselves; as PID 1 they are dropped (docs: README).
#  - dumb-init tests/tty_test.py: the child gets the terminal we had.  As
#    PID 1 of a namespace whose session leader is outside it, getpgrp() and
#    tcgetpgrp() both read 0, which is still our terminal.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
cd "$T" || exit 1

H=$HELPERS

count_is() {
	[ "$(log_count "$1" "$2")" -eq "$3" ]
}

# state PID: the one-letter state from /proc/PID/stat.
state() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	echo "${s%% *}"
}

# The fault signals, sent with kill() (SIGSYS is 31 on x86_64 and arm64).
FAULTS="4 5 6 7 8 11 31"

for mode in $MODES; do
	log=$T/fault-$mode.log
	start_mode "$mode" run "$H/trapper" "$log" -f 1 -x 12
	ok "$mode: the child and its group member are ready" \
		wait_for 10 count_is "$log" '^[01] ready ' 2
	if [ "$mode" = pid1 ]; then sender=1; else sender=$EP_PID; fi

	missing=
	for sig in $FAULTS; do
		kill "-$sig" "$EP_PID" 2>/dev/null || missing="$missing kill-$sig"
		wait_for 5 count_is "$log" "^[01] $sig from=$sender\$" 2 ||
			missing="$missing $sig"
	done
	is "$missing" "" "$mode: ILL TRAP ABRT BUS FPE SEGV SYS from kill() reached the whole group"
	ok "$mode: entrypoint is still alive" kill -0 "$EP_PID"

	# Job control from outside: forwarded when we are not PID 1 (tini,
	# dumb-init), dropped as PID 1; we never stop.
	for sig in 20 21 22; do
		kill "-$sig" "$EP_PID"
		if [ "$mode" = plain ]; then
			ok "$mode: signal $sig was forwarded to the group" \
				wait_for 5 count_is "$log" "^[01] $sig from=$sender\$" 2
		fi
		isnt_stopped() { [ "$(state "$EP_PID")" != T ]; }
		ok "$mode: entrypoint did not stop on signal $sig" isnt_stopped
	done
	kill -USR2 "$EP_PID"
	finish_bg 10
	is "$rc" 0 "$mode: the child exited 0 on USR2"
	if [ "$mode" = pid1 ]; then
		is "$(log_count "$log" '^[01] (20|21|22) ')" 0 \
			"$mode: TSTP/TTIN/TTOU were dropped"
	fi
	# The group member exits on USR2 too; it was not left behind.
	is "$(log_count "$log" '^[01] exit')" 2 "$mode: both members exited"
done

# A real SIGTSTP stops a child that does not catch it, and CONT resumes
# it (dumb-init shell_background_test without setsid), while we run on.
start_mode plain run sleep 1000
ok "plain: sleep started" wait_for 10 eval 'child_of "$EP_PID" >/dev/null'
sp=$(child_of "$EP_PID")
kill -TSTP "$EP_PID"
stopped() { [ "$(state "$sp")" = T ]; }
ok "plain: TSTP stopped the child" wait_for 10 stopped
ok "plain: entrypoint did not stop" eval '[ "$(state "$EP_PID")" != T ]'
kill -CONT "$EP_PID"
ok "plain: CONT resumed it" wait_for 10 eval '! stopped'
kill -TERM "$EP_PID"
finish_bg 10
is "$rc" 143 "plain: sleep died of TERM"

# The terminal, as PID 1 without setsid: the session leader (the shell in
# tmux) is outside the namespace, so getpgrp() and tcgetpgrp() read 0.
if command -v tmux >/dev/null; then
	tmux_use tty
	"${TM[@]}" new-session -d -x 80 -y 24 -s t \
		"unshare --pid --fork --mount-proc $EP run $H/sigprobe -o $T/probe-tty; echo \$? >$T/rc"
	ok "pid1 without setsid: the run ended" wait_for 10 test -s "$T/rc"
	is "$(cat "$T/rc")" 0 "pid1 without setsid: exit 0"
	probe=$(cat "$T/probe-tty" 2>/dev/null)
	pg=$(printf '%s\n' "$probe" | sed -n 's/^pgrp: //p')
	like "$pg" '^[1-9][0-9]*$' "pid1 without setsid: the child leads a group of its own"
	like "$probe" "tpgid: $pg\$" \
		"pid1 without setsid: the child has the terminal's foreground"

	# dumb-init tests/tty_test.py: the child reads the terminal (as
	# `tac` there): in the background it would be stopped by SIGTTIN.
	for mode in $MODES; do
		case $mode in
		plain) wrap="$EP" label=plain ;;
		pid1) wrap="unshare --pid --fork --mount-proc $EP"
			label="pid1 without setsid" ;;
		esac
		rm -f "$T/rc" "$T/tac.out"
		"${TM[@]}" kill-server 2>/dev/null
		"${TM[@]}" new-session -d -x 80 -y 24 -s t \
			"$wrap run sh -c 'read a; read b; echo \"\$b|\$a\" >$T/tac.out'; echo \$? >$T/rc"
		"${TM[@]}" send-keys -t t 1 Enter 2 Enter
		ok "$label: the child read two lines from the terminal" \
			wait_for 10 test -s "$T/rc"
		is "$(cat "$T/tac.out" 2>/dev/null)" "2|1" "$label: in order, reversed by the child"
	done

	# An interactive shell there: Ctrl-C reaches its foreground job only.
	rm -f "$T/rc"
	"${TM[@]}" kill-server 2>/dev/null
	"${TM[@]}" new-session -d -x 80 -y 24 -s t \
		"cd $T && PS1='PROMPT> ' unshare --pid --fork --mount-proc $EP shell; echo \$? >$T/rc"
	ok "pid1 without setsid: the shell prompts" wait_for 10 pane_has 'PROMPT> '
	"${TM[@]}" send-keys -t t "sleep 300$$" Enter
	ok "pid1 without setsid: sleep runs" wait_for 10 pane_has "sleep 300$$"
	wait_for 10 eval 'pgrep -fx "sleep 300$$" >/dev/null'
	"${TM[@]}" send-keys -t t C-c
	"${TM[@]}" send-keys -t t 'echo "after-$?"' Enter
	ok "pid1 without setsid: Ctrl-C ended the foreground sleep, the shell lives" \
		wait_for 10 pane_has '^after-130'
	"${TM[@]}" send-keys -t t 'exit 3' Enter
	ok "pid1 without setsid: the shell exited" wait_for 10 test -s "$T/rc"
	is "$(cat "$T/rc" 2>/dev/null)" 3 "pid1 without setsid: its code came back"
else
	skip "no tmux: the terminal cases"
fi

done_testing
