#!/bin/bash
# t4220-on-exit-result: `history show` tells what on_exit did after a run,
# on a real server.  on_exit runs after the run's own row is complete, so
# its result is written after it (best-effort, on a connection of its own):
# its exit code and status in text and --json; one that could not start
# says so; a run without on_exit shows "-"; on_exit's failure never
# changes the run's exit code; a run_output table made before these
# columns existed gets them.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
command -v python3 >/dev/null || skip_all "no python3"
cd "$T" || exit 1

pg_start
cat >oe.sh <<'SH'
#!/bin/sh
echo "on_exit saw $ENTRYPOINT_EXIT_CODE $ENTRYPOINT_STATUS" >>"$OE_LOG"
exit 3
SH
printf '#!/bin/sh\nkill -KILL $$\n' >oe-killed.sh
chmod +x oe.sh oe-killed.sh
export OE_LOG=$T/oe.log

cat >oe.ini <<INI
[database]
url = $DATABASE_URL
wait = 1s

[task.fails_after]
command = sh -c 'echo hello; exit 0'
on_exit = $T/oe.sh

[task.two]
command = sh -c 'exit 2'
on_exit = $T/oe-killed.sh

[task.missing]
command = true
on_exit = $T/no-such-on-exit-i13b

[task.plain]
command = true
INI

last_id() {
	psql_q "SELECT id FROM entrypoint.runs WHERE task = '$1' ORDER BY started_at DESC LIMIT 1"
}

# A table made by the first version of run_output, without on_exit's
# columns: storing on_exit's result adds them.
psql_q "CREATE SCHEMA IF NOT EXISTS entrypoint" >/dev/null
"$EP" -c oe.ini task plain >/dev/null 2>&1
psql_q "DROP TABLE entrypoint.run_output; CREATE TABLE entrypoint.run_output (run_id uuid PRIMARY KEY REFERENCES entrypoint.runs (id) ON DELETE CASCADE, output bytea, output_bytes bigint, recording text, recording_bytes bigint)" >/dev/null
is "$(psql_q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'entrypoint.run_output'::regclass AND attname LIKE 'on_exit%'")" 0 \
	"(an old run_output without on_exit's columns)"

"$EP" -c oe.ini task fails_after >run.out 2>run.err
is "$?" 0 "on_exit failing (3) leaves the run's exit code at 0"
is "$(cat oe.log)" "on_exit saw 0 succeeded" "on_exit ran once, after the run"
id=$(last_id fails_after)
is "$(psql_q "SELECT on_exit_code, on_exit_status FROM entrypoint.run_output WHERE run_id = '$id'")" \
	"3|failed" "its exit code and status are stored with the run (columns added)"

"$EP" -c oe.ini history show "${id:0:8}" >show.out 2>show.err
is "$?" 0 "history show"
like "$(cat show.out)" '^on_exit: +failed, exit 3$' "show says on_exit failed with exit 3"
like "$(cat show.out)" '^status: +succeeded$' "... while the run itself succeeded"
like "$(cat show.out)" '^hello$' "... and the kept output is still there"

"$EP" -c oe.ini history show "$id" --json >show.json
is "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], d["exit_code"], d["on_exit"]["status"], d["on_exit"]["exit_code"], d["on_exit"]["signal"])' show.json)" \
	"succeeded 0 failed 3 None" "--json has on_exit's status, exit code and signal"

"$EP" -c oe.ini task two >/dev/null 2>&1
is "$?" 2 "a run exiting 2 whose on_exit is killed still exits 2"
id=$(last_id two)
like "$("$EP" -c oe.ini history show "$id")" '^on_exit: +failed, killed by SIGKILL$' \
	"show says on_exit was killed by SIGKILL"
is "$("$EP" -c oe.ini history show "$id" --json | python3 -c 'import json, sys
d = json.load(sys.stdin)["on_exit"]; print(d["signal"], d["status"])')" "9 failed" \
	"--json has the signal number"

"$EP" -c oe.ini task missing >/dev/null 2>miss.err
is "$?" 0 "an on_exit that cannot run does not change the run's exit code"
id=$(last_id missing)
like "$("$EP" -c oe.ini history show "$id")" '^on_exit: +not_started$' \
	"show says on_exit did not start"
is "$("$EP" -c oe.ini history show "$id" --json | python3 -c 'import json, sys
d = json.load(sys.stdin)["on_exit"]; print(d["status"], d["exit_code"])')" "not_started None" \
	"--json: not_started, no exit code"

"$EP" -c oe.ini task plain >/dev/null 2>&1
id=$(last_id plain)
like "$("$EP" -c oe.ini history show "$id")" '^on_exit: +-$' "a run without on_exit shows -"
is "$("$EP" -c oe.ini history show "$id" --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["on_exit"])')" "None" "... and null in --json"

done_testing
