#!/bin/bash
# t2150-oneoff-outcomes: on a real PostgreSQL, one-off runs that end before
# or without their child are still on the record and still run on_exit:
#  - Ctrl-C at the confirmation prompt (a real pty: tmux): 130, one row
#    "interrupted" with exit code 130, nothing ran, on_exit saw it;
#  - a DRY_RUN=1 from outside: the child does not see it and the row says
#    dry_run = false;
#  - an exclusive task busy elsewhere (75): on_exit runs with 75 refused.
# shellcheck disable=SC2016  # $VARS in single quotes are for the child
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
URL="postgresql:///postgres?host=$PGHOST&port=$PGPORT"

q() {
	psql "$URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

cat >"$T/oe.sh" <<'SH'
#!/bin/sh
printf '%s %s %s\n' "$ENTRYPOINT_TASK" "$ENTRYPOINT_EXIT_CODE" \
	"$ENTRYPOINT_STATUS" >>"${0%/*}/oe"
SH
chmod 755 "$T/oe.sh"
cat >"$T/ep.ini" <<INI
[app]
on_exit = $T/oe.sh
[database]
url = $URL
wait = 5s
audit = required
[task.ask]
command = touch $T/ran.ask
confirm = yes
[task.show]
command = sh -c 'printf "[%s]" "\$DRY_RUN" >$T/show.out'
dry_run = env
[task.gate]
command = sh -c 'touch $T/gate.started; while [ ! -e $T/gate.go ]; do sleep 0.05; done'
exclusive = yes
INI
last_oe() { tail -n 1 "$T/oe" 2>/dev/null; }

# --- DRY_RUN from outside ----------------------------------------------------
DRY_RUN=1 run_ep -c "$T/ep.ini" task show
is "$rc" 0 "the task ran"
is "$(cat "$T/show.out")" "[]" "without the inherited DRY_RUN"
is "$(q "SELECT dry_run FROM entrypoint.runs WHERE task = 'show'")" f \
	"its row says dry_run = false"

# --- an exclusive task busy elsewhere: 75, on_exit still runs ------------------
"$EP" -c "$T/ep.ini" task gate >"$T/gate.out" 2>"$T/gate.err" </dev/null &
gpid=$!
track "$gpid"
ok "the exclusive task runs" wait_for 10 test -e "$T/gate.started"
run_ep -c "$T/ep.ini" task gate
is "$rc" 75 "a second run is refused with 75"
is "$(last_oe)" "gate 75 refused" "on_exit ran after 75, with 75 refused"
touch "$T/gate.go"
wait_for 10 eval '! kill -0 "$gpid" 2>/dev/null'
wait "$gpid"
is "$?" 0 "the first run ended"
is "$(last_oe)" "gate 0 succeeded" "and its on_exit saw 0 succeeded"

# --- Ctrl-C at the confirmation prompt ---------------------------------------
if command -v tmux >/dev/null; then
	tmux_use ask
	# The pane closes with us: the prompt and our messages go to a file.
	"${TM[@]}" new-session -d -x 120 -y 24 -s t \
		"$EP -c $T/ep.ini task ask 2>$T/ask.err; echo \$? >$T/rc"
	ok "the terminal is asked" \
		wait_for 10 grep -qs 'run task "ask"' "$T/ask.err"
	"${TM[@]}" send-keys -t t C-c
	ok "Ctrl-C at the prompt ends entrypoint" wait_for 10 test -s "$T/rc"
	is "$(cat "$T/rc" 2>/dev/null)" 130 "with 130"
	ok "the task never ran" test ! -e "$T/ran.ask"
	is "$(q "SELECT status || '|' || exit_code || '|' || (finished_at IS NOT NULL) || '|' || (signal IS NULL) FROM entrypoint.runs WHERE task = 'ask'")" \
		"interrupted|130|true|true" "one row: interrupted, 130, finished, no child signal"
	is "$(last_oe)" "ask 130 interrupted" "on_exit ran with 130 interrupted"
	ok "no log line claims the run started" \
		eval '! grep -q "run started" "$T/ask.err"'
	ok "the end line says interrupted" \
		grep -q 'run finished .*status=interrupted exit_code=130' "$T/ask.err"
else
	skip "no tmux"
fi

done_testing
