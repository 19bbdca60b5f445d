#!/bin/bash
# t0100-run: run and process commands pass exit codes and arguments through.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

for code in 0 1 2 42 64 100 127 200 255; do
	run_ep run sh -c "exit $code"
	is "$rc" "$code" "run passes exit code $code through"
done

run_ep run sh -c 'kill -TERM $$'
is "$rc" 143 "death by TERM gives 143"
run_ep run sh -c 'kill -KILL $$'
is "$rc" 137 "death by KILL gives 137"

run_ep run -- printf '%s|' a 'b c' --flag
is "$out" "a|b c|--flag|" "run passes arguments unchanged, -- optional"

run_ep run no-such-command-xyz
is "$rc" 127 "a command not found exits 127"
like "$err" 'could not run "no-such-command-xyz": command not found' \
	"with a one-line message"
# Besides the audit's start and end lines, the failure is one line.  (Under
# qemu-user, EP_QEMU, there is also the warning that qemu refuses
# PR_SET_CHILD_SUBREAPER.)
is "$(printf '%s\n' "$err" |
	grep -Evc "run (started|finished)${EP_QEMU:+|could not become a child subreaper}")" 1 \
	"the message is one line"
like "$err" "run finished .*exit_code=127" "and the end of the run is logged"

printf 'echo hi\n' >"$T/noexec.sh"
chmod 644 "$T/noexec.sh"
run_ep run "$T/noexec.sh"
is "$rc" 126 "a file that is not executable exits 126"

run_ep run sh -c 'echo "$ENTRYPOINT_PROCESS:${ENTRYPOINT_RUN_ID:+id}"'
is "$out" "run:id" "run sets ENTRYPOINT_PROCESS and ENTRYPOINT_RUN_ID"

cat >"$T/ep.ini" <<'INI'
[process.web]
command = sh -c 'echo "web:$ENTRYPOINT_PROCESS:$*"; exit 3' web-arg0
[process.sidekick]
command = sh -c 'echo "sidekick:$ENTRYPOINT_PROCESS"'
INI
run_ep -c "$T/ep.ini" web one two
is "$rc" 3 "web passes its exit code through"
is "$out" "web:web:one two" "web gets its own args plus the extra ones"

run_ep -c "$T/ep.ini" sidekick
is "$rc" 0 "any [process.NAME] is a command"
is "$out" "sidekick:sidekick" "with ENTRYPOINT_PROCESS set to its name"

run_ep -c "$T/ep.ini" sidekik
is "$rc" 64 "a misspelt process exits 64"
like "$err" 'did you mean "sidekick"' "and suggests the process"

printf '[process.web]\ncommand = true\n\n[process.migrate]\ncommand = true\n' >"$T/clash.ini"
run_ep -c "$T/clash.ini" web
is "$rc" 78 "a [process.NAME] named like a built-in command is a config error"
like "$err" 'clash.ini:4: invalid section \[process.migrate\]: "migrate" is a built-in command' \
	"naming file:line and why"

# [app] user: an image already running as that user needs no switch; any
# other user cannot be reached without root (77, nothing runs).
printf '[app]\nuser = nobody\n' >"$T/user.ini"
chmod 755 "$T"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$EP" -c "$T/user.ini" run id -u 2>"$T/user.err")
is "$?:$out" "0:$(id -u nobody)" "user = the current user runs without switching"
out=$(setpriv --reuid=daemon --regid=daemon --clear-groups \
	"$EP" -c "$T/user.ini" run touch "$T/user-ran" 2>"$T/user.err")
is "$?" 77 "user = another user, not root: exit 77"
like "$(cat "$T/user.err")" 'cannot switch to user "nobody".*not root' "and says why"
ok "and nothing ran" test ! -e "$T/user-ran"

done_testing
