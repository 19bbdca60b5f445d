#!/bin/bash
# t0200-task: tasks, --dry-run modes, confirmation, arguments, timeout.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

cat >"$T/ep.ini" <<INI
[task.mark]
command = sh -c 'touch "$T/ran.\$ENTRYPOINT_TASK"; printf "%s|" "\$DRY_RUN" "\$@"' mark
description = Touch a marker file

[task.envdry]
command = sh -c 'touch "$T/ran.envdry"; printf "%s|" "\$DRY_RUN" "\$@"' envdry
description = Dry run through the environment only
dry_run = env

[task.flagdry]
command = sh -c 'printf "%s|" "\$DRY_RUN" "\$@"' flagdry --base
description = Dry run through a flag
dry_run = flag:--dry-run

[task.dangerous]
command = sh -c 'touch "$T/ran.dangerous"'
description = Needs a yes
confirm = yes
dry_run = env

[task.slow]
command = sleep 30
description = Times out
timeout = 1s
INI
EPC=(-c "$T/ep.ini")

run_ep "${EPC[@]}" tasks
is "$rc" 0 "tasks exits 0"
like "$out" "^mark +Touch a marker file$" "tasks lists a task with its description"
like "$out" "^flagdry +Dry run through a flag +\[--dry-run\]$" "and its flags"
like "$out" "^dangerous .*\[--dry-run, confirm\]$" "confirm is listed"
like "$out" "^slow .*\[timeout 1s\]$" "timeout is listed"

run_ep "${EPC[@]}" task mark
is "$rc" 0 "a task runs"
is "$out" "|" "without DRY_RUN or extra arguments"
ok "the task ran" test -e "$T/ran.mark"

run_ep "${EPC[@]}" task mark -- a 'b c'
is "$out" "|a|b c|" "arguments after -- reach the task"

rm -f "$T/ran.mark"
run_ep "${EPC[@]}" task mark --dry-run
is "$rc" 64 "--dry-run on a task without dry-run support exits 64"
like "$err" 'does not support --dry-run' "and says why"
ok "and the task never ran" test ! -e "$T/ran.mark"

run_ep "${EPC[@]}" task envdry --dry-run
is "$rc" 0 "dry_run = env runs"
is "$out" "1|" "with DRY_RUN=1 and no flag"

run_ep "${EPC[@]}" task flagdry --dry-run -- x
is "$out" "1|--base|--dry-run|x|" "dry_run = flag:X sets DRY_RUN=1 and appends X"

run_ep "${EPC[@]}" task flagdry
is "$out" "|--base|" "without --dry-run there is neither"

run_ep "${EPC[@]}" task dangerous
is "$rc" 77 "confirm = yes without a terminal and without --yes exits 77"
like "$err" 'needs confirmation' "and says why"
ok "and the task never ran" test ! -e "$T/ran.dangerous"

run_ep "${EPC[@]}" task dangerous --dry-run
is "$rc" 0 "a dry run needs no confirmation"
rm -f "$T/ran.dangerous"

run_ep "${EPC[@]}" task dangerous --yes
is "$rc" 0 "--yes confirms"
ok "and the task ran" test -e "$T/ran.dangerous"
rm -f "$T/ran.dangerous"

# Under a real pty: answering "n" refuses, "y" runs.
printf 'n\n' | script -qec "'$EP' -c '$T/ep.ini' task dangerous" /dev/null \
	>"$T/pty.out" 2>&1
like "$(cat "$T/pty.out")" 'run task "dangerous"' "a terminal is asked"
ok "answering n runs nothing" test ! -e "$T/ran.dangerous"
like "$(cat "$T/pty.out")" 'not confirmed' "and says so"
printf 'y\n' | script -qec "'$EP' -c '$T/ep.ini' task dangerous" /dev/null \
	>"$T/pty.out" 2>&1
ok "answering y runs the task" wait_for 5 test -e "$T/ran.dangerous"

run_ep "${EPC[@]}" task mrak
is "$rc" 64 "an unknown task exits 64"
like "$err" 'unrecognized task "mrak"; did you mean "mark"\?' "and suggests one"

run_ep "${EPC[@]}" task
is "$rc" 64 "task without a name exits 64"

run_ep "${EPC[@]}" task mark --frob
is "$rc" 64 "an unknown task option exits 64"

run_ep "${EPC[@]}" task mark extra
is "$rc" 64 "a stray argument before -- exits 64"

# on_exit runs after a one-off run ends (e.g. to stop a sidecar); its
# failure is logged and never changes the run's exit code.
cat >"$T/onexit.ini" <<INI
[app]
on_exit = sh -c 'echo "\$ENTRYPOINT_RUN_ID" >"$T/app-on-exit"'
[task.fails]
command = sh -c 'echo "\$ENTRYPOINT_RUN_ID" >"$T/task-id"; exit 3'
on_exit = sh -c 'touch "$T/task-on-exit"; exit 9'
INI
run_ep -c "$T/onexit.ini" task fails
is "$rc" 3 "a failing on_exit does not change the task's exit code"
ok "the task's own on_exit ran after it" test -e "$T/task-on-exit"
like "$err" 'on_exit command "sh" exited 9' "and its failure is logged"
ok "the task's on_exit replaces [app] on_exit" test ! -e "$T/app-on-exit"
run_ep -c "$T/onexit.ini" run sh -c 'echo "$ENTRYPOINT_RUN_ID" >"$T/run-id"; exit 5'
is "$rc" 5 "run keeps its exit code"
is "$(cat "$T/app-on-exit" 2>/dev/null)" "$(cat "$T/run-id")" \
	"[app] on_exit ran after run, with the same environment (run id)"

run_ep "${EPC[@]}" task slow
is "$rc" 124 "a task past its timeout exits 124"
like "$err" "timed out" "and says so"

done_testing
