#!/bin/bash
# t4210-record: a console session recorded through a pty, driven by a real
# terminal (tmux) against a real server, as PID 1 and not: the operator is
# told; a typed command and its output come back in `history replay
# --instant` and `history export`; a secret typed after `stty -echo` is
# stored nowhere; a secret env value the session prints is masked; a resize
# reaches the child (and the recording); Ctrl-C and Ctrl-Z reach the child,
# not entrypoint; the terminal settings after the session equal those
# before, also when the session is stopped from outside (TERM).  The export is checked against the asciicast v2 format as
# docs.asciinema.org describes it, and played by the real asciinema when it
# is installed.  [shell] record = required refuses without a database;
# record = no records nothing.
# shellcheck disable=SC2016  # $VARS in single quotes are for the shell
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
require_pidns
command -v tmux >/dev/null || skip_all "no tmux"
command -v python3 >/dev/null || skip_all "no python3"
cd "$T" || exit 1

pg_start
TOKEN=Tok4recordQq81
TYPED=Typed4recordZk2
export APP_API_TOKEN=$TOKEN

cat >rec.ini <<INI
[database]
url = $DATABASE_URL
wait = 1s
INI

# A python3 check of an asciicast v2 file (docs.asciinema.org/manual/
# asciicast/v2): a JSON object header with version 2 and integer width and
# height, then one JSON array [time, code, data] per line, times numbers
# that never go back, codes o/i/m/r, data strings, "r" data COLSxROWS.
cat >cast_check.py <<'PY'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the file ends with a newline"
h = json.loads(lines[0])
assert isinstance(h, dict) and h["version"] == 2, "header version 2"
assert type(h["width"]) is int and type(h["height"]) is int, "size"
assert type(h.get("timestamp", 0)) is int, "timestamp"
last = 0
for ln in lines[1:-1]:
    e = json.loads(ln)
    assert isinstance(e, list) and len(e) == 3, ln
    t, code, data = e
    assert isinstance(t, (int, float)) and t >= last, ln
    last = t
    assert code in ("o", "i", "m", "r") and isinstance(data, str), ln
    if code == "r":
        assert re.fullmatch(r"\d+x\d+", data), ln
print("ok")
PY

for mode in $MODES; do
	tmux_use "$mode"
	case $mode in
	plain) wrap="$EP -c rec.ini shell" ;;
	pid1) wrap="unshare --pid --fork --mount-proc setsid -c $EP -c rec.ini shell" ;;
	esac
	rm -f rc before after
	"${TM[@]}" new-session -d -x 80 -y 24 -s t \
		"cd $T && stty -g >before && PS1='PROMPT> ' $wrap; echo \$? >rc; stty -g >after; exec sleep 300"
	ok "$mode: the shell prompts" wait_for 10 pane_has 'PROMPT> '
	ok "$mode: the operator is told the session is recorded" \
		pane_has 'recorded as run [0-9a-f-]{36}'
	panepid=$("${TM[@]}" display-message -p -t t '#{pane_pid}')
	ep=$(pgrep -P "$panepid" | head -n 1)
	[ "$mode" = pid1 ] && ep=$(pgrep -P "$(pgrep -P "$ep" | head -n 1)" |
		head -n 1)
	ok "$mode: found entrypoint" eval '[ -n "$ep" ] && kill -0 "$ep"'

	keys 'echo "typed-$((6 * 7))-out"' Enter
	ok "$mode: a typed command runs" wait_for 10 pane_has '^typed-42-out'
	keys 'stty -echo; echo "echo-$((1 + 2))-off"; read -r pw; stty echo; echo "len-${#pw}"' Enter
	ok "$mode: echo is off" wait_for 10 pane_has '^echo-3-off'
	keys "$TYPED" Enter
	ok "$mode: the secret was read" wait_for 10 pane_has '^len-15'
	ok "$mode: echo was off: the terminal never showed it" \
		eval '! pane_has "$TYPED"'
	keys 'echo "tok=$APP_API_TOKEN"' Enter
	ok "$mode: the session printed the token" \
		wait_for 10 pane_has "^tok=$TOKEN"

	# Ctrl-C: the foreground sleep dies, the shell and entrypoint do not.
	keys "sleep 4210$$" Enter
	ok "$mode: sleep runs" wait_for 10 eval 'pid_of "sleep 4210$$" >/dev/null'
	sp=$(pid_of "sleep 4210$$")
	keys C-c
	ok "$mode: Ctrl-C ended the sleep" \
		wait_for 10 eval '! kill -0 "$sp" 2>/dev/null'
	keys 'echo "after-int-$?"' Enter
	ok "$mode: the shell saw 130" wait_for 10 pane_has '^after-int-130'
	ok "$mode: entrypoint survived Ctrl-C" kill -0 "$ep"

	# Ctrl-Z and fg: job control in the pty.
	keys "sleep 4211$$" Enter
	ok "$mode: second sleep runs" wait_for 10 eval 'pid_of "sleep 4211$$" >/dev/null'
	sp=$(pid_of "sleep 4211$$")
	keys C-z
	ok "$mode: Ctrl-Z stopped it" wait_for 10 state_is "$sp" T
	ok "$mode: entrypoint is not stopped" eval '! state_is "$ep" T'
	keys fg Enter
	ok "$mode: fg resumed it" wait_for 10 state_is "$sp" S
	keys C-c
	ok "$mode: Ctrl-C ended it" wait_for 10 eval '! kill -0 "$sp" 2>/dev/null'

	# Resize: the child's terminal (the pty) follows.
	pane_resize_ok "$mode"

	keys 'exit 3' Enter
	ok "$mode: the session ended" wait_for 10 test -s rc
	is "$(cat rc 2>/dev/null)" 3 "$mode: the shell's exit code came back"
	ok "$mode: terminal settings restored" \
		wait_for 10 cmp -s before after

	id=$(psql_q "SELECT id FROM entrypoint.runs WHERE command = 'shell' ORDER BY started_at DESC LIMIT 1")
	"$EP" -c rec.ini history export "${id:0:8}" >"$mode.cast" 2>"$mode.err"
	is "$?" 0 "$mode: export by id prefix"
	is "$(python3 cast_check.py "$mode.cast" 2>&1)" ok \
		"$mode: the export is asciicast v2"
	"$EP" -c rec.ini history replay --instant "$id" >"$mode.replay" 2>&1
	is "$?" 0 "$mode: replay --instant"
	for f in cast replay; do
		ok "$mode: $f has the typed command" \
			grep -q 'typed-$((6 \* 7))-out' "$mode.$f"
		ok "$mode: $f has its output" grep -q 'typed-42-out' "$mode.$f"
		ok "$mode: $f has no secret typed with echo off" \
			eval '! grep -q "$TYPED" "$mode.$f"'
		ok "$mode: $f has the token masked" \
			eval 'grep -q "tok=\*\*\*\*\*\*\*\*" "$mode.$f" && ! grep -q "$TOKEN" "$mode.$f"'
	done
	ok "$mode: the resize is in the recording" grep -q '"r", "100x30"' "$mode.cast"
	is "$(psql_q "SELECT count(*) FROM entrypoint.run_output WHERE recording LIKE '%$TYPED%' OR recording LIKE '%$TOKEN%'")" 0 \
		"$mode: neither secret is in the database"
	if command -v asciinema >/dev/null && command -v script >/dev/null; then
		# asciinema cat needs a terminal: give it one with script(1).
		script -qec "asciinema cat $mode.cast" /dev/null </dev/null \
			>"$mode.acat" 2>&1
		ok "$mode: asciinema plays it" grep -q 'typed-42-out' "$mode.acat"
	else
		skip "$mode: asciinema plays it (not installed)"
	fi
	"${TM[@]}" kill-server 2>/dev/null
