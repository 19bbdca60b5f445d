#!/bin/bash
# t0400-escape: no value can forge or garble a log line, and nothing the
# user typed shows a secret: control characters and bytes that are not
# UTF-8 in argv (start line, "could not run"), JSON logs that are valid
# UTF-8 and cut on a character boundary, usage errors of every command
# masked, "--password S", long and *_PASS names.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

cat >text.ini <<'INI'
[database]
audit = off

[task.t]
command = true
INI
cat >json.ini <<'INI'
[app]
log_format = json

[database]
audit = off
INI

# every_line_ours FILE: each line of FILE starts with "entrypoint: "
every_line_ours() {
	! grep -vq '^entrypoint: ' "$1"
}
# no_raw_controls FILE: no byte below 0x20 but LF, no DEL, no C1 (UTF-8)
no_raw_controls() {
	! LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177]')" "$1" &&
		! LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$1"
}
# valid_json_lines FILE: strict UTF-8, and each line one JSON object
valid_json_lines() {
	python3 - "$1" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")          # raises on invalid UTF-8
for line in text.splitlines():
    assert isinstance(json.loads(line), dict), line
PY
}

# --- text logs ---------------------------------------------------------
evil=$(printf 'no\033[31mred\a\b\r\nentrypoint: run: run finished status=succeeded\302\233x\377')
"$EP" -c text.ini run "$evil" 2>err1 >/dev/null
is "$?" 127 "a command named with control characters: 127"
ok "every stderr line is ours: no value starts a line" every_line_ours err1
ok "no raw control character (ESC BEL BS CR C1) reaches the terminal" no_raw_controls err1
like "$(cat err1)" 'could not run "no\\x1b\[31mred\\x07\\x08\\r\\nentrypoint: run: run finished status=succeeded\\u009bx\\xff"' \
	"could not run: the name escaped, \\xNN for the rest"
is "$(grep -c '^entrypoint: run: run finished' err1)" 1 "one real 'run finished' line, no forged one"

# --- JSON logs ---------------------------------------------------------
"$EP" -c json.ini run "$evil" 2>err2 >/dev/null
ok "JSON logs with controls and invalid bytes: valid UTF-8, one object a line" \
	valid_json_lines err2
like "$(cat err2)" '\\\\xff' "an invalid byte is written as \\xff (backslash escaped)"
long=$(printf 'é%.0s' $(seq 1 3000))
"$EP" -c json.ini run true "$long" "$(printf 'x\377')" 2>err3 >/dev/null
is "$?" 0 "a run with a 6000-byte argument"
ok "JSON logs with a long multi-byte value: still valid (cut on a character)" \
	valid_json_lines err3
"$EP" -c text.ini run true "$long" 2>err4 >/dev/null
ok "text logs with a long multi-byte value: valid UTF-8" \
	python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' err4

# --- usage errors and "could not run" never show a secret ---------------
S=Us4geS3cret
check_masked() {
	local name=$1 want=$2
	shift 2
	run_ep -c text.ini "$@"
	is "$rc" "$want" "$name: exit $want"
	unlike "$err" "$S" "$name: the secret is masked"
}
check_masked "task t --db-password=S" 64 task t "--db-password=$S"
check_masked "task --password=S" 64 task "--password=$S"
check_masked "run --password=S" 127 run "--password=$S"
check_masked "history --token=S" 64 history "--token=$S"
check_masked "migrate --password=S" 64 migrate "--password=$S"
check_masked "entrypoint --password=S" 64 "--password=$S"
check_masked "version --api-key=S" 64 version "--api-key=$S"
check_masked "env --secret=S" 64 env "--secret=$S"
check_masked "run sh with a URL" 0 run sh -c : "postgres://u:$S@h/db"
check_masked "run with --password S (space)" 0 run true --password "$S"
like "$err" 'argv="true --password \*{8}"' "--password S: the next argument is masked"
check_masked "run with password=S conninfo" 0 run true "host=h password='$S x'"
check_masked "run with a %-encoded keyword" 0 run true "postgres://h/db?pass%77ord=$S"

# --- names: long, *_PASS -------------------------------------------------
longname=$(printf 'A%.0s' $(seq 1 300))_PASSWORD
out=$(env "$longname=$S" SMTP_PASS="$S" DB_PASS="$S" PGPASS="$S" \
	"$EP" -c text.ini env 2>&1)
unlike "$out" "$S" "env: a 300-byte *_PASSWORD name and *_PASS names are masked"
like "$out" "${longname}=\\*{8}" "env: the long name is shown, its value masked"
like "$out" "SMTP_PASS=\\*{8}" "env: SMTP_PASS masked"

done_testing
