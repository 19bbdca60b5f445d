#!/bin/bash
# t1300-tty: `entrypoint shell` under a real pty (tmux), as PID 1 and not:
# the shell gets the terminal and job control; Ctrl-C interrupts a
# foreground sleep but neither the shell nor entrypoint; Ctrl-Z and fg
# work; a window resize reaches the shell; the shell's exit code comes back.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
command -v tmux >/dev/null || skip_all "no tmux"
cd "$T" || exit 1

tn=0
for mode in $MODES; do
	tn=$((tn + 1))
	# As PID 1, entrypoint leads its own session with the terminal as
	# its controlling tty, as a container runtime sets it up for
	# `docker run -it` (setsid -c; without it, the terminal's groups
	# would all be outside the namespace and invisible to it).
	case $mode in
	plain) wrap="$EP shell" ;;
	pid1) wrap="unshare --pid --fork --mount-proc setsid -c $EP shell" ;;
	esac
	rm -f "$T/rc"
	# The shell's prompt and job messages go to stderr: keep it on the
	# terminal.
	"${TM[@]}" new-session -d -x 80 -y 24 -s t \
		"cd $T && PS1='PROMPT> ' $wrap; echo \$? >$T/rc"
	ok "$mode: the shell prompts" wait_for 10 pane_has 'PROMPT> '
	panepid=$("${TM[@]}" display-message -p -t t '#{pane_pid}')
	ep=$(child_of "$panepid")
	[ "$mode" = pid1 ] && ep=$(child_of "$ep")
	[ "$mode" = pid1 ] && is "$(sed -n 's/^NSpid:.*[[:space:]]//p' \
		"/proc/$ep/status" 2>/dev/null)" 1 "$mode: entrypoint is PID 1"

	ok "$mode: found entrypoint" eval '[ -n "$ep" ] && kill -0 "$ep"'

	# Ctrl-C: the foreground sleep dies of INT, nothing else does.
	keys "sleep 100$tn$$" Enter
	ok "$mode: sleep runs" wait_for 10 eval 'pid_of "sleep 100$tn$$" >/dev/null'
	sp=$(pid_of "sleep 100$tn$$")
	keys C-c
	ok "$mode: Ctrl-C ended the sleep" \
		wait_for 10 eval '! kill -0 "$sp" 2>/dev/null'
	keys 'echo "after-int-$?"' Enter
	ok "$mode: the shell survived and saw 130" \
		wait_for 10 pane_has '^after-int-130'
	ok "$mode: entrypoint survived Ctrl-C" kill -0 "$ep"

	# Ctrl-Z stops the sleep, fg resumes it.
	keys "sleep 200$tn$$" Enter
	ok "$mode: second sleep runs" wait_for 10 eval 'pid_of "sleep 200$tn$$" >/dev/null'
	sp=$(pid_of "sleep 200$tn$$")
	keys C-z
	ok "$mode: Ctrl-Z stopped it" wait_for 10 state_is "$sp" T
	ok "$mode: the shell reports it stopped" \
		wait_for 10 pane_has '[Ss]topped'
	ok "$mode: entrypoint is not stopped" eval '! state_is "$ep" T'
	keys fg Enter
	ok "$mode: fg resumed it" wait_for 10 state_is "$sp" S
	keys C-c
	ok "$mode: and Ctrl-C ended it" \
		wait_for 10 eval '! kill -0 "$sp" 2>/dev/null'

	# Window size: the shell's WINCH trap runs and stty sees the size.
	pane_resize_ok "$mode"

	keys 'exit 7' Enter
	ok "$mode: the session ended" wait_for 10 test -s "$T/rc"
	is "$(cat "$T/rc" 2>/dev/null)" 7 "$mode: the shell's exit code came back"
	"${TM[@]}" kill-server 2>/dev/null
done

done_testing