done

# A session ended from outside (docker stop: TERM to entrypoint) also gives
# the terminal back as it was.
printf '[app]\nstop_timeout = 1s\n' >>rec.ini
rm -f rc before after
tmux_use term
"${TM[@]}" new-session -d -x 80 -y 24 -s t \
	"cd $T && stty -g >before && PS1='PROMPT> ' $EP -c rec.ini shell; echo \$? >rc; stty -g >after; exec sleep 300"
ok "stopped from outside: the shell prompts" wait_for 10 pane_has 'PROMPT> '
panepid=$("${TM[@]}" display-message -p -t t '#{pane_pid}')
ep=$(pgrep -P "$panepid" | head -n 1)
kill -TERM "$ep"
ok "stopped from outside: the session ended" wait_for 20 test -s rc
ok "stopped from outside: terminal settings restored" \
	wait_for 10 cmp -s before after
"${TM[@]}" kill-server 2>/dev/null

# show: the recording is listed with the run.
"$EP" -c rec.ini history show "$id" >show.out 2>&1
like "$(cat show.out)" "recording: +[0-9]+ bytes" "show lists the recording"
like "$(cat show.out)" "command: +shell" "show gives the command"
"$EP" -c rec.ini history show "$id" --json >show.json
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["recorded"], d["status"], d["exit_code"])' show.json)" \
	"True failed 3" "show --json: recorded, status and exit code"

# record = no: nothing recorded, and replay says so.
printf '[database]\nurl = %s\n[shell]\nrecord = no\ncommand = sh -c "echo not-recorded"\n' \
	"$DATABASE_URL" >norec.ini
script -qec "$EP -c norec.ini shell" /dev/null </dev/null >norec.out 2>&1
ok "record = no: the shell ran" grep -q not-recorded norec.out
ok "record = no: no recording notice" eval '! grep -q "recorded as run" norec.out'
id=$(psql_q "SELECT id FROM entrypoint.runs WHERE command = 'shell' ORDER BY started_at DESC LIMIT 1")
run_ep -c norec.ini history replay "$id"
is "$rc" 64 "replay of a run without a recording: exit 64"
like "$err" "has no recording" "... and says so"

# record = required with the database down: refused, nothing ran.
printf '[database]\nurl = postgresql:///postgres?host=%s/nowhere\nwait = 0\n[shell]\nrecord = required\ncommand = sh -c "touch %s/req.ran"\n' \
	"$T" "$T" >req.ini
mkdir -p nowhere
script -qec "$EP -c req.ini shell; echo rc=\$?" /dev/null </dev/null >req.out 2>&1
ok "record = required, no database: refused" grep -q 'rc=69' req.out
ok "... and the shell never ran" test ! -e req.ran

done_testing
