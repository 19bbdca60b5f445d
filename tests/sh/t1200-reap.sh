#!/bin/bash
# t1200-reap: orphans are adopted and reaped (as PID 1, and as a child
# subreaper when not); when the main child exits, what it leaves behind
# gets the stop signal and is waited for; a child that ignores TERM is
# killed after stop_timeout; a task's timeout gives 124.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
cd "$T" || exit 1

H=$HELPERS

# gone PID: PID is set and no such process exists.
gone() {
	[ -n "$1" ] && ! kill -0 "$1" 2>/dev/null
}

# Control: with no reaper in between, the orphans go elsewhere.
out=$("$H/orphans" 200 2>&1)
like "$out" 'reparented=0 ' "control: without a subreaper, orphans leave us"

for mode in $MODES; do
	run_mode "$mode" run "$H/orphans" 10000
	is "$rc" 0 "$mode: 10,000 orphans run"
	like "$out" 'orphans=10000 reparented=10000 left=0 zombies=0' \
		"$mode: all 10,000 were adopted by entrypoint and reaped"
done

# The main child exits 3 and leaves a group member behind whose TERM
# handler takes 300 ms: it gets TERM and we wait for it before exiting.
for mode in $MODES; do
	log=$T/left-$mode.log
	run_mode "$mode" run sh -c "$H/trapper $log -d 300 &
		i=0
		while ! grep -q ready $log 2>/dev/null && [ \$i -lt 200 ]; do
			sleep 0.05; i=\$((i + 1))
		done
		exit 3"
	is "$rc" 3 "$mode: the main child's code comes back"
	ok "$mode: the member left behind got TERM" log_has "$log" '^0 15 from='
	ok "$mode: ... and was waited for (its exit came before ours)" \
		log_has "$log" '^0 exit'
done

# As PID 1: a process in another session and group (setsid) is stopped
# the same way: everything left in the namespace.
log=$T/setsid.log
run_mode pid1 run sh -c "setsid $H/trapper $log -d 300 &
	i=0
	while ! grep -q ready $log 2>/dev/null && [ \$i -lt 200 ]; do
		sleep 0.05; i=\$((i + 1))
	done
	exit 5"
is "$rc" 5 "pid1: the main child's code comes back"
ok "pid1: a process outside the group got TERM" log_has "$log" '^0 15 from=1$'
ok "pid1: ... and was waited for" log_has "$log" '^0 exit'

# stop_timeout: TERM is ignored, so KILL follows; 137.
# leave.sh TRAPPER LOG ARGS...: start a trapper in our group, wait until
# it is ready, exit 4.
cat >"$T/leave.sh" <<'EOF'
#!/bin/sh
"$@" &
i=0
while ! grep -q ready "$2" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
exit 4
EOF
chmod 755 "$T/leave.sh"

for mode in $MODES; do
	log=$T/ign-$mode.log
	cat >"$T/ign.ini" <<EOF
[process.web]
command = $H/trapper $log -i 15
stop_timeout = 300ms
EOF
	start_mode "$mode" -c "$T/ign.ini" web
	ok "$mode: web ignoring TERM is ready" wait_for 10 log_has "$log" ' ready '
	kill -TERM "$EP_PID"
	finish_bg 20
	is "$rc" 137 "$mode: killed after stop_timeout -> 137"
	like "$(cat "$T/bg.err")" 'did not exit within 300 ms; sending KILL' \
		"$mode: says it sent KILL"

	# After the main child exits, a member that ignores TERM gets KILL
	# once stop_timeout has passed; the main child's code still wins.
	cat >"$T/ign2.ini" <<EOF
[process.web]
command = $T/leave.sh $H/trapper $log.2 -i 15
stop_timeout = 300ms
EOF
	run_mode "$mode" -c "$T/ign2.ini" web
	is "$rc" 4 "$mode: main child's code after its TERM-deaf member was killed"
	pid=$(sed -n 's/^0 ready \([0-9]*\) .*/\1/p' "$log.2")
	if [ "$mode" = pid1 ]; then
		pass "$mode: (the member died with the namespace)"
	else
		ok "$mode: the TERM-deaf member is gone" gone "$pid"
	fi
	like "$err" 'did not exit within 300 ms; sending KILL' \
		"$mode: says it sent KILL to what was left"
done

# A task that outlives its timeout: TERM, grace, exit 124.
for mode in $MODES; do
	log=$T/task-$mode.log
	cat >"$T/task.ini" <<EOF
[app]
stop_timeout = 300ms

[task.slow]
command = $H/trapper $log -i 15
timeout = 300ms
EOF
	run_mode "$mode" -c "$T/task.ini" task slow
	is "$rc" 124 "$mode: task timeout -> 124"
	like "$err" 'timed out' "$mode: says it timed out"
done

done_testing
