#!/bin/bash
# t4000-audit: the audit trail of one-off runs on a real PostgreSQL: rows
# written before and completed after task/shell/run, ENTRYPOINT_RUN_ID, the
# database going away in the middle of a task, exclusive runs from two
# processes, a task killed by its timeout, required/best-effort with the
# database down, history, secrets never shown, JSON logs that parse.
# shellcheck disable=SC2016  # $VARS in single quotes are for the child
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
SECRET_PW=Pw4auditXq7
SECRET_ARG=Arg4auditZz9
SECRET_ENV=Env4auditKk3
URL="postgresql://postgres:$SECRET_PW@/postgres?host=$PGHOST"
DOWN_URL="postgresql://postgres:$SECRET_PW@/postgres?host=$T/nowhere"
mkdir -p "$T/nowhere"
export DATABASE_URL=$URL SECRET_API_VALUE=$SECRET_ENV
export ENTRYPOINT_ACTOR=alice

q() {
	psql "$URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

# write_cfg FILE AUDIT [URL] [LOG_FORMAT]
write_cfg() {
	cat >"$1" <<INI
[app]
release = v4.0.0
log_format = ${4:-text}

[database]
url = ${3-\${DATABASE_URL\}}
wait = 1s
audit = $2

[shell]
command = sh -c 'printf %s "\$ENTRYPOINT_RUN_ID" >"$T/shell.id"'

[task.ok]
command = sh -c 'printf %s "\$ENTRYPOINT_RUN_ID" >"$T/ok.id"; touch "$T/ran.ok"' ok

[task.fail]
command = sh -c 'exit 3'

[task.die]
command = sh -c 'kill -KILL \$\$\$\$'

[task.gate]
command = sh -c 'touch "$T/gate.started"; while [ ! -e "$T/gate.go" ]; do sleep 0.05; done; touch "$T/gate.done"'
exclusive = yes

[task.slow]
command = sleep 30
timeout = 1s

[task.secretive]
command = sh -c 'touch "$T/ran.secretive"' secretive --password=$SECRET_ARG \${SECRET_API_VALUE}
INI
}
write_cfg "$T/ep.ini" best-effort
write_cfg "$T/req.ini" required
write_cfg "$T/req-down.ini" required "$DOWN_URL"
write_cfg "$T/best-down.ini" best-effort "$DOWN_URL"
write_cfg "$T/off.ini" off
write_cfg "$T/nourl.ini" required ""
write_cfg "$T/json.ini" best-effort '${DATABASE_URL}' json
EPC=(-c "$T/ep.ini")
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
ALL_OUT=$T/all-output
: >"$ALL_OUT"
keep() {
	printf '%s\n%s\n' "$out" "$err" >>"$ALL_OUT"
}

# --- task, run, shell: one row each, completed, id = ENTRYPOINT_RUN_ID ----
run_ep "${EPC[@]}" task ok
keep
is "$rc" 0 "task ok exits 0"
id=$(cat "$T/ok.id")
like "$id" "$UUID_RE" "the child gets ENTRYPOINT_RUN_ID, a UUID v4"
is "$(q "SELECT command||'|'||task||'|'||status||'|'||exit_code||'|'||coalesce(signal::text,'-')||'|'||release||'|'||actor||'|'||dry_run||'|'||(finished_at >= started_at) FROM entrypoint.runs WHERE id = '$id'")" \
	"task|ok|succeeded|0|-|v4.0.0|alice|false|true" \
	"its row: task, succeeded, release, actor, finished"
is "$(q "SELECT host FROM entrypoint.runs WHERE id = '$id'")" "$(hostname)" \
	"the row has the host name"
like "$err" "run started event=start run_id=$id command=task task=ok" \
	"one line at the start"
like "$err" "run finished event=end run_id=$id .*status=succeeded exit_code=0 duration_ms=[0-9]+" \
	"one line at the end"

run_ep "${EPC[@]}" run sh -c 'printf %s "$ENTRYPOINT_RUN_ID"'
keep
is "$rc" 0 "run exits 0"
like "$out" "$UUID_RE" "run's child gets a run id"
is "$(q "SELECT command||'|'||coalesce(task,'-')||'|'||status||'|'||array_to_string(argv, ' ') FROM entrypoint.runs WHERE id = '$out'")" \
	'run|-|succeeded|sh -c printf %s "$ENTRYPOINT_RUN_ID"' \
	"run's row records its argv"

run_ep "${EPC[@]}" shell
keep
is "$rc" 0 "shell exits 0"
sid=$(cat "$T/shell.id" 2>/dev/null)
is "$(q "SELECT command||'|'||status FROM entrypoint.runs WHERE id = '$sid'")" \
	"shell|succeeded" "shell's row, under its run id"

run_ep "${EPC[@]}" task fail
keep
is "$rc" 3 "a failing task passes its code through"
is "$(q "SELECT status||'|'||exit_code FROM entrypoint.runs WHERE task = 'fail'")" \
	"failed|3" "recorded as failed, exit 3"

run_ep "${EPC[@]}" task die
keep
is "$rc" 137 "a task killed by KILL exits 137"
is "$(q "SELECT status||'|'||exit_code||'|'||signal FROM entrypoint.runs WHERE task = 'die'")" \
	"failed|137|9" "recorded with its signal"

run_ep "${EPC[@]}" run /nonexistent/cmd
keep
is "$rc" 127 "run of a missing command exits 127"
is "$(q "SELECT status||'|'||exit_code FROM entrypoint.runs WHERE argv[1] = '/nonexistent/cmd'")" \
	"failed|127" "and is recorded as failed, 127"

if unshare --pid --fork --mount-proc true 2>/dev/null; then
	rm -f "$T/ok.id"
	unshare --pid --fork --mount-proc "$EP" "${EPC[@]}" task ok \
		>/dev/null 2>>"$ALL_OUT"
	is "$?" 0 "as PID 1 of a new PID namespace, task ok exits 0"
	is "$(q "SELECT status FROM entrypoint.runs WHERE id = '$(cat "$T/ok.id")'")" \
		succeeded "and its run is recorded"
else
	skip "no PID namespaces here (unshare --pid)"
	skip "no PID namespaces here (unshare --pid)"
fi

# --- a row before the child starts; the database restarts meanwhile ------
rm -f "$T"/gate.*
"$EP" "${EPC[@]}" task gate >"$T/gate.out" 2>"$T/gate.err" &
gpid=$!
track "$gpid"
ok "the exclusive task starts" wait_for 10 test -e "$T/gate.started"
is "$(q "SELECT status||'|'||(finished_at IS NULL) FROM entrypoint.runs WHERE task = 'gate'")" \
	"running|true" "its row is written before the child starts (running)"

# a second run of the same exclusive task, from another process
run_ep "${EPC[@]}" task gate
keep
is "$rc" 75 "a second exclusive run exits 75"
like "$err" 'already running' "and says why"
is "$(q "SELECT count(*) FROM entrypoint.runs WHERE task = 'gate' AND status = 'refused' AND exit_code = 75")" \
	1 "and is recorded as refused"
is "$(q "SELECT count(*) FROM entrypoint.runs WHERE task = 'gate' AND status = 'running'")" \
	1 "the first is still running"

pg_stop
pg_start
ok "the child is not disturbed by the database restart" kill -0 "$gpid"
touch "$T/gate.go"
wait "$gpid"
grc=$?
is "$grc" 0 "the task ends normally (exit 0)"
ok "and finished its work" test -e "$T/gate.done"
is "$(q "SELECT status||'|'||exit_code||'|'||(finished_at IS NOT NULL) FROM entrypoint.runs WHERE task = 'gate' AND status <> 'refused'")" \
	"succeeded|0|true" "its row is completed after the reconnect"
like "$(cat "$T/gate.err")" 'lock of exclusive task "gate" .*early' \
	"a warning says the lock was lost with the connection"
cat "$T/gate.out" "$T/gate.err" >>"$ALL_OUT"

# --- exclusive_wait: a second run waits for the first, or for a HUP -------
sed '/^exclusive = yes$/a exclusive_wait = 30s' "$T/ep.ini" >"$T/wait.ini"
rm -f "$T"/gate.*
"$EP" "${EPC[@]}" task gate >/dev/null 2>&1 &
gpid=$!
track "$gpid"
ok "an exclusive task runs" wait_for 10 test -e "$T/gate.started"
"$EP" -c "$T/wait.ini" task gate >/dev/null 2>"$T/wait1.err" &
w1=$!
track "$w1"
ok "a second run with exclusive_wait waits" \
	wait_for 10 grep -qs 'waiting up to' "$T/wait1.err"
"$EP" -c "$T/wait.ini" task gate >/dev/null 2>"$T/wait2.err" &
w2=$!
track "$w2"
ok "so does a third" wait_for 10 grep -qs 'waiting up to' "$T/wait2.err"
kill -HUP "$w2"
wait "$w2"
is "$?" 129 "a HUP while waiting for the lock: 129 (it never runs)"
is "$(q "SELECT count(*) FROM entrypoint.runs WHERE task = 'gate' AND status = 'interrupted' AND exit_code = 129")" \
	1 "recorded as interrupted"
touch "$T/gate.go"
wait "$gpid"
is "$?" 0 "the first run ends"
wait "$w1"
is "$?" 0 "then the waiting run takes the lock and runs"
is "$(q "SELECT count(*) FROM entrypoint.runs WHERE task = 'gate' AND status = 'succeeded'")" \
	3 "both are recorded as succeeded (with the first gate run)"

# --- timeout ------------------------------------------------------------
run_ep "${EPC[@]}" task slow
keep
is "$rc" 124 "a task killed by its timeout exits 124"
is "$(q "SELECT status||'|'||exit_code FROM entrypoint.runs WHERE task = 'slow'")" \
	"timed_out|124" "recorded as timed_out, 124"

# --- interrupted from outside --------------------------------------------
rm -f "$T"/gate.*
"$EP" "${EPC[@]}" task gate >/dev/null 2>&1 &
gpid=$!
track "$gpid"
ok "the task starts again" wait_for 10 test -e "$T/gate.started"
kill -TERM "$gpid"
wait "$gpid"
is "$?" 143 "TERM from outside: 143"
is "$(q "SELECT status||'|'||exit_code||'|'||signal FROM entrypoint.runs WHERE task = 'gate' ORDER BY started_at DESC LIMIT 1")" \
	"interrupted|143|15" "recorded as interrupted"

# --- required / best-effort / off / no url -------------------------------
before=$(q "SELECT count(*) FROM entrypoint.runs")
rm -f "$T/ran.ok"
run_ep -c "$T/req-down.ini" task ok
keep
is "$rc" 69 "audit = required with the database down exits 69"
like "$err" 'audit = required' "and says why"
ok "and nothing ran" test ! -e "$T/ran.ok"

run_ep -c "$T/best-down.ini" task ok
keep
is "$rc" 0 "best-effort with the database down runs"
ok "the task ran" test -e "$T/ran.ok"
like "$err" 'warning: .*without an audit record' "and warns"

rm -f "$T/ran.ok" "$T/ok.id"
run_ep -c "$T/off.ini" task ok
keep
is "$rc" 0 "audit = off runs"
like "$(cat "$T/ok.id")" "$UUID_RE" "and still gives the child a run id"
is "$(q "SELECT count(*) FROM entrypoint.runs")" "$before" \
	"none of the three wrote a row"

DATABASE_URL='' run_ep -c "$T/nourl.ini" task ok
keep
is "$rc" 78 "audit = required without [database] url is a config error (78)"
like "$err" 'url' "saying the url is missing"

run_ep -c "$T/req.ini" task ok
keep
is "$rc" 0 "audit = required with the database up runs"
is "$(q "SELECT count(*) FROM entrypoint.runs")" "$((before + 1))" \
	"and writes its row"

rm -f "$T/ok.id"
run_ep -c "$T/nourl.ini" task ok
is "$rc" 0 "without [database] url, \$DATABASE_URL is used (as by migrate)"
is "$(q "SELECT count(*) FROM entrypoint.runs WHERE id = '$(cat "$T/ok.id")'")" 1 \
	"and the run is recorded there"

# --- secrets ---------------------------------------------------------------
run_ep "${EPC[@]}" task secretive
keep
is "$rc" 0 "the task with secrets in its arguments runs"
is "$(q "SELECT array_to_string(argv, ' ') FROM entrypoint.runs WHERE task = 'secretive'")" \
	"sh -c touch \"$T/ran.secretive\" secretive --password=******** ********" \
	"its argv is recorded masked"
run_ep "${EPC[@]}" run true "--password=$SECRET_ARG" "$SECRET_ENV"
keep
run_ep "${EPC[@]}" env
keep
run_ep "${EPC[@]}" history -n 100
keep
run_ep "${EPC[@]}" history -n 100 --json
keep
run_ep -c "$T/json.ini" task secretive
keep
q "COPY entrypoint.runs TO STDOUT" >>"$ALL_OUT"
like "$(cat "$ALL_OUT")" 'secretive' "the collected output has the runs"
for s in "$SECRET_PW" "$SECRET_ARG" "$SECRET_ENV"; do
	ok "no output and no row shows the secret ${s:0:3}..." \
		bash -c '! grep -qF -- "$1" "$2"' _ "$s" "$ALL_OUT"
done

# --- history ---------------------------------------------------------------
run_ep "${EPC[@]}" history
is "$rc" 0 "history exits 0"
like "$(printf '%s\n' "$out" | head -1)" '^ID +STARTED \(UTC\) +COMMAND +ACTOR +RELEASE +STATUS +EXIT +DURATION$' \
	"a table with a header"
like "$(printf '%s\n' "$out" | sed -n 2p)" ' task secretive +alice +v4.0.0 +succeeded +0 ' \
	"newest first"
like "$out" "${id:0:8} .* task ok +alice +v4.0.0 +succeeded +0 " "the first run is there"
like "$out" ' task die .* failed +137 KILL ' "a signal shows next to the exit code"
n=$(q "SELECT least(count(*), 20) + 1 FROM entrypoint.runs")
is "$(printf '%s\n' "$out" | wc -l)" "$n" "at most 20 runs by default, plus the header"

run_ep "${EPC[@]}" history -n 2 --task gate
is "$rc" 0 "history --task exits 0"
is "$(printf '%s\n' "$out" | wc -l)" 3 "-n 2 gives two runs"
unlike "$(printf '%s\n' "$out" | tail -n +2)" ' task (ok|slow|fail) ' \
	"--task keeps one task"

run_ep "${EPC[@]}" history --json -n 5
is "$rc" 0 "history --json exits 0"
is "$(printf '%s\n' "$out" | wc -l)" 5 "one line per run"
ok "each line is a JSON object with the documented keys" python3 -c '
import json, sys
keys = {"id", "command", "task", "argv", "release", "host", "actor",
        "dry_run", "started_at", "finished_at", "exit_code", "signal",
        "status", "duration_ms"}
for line in sys.argv[1].splitlines():
    o = json.loads(line)
    assert set(o) == keys, set(o) ^ keys
    assert isinstance(o["argv"], list) and isinstance(o["dry_run"], bool)
' "$out"

run_ep "${EPC[@]}" history -n 0
is "$rc" 64 "history -n 0 exits 64"
run_ep "${EPC[@]}" history -n x
is "$rc" 64 "history -n x exits 64"
run_ep "${EPC[@]}" history --bogus
is "$rc" 64 "history with an unrecognized option exits 64"
like "$err" 'unrecognized option "--bogus"' "and names it"
DATABASE_URL='' run_ep -c "$T/nourl.ini" history
is "$rc" 78 "history without [database] url exits 78"

# --- JSON logs ---------------------------------------------------------------
run_ep -c "$T/json.ini" task ok
is "$rc" 0 "a task with log_format = json"
ok "every stderr line is a JSON object with the documented run keys" python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines()]
ev = {o["event"]: o for o in lines if "event" in o}
for o in lines:
    assert {"ts", "level", "cmd", "msg"} <= set(o), o
s, e = ev["start"], ev["end"]
assert s["msg"] == "run started" and e["msg"] == "run finished"
assert s["run_id"] == e["run_id"] == sys.argv[2]
assert s["command"] == "task" and s["task"] == "ok"
assert s["release"] == "v4.0.0" and s["actor"] == "alice"
assert s["dry_run"] is False and isinstance(s["argv"], str)
assert e["status"] == "succeeded" and e["exit_code"] == 0
assert isinstance(e["duration_ms"], int)
' "$err" "$(cat "$T/ok.id")"

run_ep -c "$T/json.ini" task die
ok "the end line of a killed task has the signal" python3 -c '
import json, sys
e = [json.loads(l) for l in sys.argv[1].splitlines()][-1]
assert e["event"] == "end" and e["signal"] == "KILL", e
assert e["exit_code"] == 137 and e["status"] == "failed", e
' "$err"

done_testing
