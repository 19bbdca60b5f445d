#!/bin/bash
# t0520-multicall: the binary started as `shell` (a link, or a copy, in any
# directory) is `entrypoint shell`; under any other name it is entrypoint.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1
# Under valgrind EP is a wrapper script: a link to it runs the binary
# under the binary's own name.
[ "${EP_VALGRIND:-}" = 1 ] && skip_all "EP is valgrind's wrapper script"

mkdir -p "$T/bin" "$T/other" "$T/app"
ln -s "$EP" "$T/bin/shell"
cp "$EP" "$T/other/tool"
ln -s "$EP" "$T/other/shellx"

write_ini "$T/app/entrypoint.ini" <<'INI'
[app]
name = myapp
release = r42

[env]
FROM_CONFIG = yes

[shell]
command = sh -c 'echo "shell:$ENTRYPOINT_PROCESS:$FROM_CONFIG:$ENTRYPOINT_RELEASE:$*"' sh
INI

cd "$T/app" || exit 1
out=$("$T/bin/shell" a b 2>"$T/err")
rc=$?
is "$rc" 0 "shell (a link) exits 0"
is "$out" "shell:shell:yes:r42:a b" \
	"runs [shell] command with the app's environment and the arguments"
like "$(cat "$T/err")" "entrypoint: shell: run started .*command=shell" \
	"and audits it as a shell run"
out=$("$EP" shell a b 2>/dev/null)
is "$out" "shell:shell:yes:r42:a b" "exactly as entrypoint shell does"

out=$(PATH="$T/bin:$PATH" shell x 2>/dev/null)
is "$out" "shell:shell:yes:r42:x" "found on PATH as shell"

out=$(ENTRYPOINT_CONFIG="$T/app/entrypoint.ini" && export ENTRYPOINT_CONFIG &&
	cd "$T" && "$T/bin/shell" 2>/dev/null)
is "$out" "shell:shell:yes:r42:" "the same config lookup (ENTRYPOINT_CONFIG)"

# Its options are the shell's: -c is not entrypoint's -c FILE.
write_ini "$T/app/sh.ini" <<'INI'
INI
out=$(ENTRYPOINT_CONFIG="$T/app/sh.ini" "$T/bin/shell" -c 'echo from-sh' 2>/dev/null)
is "$out" "from-sh" "shell -c CMD goes to the shell (default /bin/sh)"

"$T/bin/shell" --help >"$T/help" 2>&1
like "$(cat "$T/help")" "^usage: entrypoint \[-c FILE\] shell" \
	"shell --help is entrypoint shell --help"

# Any other name: entrypoint as today.
out=$("$T/other/tool" version)
like "$out" "^entrypoint [0-9]" "a copy under another name is entrypoint"
out=$("$T/other/shellx" version)
like "$out" "^entrypoint [0-9]" "a name that only starts with shell too"
"$T/other/tool" a b >/dev/null 2>"$T/err"
is "$?" 64 "and its first argument is a command (64 when unknown)"

done_testing
