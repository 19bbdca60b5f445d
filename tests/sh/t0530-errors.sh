#!/bin/bash
# t0530-errors: errors that name the real cause.  A script whose #!
# interpreter is missing names the interpreter (bash: "required file not
# found", 127); a directory given as a command says so (126, as bash);
# release = $RELEASE (no braces) is refused, never recorded literally.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

printf '#!/nonexistent/bin/python9 -u\nprint(1)\n' >"$T/script.py"
chmod +x "$T/script.py"
printf '#!\n' >"$T/empty-shebang"
chmod +x "$T/empty-shebang"
mkdir "$T/adir"

# Under valgrind a child whose execve() fails on a missing #! interpreter
# dies inside valgrind (101) before it can tell us why (see mk/fuzz.mk).
if [ "${EP_VALGRIND:-}" != 1 ]; then
	run_ep run "$T/script.py"
	is "$rc" 127 "a script with a missing interpreter exits 127"
	like "$err" "interpreter \"/nonexistent/bin/python9\"" "and names the interpreter"
	unlike "$err" "command not found" "not \"command not found\""
	run_ep run "$T/empty-shebang"
	like "$err" "names no interpreter" "an empty #! line says so"
else
	skip "missing #! interpreter: valgrind shows through"
fi

run_ep run "$T/adir"
is "$rc" 126 "a directory as the command exits 126"
like "$err" "\"$T/adir\": is a directory" "and says it is a directory"

run_ep run "$T/nothing-here"
is "$rc" 127 "a missing command still exits 127"
like "$err" "command not found" "saying command not found"

write_ini "$T/task.ini" <<INI
[task.t]
command = $T/script.py
INI
if [ "${EP_VALGRIND:-}" != 1 ]; then
	run_ep -c "$T/task.ini" task t
	is "$rc" 127 "a task with a missing interpreter exits 127"
	like "$err" "python9" "naming the interpreter"
fi

# release = $RELEASE
for v in '$RELEASE' 'v-$RELEASE' '${RELEASE}-$BUILD'; do
	printf '[app]\nrelease = %s\n' "$v" >"$T/rel.ini"
	RELEASE=v1 BUILD=7 run_ep -c "$T/rel.ini" run true
	is "$rc" 78 "release = $v is refused (78)"
	like "$err" "rel.ini:2: invalid release .*write \\\$\{(RELEASE|BUILD)\}" \
		"naming file:line and what to write"
done
# shellcheck disable=SC2016
printf '[app]\nrelease = ${RELEASE}-a$$b\n' >"$T/rel.ini"
out=$(RELEASE=v1 "$EP" -c "$T/rel.ini" run sh -c 'echo "$ENTRYPOINT_RELEASE"' 2>/dev/null)
is "$out" 'v1-a$b' "\${RELEASE} and \$\$ still work"

done_testing
