#!/bin/bash
# t5040: a console in the release image is recorded (issue 13): `podman
# exec -it CONTAINER entrypoint shell` under a real pty (script(1)) says it
# is recorded; what was typed and printed comes back from `entrypoint
# history replay` and `history export` run in the container; the database
# password the session printed is masked there and in the database.
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
command -v script >/dev/null 2>&1 || skip_all "script(1) not found (bsdutils)"
ct_image
ct_pg_start
mapfile -t A < <(ct_app_args)
pw=$(sed -n 's|^postgresql://app:\([^@]*\)@.*|\1|p' "$URLFILE_CT")

ct_run -- migrate
is "$rc" 0 "migrate"
ct_name rec
c=$CT_NAME
"$ENGINE" run -d --name "$c" "${A[@]}" -e PORT="$(ct_free_port)" "$IMG" \
	>/dev/null
is "$?" 0 "a web container runs"
running() {
	[ "$(ct_state "$c" Running)" = true ]
}
ok "it is up" wait_for 30 running

# The console is python3 -i; answers carry a prefix their echo cannot match.
{
	echo 'import os'
	echo 'print("rec" + "-" + str(6 * 7))'
	echo 'print("url" + "=" + os.environ["DATABASE_URL"])'
	echo 'exit()'
} >"$T/console.in"
timeout 60 script -qec "$ENGINE exec -it $c entrypoint shell" /dev/null \
	<"$T/console.in" >"$T/console.out" 2>&1
is "$?" 0 "podman exec -it CONTAINER entrypoint shell exits 0"
console=$(tr -d '\r' <"$T/console.out")
like "$console" 'this session is recorded as run [0-9a-f-]{36}' \
	"the operator is told the session is recorded"
like "$console" '^rec-42' "the console ran"

id=$(ct_psql -c "SELECT id FROM entrypoint.runs WHERE command = 'shell'
	ORDER BY started_at DESC LIMIT 1")
ok "the session has its audit row" test -n "$id"
"$ENGINE" exec "$c" entrypoint history replay --instant "${id:0:8}" \
	>"$T/replay" 2>"$T/replay.err"
is "$?" 0 "history replay in the container"
like "$(tr -d '\r' <"$T/replay")" 'print\("rec" \+ "-" \+ str\(6 \* 7\)\)' \
	"the replay has what was typed"
like "$(tr -d '\r' <"$T/replay")" '^rec-42' "... and what it printed"
like "$(tr -d '\r' <"$T/replay")" '^url=postgresql://app:\*\*\*\*\*\*\*\*@' \
	"... with the database password masked"
ok "the password is nowhere in the replay" eval '! grep -qF "$pw" "$T/replay"'
"$ENGINE" exec "$c" entrypoint history export "$id" >"$T/cast" 2>/dev/null
is "$("$PY" -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
h = json.loads(lines[0])
ev = [json.loads(l) for l in lines[1:]]
print(h["version"], type(h["width"]).__name__,
      all(len(e) == 3 and e[1] in "oimr" for e in ev))' "$T/cast")" \
	"2 int True" "history export is asciicast v2"
is "$(ct_psql -c "SELECT count(*) FROM entrypoint.run_output
	WHERE strpos(recording, '$pw') > 0")" 0 \
	"the password is not in the database"

done_testing
