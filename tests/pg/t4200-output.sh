#!/bin/bash
# t4200-output: what a task or run printed is kept with its audit row, on a
# real server: the operator still gets every byte, in order per stream; the
# last keep_output bytes (default 64k) are stored with secrets masked;
# keep_output = 0 keeps nothing; web never has its output copied (its
# stdout is entrypoint's own); `history show` prints it all, by id or a
# prefix, and as JSON; bad ids are one-line errors with exit 64.
# shellcheck disable=SC2016  # $VARS in single quotes are for the child
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
command -v python3 >/dev/null || skip_all "no python3"
cd "$T" || exit 1

pg_start
TOKEN=Tok4outputWw55
export SERVICE_TOKEN=$TOKEN

# A program printing 1 MiB + a bit: a numbered line per 16 bytes, so any
# byte lost or reordered shows; the token at the very end.
cat >big.sh <<'SH'
i=0
while [ $i -lt 65536 ]; do
	printf '%015d\n' $i
	i=$((i + 1))
done
echo "err-first" >&2
echo "err-second" >&2
echo "last: $SERVICE_TOKEN"
SH

cat >out.ini <<INI
[database]
url = $DATABASE_URL
wait = 1s

[process.web]
command = sleep 4200$$

[task.big]
command = sh $T/big.sh

[task.quiet]
command = true
INI
sed 's/^wait = 1s$/wait = 1s\n[app]\nkeep_output = 0/' out.ini >none.ini

sh big.sh >direct.out 2>direct.err
"$EP" -c out.ini task big >task.out 2>task.err
is "$?" 0 "task big succeeded"
ok "the operator got every byte of stdout, in order" cmp -s direct.out task.out
grep -v '^entrypoint' task.err >task.err.child
ok "... and of stderr" cmp -s direct.err task.err.child

id=$(psql_q "SELECT id FROM entrypoint.runs WHERE task = 'big' ORDER BY started_at DESC LIMIT 1")
kept_file=$(psql_q "SELECT encode(output, 'hex') FROM entrypoint.run_output WHERE run_id = '$id'")

# The same through pipes (as a log collector reads it): moved with tee().
"$EP" -c out.ini task big 2> >(cat >pipe.err) | cat >pipe.out
ok "through a pipe: every byte of stdout, in order" cmp -s direct.out pipe.out
idp=$(psql_q "SELECT id FROM entrypoint.runs WHERE task = 'big' ORDER BY started_at DESC LIMIT 1")
wait_for 10 grep -q 'run finished' pipe.err
grep -v '^entrypoint' pipe.err >pipe.err.child
ok "through a pipe: stderr too" cmp -s direct.err pipe.err.child
kept_pipe=$(psql_q "SELECT encode(output, 'hex') FROM entrypoint.run_output WHERE run_id = '$idp'")
is "$(printf %s "$kept_pipe" | wc -c)" "$(printf %s "$kept_file" | wc -c)" \
	"through a pipe: the same amount is kept"
is "$(psql_q "SELECT encode(output, 'escape') FROM entrypoint.run_output WHERE run_id = '$idp'" | grep -c '^0000000000655[0-9][0-9]$')" 36 \
	"through a pipe: the last lines are kept"

is "$(psql_q "SELECT length(output), output_bytes FROM entrypoint.run_output WHERE run_id = '$id'")" \
	"$((65536 - 14 + 8))|$(($(wc -c <direct.out) + $(wc -c <direct.err)))" \
	"the last 64 KiB are kept (the token masked), the total counted"
psql_q "SELECT encode(output, 'escape') FROM entrypoint.run_output WHERE run_id = '$id'" >kept
ok "the token is masked in what is kept" grep -q '^last: \*\*\*\*\*\*\*\*$' kept
is "$(grep -c "$TOKEN" kept)" 0 "the token is not stored"
ok "the kept lines are the last ones" grep -q '^000000000065535$' kept
ok "... and not the first" eval '! grep -q "^000000000000000$" kept'

"$EP" -c out.ini history show "${id:0:8}" >show.out 2>show.err
is "$?" 0 "history show by id prefix"
like "$(cat show.out)" "output: +$(($(wc -c <direct.out) + $(wc -c <direct.err))) bytes, the last $((65536 - 6)) kept" \
	"show says how much was kept"
like "$(cat show.out)" "command: +task big" "show: command with task"
like "$(cat show.out)" "status: +succeeded" "show: status"
ok "show prints the kept output" grep -q '^000000000065535$' show.out
is "$(grep -c "$TOKEN" show.out)" 0 "show never prints the token"
"$EP" -c out.ini history show "$id" --json >show.json
is "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["id"] == sys.argv[2], d["task"], d["status"], d["exit_code"],
      "last: ********\n" in d["output"], d["recorded"])' show.json "$id")" \
	"True big succeeded 0 True False" "show --json parses and has the output"

# keep_output = 0: nothing kept, and the output still flows.
"$EP" -c none.ini task big >none.out 2>/dev/null
ok "keep_output = 0: the operator still gets it all" cmp -s direct.out none.out
id0=$(psql_q "SELECT id FROM entrypoint.runs WHERE task = 'big' ORDER BY started_at DESC LIMIT 1")
is "$(psql_q "SELECT count(*) FROM entrypoint.run_output WHERE run_id = '$id0'")" 0 \
	"keep_output = 0: nothing stored"

# run: kept as well; show of a run that printed nothing.
"$EP" -c out.ini run sh -c 'echo run-said-$((40 + 2))' >run.out 2>/dev/null
idr=$(psql_q "SELECT id FROM entrypoint.runs WHERE command = 'run' ORDER BY started_at DESC LIMIT 1")
is "$(psql_q "SELECT encode(output, 'escape') FROM entrypoint.run_output WHERE run_id = '$idr'")" \
	"run-said-42" "run: its output is kept"

# web: its stdout is entrypoint's, never a pipe of ours.
mkfifo web.pipe
"$EP" -c out.ini web >web.pipe 2>/dev/null &
wp=$!
track "$wp"
exec 7<web.pipe
web_child() {
	pgrep -P "$wp" sleep
}
ok "web started" wait_for 10 eval "web_child >/dev/null"
wc=$(web_child)
is "$(readlink "/proc/$wc/fd/1")" "$(readlink "/proc/$wp/fd/1")" \
	"web writes to entrypoint's own stdout (nothing copied)"
kill -TERM "$wp"
wait "$wp" 2>/dev/null
exec 7<&-

# Bad ids: one line, exit 64, nothing printed on stdout.
run_ep -c out.ini history show zzz
is "$rc" 64 "invalid id: exit 64"
like "$err" 'invalid run id "zzz"' "... says why"
is "$out" "" "... prints nothing"
run_ep -c out.ini history show 00000000
is "$rc" 64 "unknown id: exit 64"
like "$err" 'no run "00000000"' "... says so"
run_ep -c out.ini history show
is "$rc" 64 "missing id: exit 64"
run_ep -c out.ini history replay "$id" --speed 0
is "$rc" 64 "invalid speed: exit 64"
run_ep -c out.ini history show "$id" --bogus
is "$rc" 64 "unrecognized option: exit 64"
run_ep -c out.ini history export "$id"
is "$rc" 64 "export of a task (no recording): exit 64"
like "$err" "has no recording" "... says so"

done_testing
