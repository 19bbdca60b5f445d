#!/bin/bash
# t1000-exit: exit codes pass through: 0..255 unchanged, death by signal N
# gives 128+N, exec failures give 127/126 with a one-line message; as PID 1
# and not.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
cd "$T" || exit 1

H=$HELPERS

for mode in $MODES; do
	# 0..255: one run each; compare the whole list at once.
	got="" want=""
	for ((n = 0; n < 256; n++)); do
		ep_cmd "$mode" run "$H/exitwith" "$n" </dev/null \
			>/dev/null 2>&1
		got="$got $?"
		want="$want $n"
	done
	is "$got" "$want" "$mode: exit codes 0..255 pass through unchanged"

	# The child kills itself: 128+N.
	for sig in 1 2 10 12 15 9; do
		run_mode "$mode" run "$H/exitwith" -s "$sig"
		is "$rc" "$((128 + sig))" "$mode: child dies of signal $sig -> $((128 + sig))"
	done

	# A signal from outside is forwarded, the child dies of it: 128+N.
	# (bash starts background jobs with INT ignored: the child must
	# get it back at SIG_DFL for INT to count.)
	for sig in TERM INT HUP USR1 USR2; do
		start_mode "$mode" run sleep 300
		wait_for 10 child_of "$EP_PID" >/dev/null
		kill -s "$sig" "$EP_PID"
		finish_bg 20
		n=$(kill -l "$sig")
		is "$rc" "$((128 + n))" "$mode: SIG$sig from outside -> $((128 + n))"
	done

	# Exec failures: 127 not found, 126 not executable; one line.
	run_mode "$mode" run no-such-command-here
	is "$rc" 127 "$mode: command not found -> 127"
	is "$(printf '%s\n' "$err" | grep -c 'could not run')" 1 \
		"$mode: not found: one error line"
	like "$err" 'could not run "no-such-command-here": command not found' \
		"$mode: not found: says why"

	run_mode "$mode" run "$T/missing/file"
	is "$rc" 127 "$mode: missing path -> 127"

	printf 'data\n' >"$T/plain.txt"
	chmod 644 "$T/plain.txt"
	run_mode "$mode" run "$T/plain.txt"
	is "$rc" 126 "$mode: file without x bit -> 126"
	is "$(printf '%s\n' "$err" | grep -c 'could not run')" 1 \
		"$mode: not executable: one error line"
	like "$err" 'Permission denied' "$mode: not executable: says why"

	run_mode "$mode" run "$T"
	is "$rc" 126 "$mode: a directory -> 126"

	# These two pass the PATH check and fail in the child's execve: the
	# errno comes back over the pipe.
	printf '\177ELF garbage\n' >"$T/badexec"
	chmod 755 "$T/badexec"
	run_mode "$mode" run "$T/badexec"
	is "$rc" 126 "$mode: exec format error -> 126"
	like "$err" 'could not run .*badexec.*[Ee]xec format error' \
		"$mode: exec format error: says why"

	# Under valgrind (make valgrind) a failed #! exec kills valgrind
	# itself (101) before our code sees the errno.
	if [ -n "${EP_VALGRIND:-}" ]; then
		skip "$mode: missing interpreter (valgrind cannot survive it)"
		skip "$mode: missing interpreter: one line (valgrind)"
		continue
	fi
	printf '#!/no/such/interpreter\n' >"$T/badinterp"
	chmod 755 "$T/badinterp"
	run_mode "$mode" run "$T/badinterp"
	is "$rc" 127 "$mode: missing interpreter -> 127"
	is "$(printf '%s\n' "$err" | grep -c 'could not run')" 1 \
		"$mode: missing interpreter: one line"
done

done_testing
