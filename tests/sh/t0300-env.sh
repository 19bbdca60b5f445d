#!/bin/bash
# t0300-env: `env` prints exactly what every child gets, secrets masked.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1
# Under valgrind (make valgrind) the program's own environment carries
# valgrind's LD_PRELOAD, which valgrind removes again for the children.
[ -z "${EP_VALGRIND:-}" ] || skip_all "valgrind changes the environment env prints"

printf 'FROM_FILE=envfile\nPORT=9999\n' >"$T/.env"
printf 's3cr3t-from-file\n' >"$T/dbpass"
cat >"$T/ep.ini" <<INI
[app]
name = demo
release = r42
env_file = $T/.env

[env]
PORT = 8080
GREETING = hello \${USER_NAME:-nobody}

[process.web]
command = env
[process.worker]
command = env
[shell]
command = env
[task.show]
command = env
INI

clean_env=(env -i PATH="$PATH" HOME="$T" USER_NAME=ada PORT=7000
	DB_PASSWORD_FILE="$T/dbpass" "$EP" -c "$T/ep.ini")
per_run='^(ENTRYPOINT_PROCESS|ENTRYPOINT_TASK|ENTRYPOINT_RUN_ID|DRY_RUN)='

"${clean_env[@]}" env >"$T/env.out"
is "$?" 0 "env exits 0"
sort "$T/env.out" >"$T/env.sorted"

for c in web worker shell "task show" "run env"; do
	# shellcheck disable=SC2086
	"${clean_env[@]}" $c >"$T/child.out" 2>"$T/child.err" </dev/null
	grep -Ev "$per_run" "$T/child.out" | sed 's/^DB_PASSWORD=.*/DB_PASSWORD=********/' |
		sort >"$T/child.sorted"
	if diff -u "$T/env.sorted" "$T/child.sorted" >"$T/diff"; then
		pass "env matches what '$c' sees"
	else
		fail "env matches what '$c' sees" "$(cat "$T/diff")"
	fi
done

env_out=$(cat "$T/env.out")
like "$env_out" "^PORT=7000$" "the real environment is never overridden"
like "$env_out" "^FROM_FILE=envfile$" "env_file fills what is unset"
like "$env_out" "^GREETING=hello ada$" "[env] values expand \${VAR:-default}"
like "$env_out" "^ENTRYPOINT_RELEASE=r42$" "ENTRYPOINT_RELEASE is set"
like "$env_out" "^DB_PASSWORD=\*+$" "a *_FILE secret is masked in env"
unlike "$env_out" "s3cr3t-from-file" "the secret itself is never printed"

"${clean_env[@]}" run sh -c 'printf %s "$DB_PASSWORD"' >"$T/pw"
is "$(cat "$T/pw")" "s3cr3t-from-file" "the child gets the real *_FILE value, newline trimmed"

"${clean_env[@]}" task show >"$T/task.out"
like "$(cat "$T/task.out")" "^ENTRYPOINT_TASK=show$" "tasks get ENTRYPOINT_TASK"
like "$(cat "$T/task.out")" "^ENTRYPOINT_PROCESS=task$" "and ENTRYPOINT_PROCESS=task"

# require_env blocks what starts something, not what only lists.
cat >"$T/req.ini" <<'INI'
[app]
require_env = NEEDED_SECRET
[task.hello]
command = echo hello
description = Says hello
INI
env -i PATH="$PATH" "$EP" -c "$T/req.ini" tasks >"$T/req.out" 2>"$T/req.err"
is "$?" 0 "tasks works while a required variable is missing"
like "$(cat "$T/req.out")" "^hello +Says hello" "and lists the tasks"
env -i PATH="$PATH" "$EP" -c "$T/req.ini" task hello >"$T/req.out" 2>"$T/req.err"
is "$?" 78 "a task does not run while a required variable is missing"
like "$(cat "$T/req.err")" "req.ini:2: missing required environment variable \(require_env\): NEEDED_SECRET" \
	"and the message names file:line and the variable"
is "$(cat "$T/req.out")" "" "and nothing ran"
env -i PATH="$PATH" NEEDED_SECRET_FILE="$T/dbpass" "$EP" -c "$T/req.ini" \
	task hello >"$T/req.out" 2>/dev/null
is "$(cat "$T/req.out")" "hello" "a *_FILE meets require_env"

done_testing
