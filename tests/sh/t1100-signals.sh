#!/bin/bash
# t1100-signals: every catchable signal sent to entrypoint reaches the child
# and the other members of its process group; TSTP/TTIN/TTOU are dropped as
# PID 1 (forwarded otherwise: t1500);
# the child starts with an empty mask and default dispositions even when
# entrypoint itself was started with everything blocked and ignored;
# stop_signal rewrites TERM.  As PID 1 and not.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
cd "$T" || exit 1

H=$HELPERS

# Catchable and asynchronous: everything but KILL STOP, the job-control
# three, the fault signals (SEGV BUS FPE ILL ABRT TRAP SYS: t1500) and the
# real-time signals a libc keeps for itself (32-34 with musl).  INT and TERM start the stop_timeout clock, so
# they come last; USR2 (12) makes the trappers exit.
SIGS="1 3 10 13 14 16 17 18 23 24 25 26 27 28 29 30 $(seq -s ' ' 35 64) 2 15"
# valgrind (make valgrind) keeps SIGRTMAX (64) for itself.
if [ -n "${EP_VALGRIND:-}" ]; then
	SIGS=${SIGS/ 64 / }
fi

# count_is FILE REGEX N : exactly N lines of FILE match REGEX.
count_is() {
	[ "$(log_count "$1" "$2")" -eq "$3" ]
}

for mode in $MODES; do
	log=$T/sig-$mode.log
	start_mode "$mode" run "$H/trapper" "$log" -f 2 -x 12
	ok "$mode: the child and its 2 group members are ready" \
		wait_for 10 count_is "$log" '^[0-2] ready ' 3
	if [ "$mode" = pid1 ]; then sender=1; else sender=$EP_PID; fi

	missing=
	for sig in $SIGS; do
		kill "-$sig" "$EP_PID" || missing="$missing kill-$sig"
		wait_for 5 count_is "$log" "^[0-2] $sig from=" 3 ||
			missing="$missing $sig"
	done
	is "$missing" "" "$mode: every catchable signal reached all 3 members"
	is "$(grep -Ev ' ready |^[0-2] [0-9]+ from='"$sender"'$' "$log")" "" \
		"$mode: every signal came from entrypoint ($sender)"

	# As PID 1 the job-control signals are dropped: entrypoint must never
	# stop, and the child did not get them.
	if [ "$mode" = pid1 ]; then
		for sig in TSTP TTIN TTOU; do
			kill -s "$sig" "$EP_PID"
		done
	fi
	kill -USR2 "$EP_PID"
	finish_bg 10
	is "$rc" 0 "$mode: the child exited 0 on USR2"
	is "$(log_count "$log" '^[0-2] exit')" 3 "$mode: all 3 members exited"
	is "$(log_count "$log" '^[0-2] (20|21|22) ')" 0 \
		"$mode: TSTP/TTIN/TTOU were not forwarded"

	# A real shell pipeline: HUP kills sh (the main child) and reaches
	# both commands of the pipeline; sh's exit then makes entrypoint
	# send them the stop signal (TERM) and wait for them.
	a=$T/pa-$mode.log b=$T/pb-$mode.log
	start_mode "$mode" run sh -c "$H/trapper $a | $H/trapper $b"
	ok "$mode: pipeline ready" wait_for 10 eval \
		'log_has "$a" " ready " && log_has "$b" " ready "'
	kill -HUP "$EP_PID"
	finish_bg 10
	is "$rc" 129 "$mode: sh died of HUP -> 129"
	ok "$mode: HUP reached both pipeline commands" \
		eval 'log_has "$a" "^0 1 from=" && log_has "$b" "^0 1 from="'
	ok "$mode: both got TERM after sh exited, and exited before us" \
		eval 'log_has "$a" "^0 15 from=" && log_has "$b" "^0 15 from=" &&
			log_has "$a" "^0 exit" && log_has "$b" "^0 exit"'
done

# Mask and dispositions: start entrypoint with every signal blocked and
# ignored; the child must see neither.
"$H/sigdirty" "$H/sigprobe" -o "$T/probe-dirty"
like "$(cat "$T/probe-dirty")" 'SigBlk:[[:space:]]+f*[1-9a-f][0-9a-f]*' \
	"control: sigdirty blocks signals"
like "$(cat "$T/probe-dirty")" 'SigIgn:[[:space:]]+0*[1-9a-f][0-9a-f]*' \
	"control: sigdirty ignores signals"
for mode in $MODES; do
	p=$T/probe-$mode
	case $mode in
	plain) "$H/sigdirty" "$EP" run "$H/sigprobe" -o "$p" ;;
	pid1) "$H/sigdirty" unshare --pid --fork --mount-proc \
		"$EP" run "$H/sigprobe" -o "$p" ;;
	esac >/dev/null 2>&1 </dev/null
	is "$?" 0 "$mode: entrypoint started with signals blocked+ignored ran the child"
	probe=$(cat "$p" 2>/dev/null)
	like "$probe" 'SigBlk:[[:space:]]+0+$' "$mode: child's mask is empty"
	like "$probe" 'SigIgn:[[:space:]]+0+$' "$mode: child ignores no signal"
	pid=$(sed -n 's/^pid: //p' "$p")
	like "$probe" "pgrp: $pid\$" "$mode: child leads its own process group"
done

# stop_signal: a TERM from outside reaches the child as QUIT.
for mode in $MODES; do
	log=$T/stop-$mode.log
	cat >"$T/stop.ini" <<EOF
[process.web]
command = $H/trapper $log -x 3
stop_signal = QUIT
stop_timeout = 20s
EOF
	start_mode "$mode" -c "$T/stop.ini" web
	ok "$mode: web is ready" wait_for 10 log_has "$log" ' ready '
	kill -TERM "$EP_PID"
	finish_bg 10
	is "$rc" 0 "$mode: web exited 0 after QUIT"
	ok "$mode: TERM from outside arrived as QUIT" log_has "$log" '^0 3 from='
	is "$(log_count "$log" '^0 15 ')" 0 "$mode: and not as TERM"
done

done_testing
