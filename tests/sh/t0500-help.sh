#!/bin/bash
# t0500-help: --help at every level, task NAME --help from the config, the
# man page printed from the same text as help, make install, and the
# README's command table against `help`.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

# Every command and subcommand `help` knows answers --help with exit 0,
# on stdout, naming itself in its usage line.
for c in "migrate up" "migrate status" "migrate plan" "migrate down" \
	"migrate create" "migrate baseline" "migrate resolve" \
	"history show" "history replay" "history export" \
	"completion bash" "completion zsh"; do
	# shellcheck disable=SC2086
	run_ep $c --help
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: entrypoint \[-c FILE\] $c( |$)" \
		"$c --help prints its own usage"
	is "$err" "" "$c --help writes nothing on stderr"
	# shellcheck disable=SC2086
	run_ep help $c
	is "$rc" 0 "help $c exits 0"
	like "$out" "^usage: entrypoint \[-c FILE\] $c( |$)" "help $c is the same"
done

run_ep migrate down 2 --help
like "$out" "^usage: entrypoint \[-c FILE\] migrate down" \
	"an argument before --help still finds the subcommand"
run_ep migrate status -h
like "$out" "^usage: entrypoint \[-c FILE\] migrate status" "-h works too"
run_ep migrate --help
like "$out" "^subcommands:" "migrate --help lists its subcommands"
like "$out" "^  status +[a-z]" "with their summaries"
run_ep history --help
like "$out" "^  show +everything about one run" "history --help lists show"

# A child's --help stays the child's.
run_ep run sh -c 'echo child-help' --help
is "$out" "child-help" "run CMD --help runs CMD"
run_ep task --help
like "$out" "^usage: entrypoint \[-c FILE\] task NAME" "task --help"

run_ep help migrate bogus
is "$rc" 64 "help for an unknown subcommand exits 64"
like "$err" 'no help for "migrate bogus"' "and names it"
run_ep help migrat
is "$rc" 64 "help for an unknown command exits 64"
like "$err" 'did you mean "migrate"' "and suggests the closest"

# task NAME --help: the task's own config, without its secrets.
write_ini "$T/app.ini" <<'INI'
[app]
require_env = SOME_SECRET

[task.backfill]
command = sh -c 'echo ran >"$T/ran"'
description = Fill the new column from the old one
dry_run = flag:--preview
confirm = yes
timeout = 90s
exclusive = yes

[task.report]
command = true
INI
run_ep -c "$T/app.ini" task backfill --help
is "$rc" 0 "task NAME --help exits 0 without require_env"
like "$out" "^usage: entrypoint \[-c FILE\] task backfill \[--dry-run\]" \
	"names the task in its usage"
like "$out" "^Fill the new column from the old one$" "prints the description"
like "$out" 'dry run: +--dry-run appends "--preview"' "the dry-run mode"
like "$out" "confirm: +yes" "the confirmation"
like "$out" "timeout: +90s" "the timeout"
like "$out" "exclusive: +yes" "the exclusivity"
like "$out" "app.ini:4" "where it is configured (the section's line)"
like "$out" "entrypoint task backfill --yes" "how to run it"
ok "and does not run it" test ! -e "$T/ran"
run_ep -c "$T/app.ini" task report --help
like "$out" "dry run: +not supported" "a task without dry run says so"
like "$out" "confirm: +no" "nor confirmation"
like "$out" "timeout: +none" "nor timeout"
unlike "$out" "--dry-run$" "and suggests no --dry-run"
run_ep -c "$T/app.ini" task nope --help
is "$rc" 64 "task UNKNOWN --help exits 64"

# The man page: printed from the help table, valid roff, every command.
run_ep help --man
is "$rc" 0 "help --man exits 0"
printf '%s\n' "$out" >"$T/entrypoint.1"
like "$out" '^\.TH ENTRYPOINT 1' "help --man is a man page"
warn=$(groff -man -ww -z "$T/entrypoint.1" 2>&1)
is "$warn" "" "groff reads it without a warning"
page=$(MANWIDTH=100 man -l "$T/entrypoint.1" 2>/dev/null | col -bx)
run_ep help
cmds=$(printf '%s\n' "$out" | sed -n '/^commands:/,/^$/p' | awk 'NF { print $1 }' | grep -v '^commands:')
missing=
for c in $cmds; do
	summary=$(printf '%s\n' "$out" | awk -v c="$c" '$1 == c { $1 = ""; sub(/^ +/, ""); print }')
	printf '%s\n' "$page" | tr -s ' \n' '  ' | grep -qF -- "$summary" ||
		missing="$missing $c"
done
is "$missing" "" "the man page has every command with help's summary"
like "$page" "migrate status \[--check\]" "and the subcommands"
like "$page" "127 +command not found" "and the exit codes"

# make install: the binary, the shell link next to it, the man page.
# The binary under test is installed; nothing is built (BUILD is ours).
if command -v make >/dev/null; then
	make -s -C "$SRCDIR" BUILD="$T/build" EP_INSTALL_BIN="$EP" \
		EP_MAN_BIN="$EP" install DESTDIR="$T/root" PREFIX=/usr \
		>"$T/install.log" 2>&1
	is "$?" 0 "make install succeeds"
	ok "installs the binary" test -x "$T/root/usr/bin/entrypoint"
	is "$(readlink "$T/root/usr/bin/shell")" entrypoint \
		"installs shell as a link to it, in the same directory"
	ok "installs the man page" test -s "$T/root/usr/share/man/man1/entrypoint.1"
	ok "which is the one help --man prints" \
		cmp -s "$T/root/usr/share/man/man1/entrypoint.1" "$T/entrypoint.1"
	# (under valgrind EP, and so the installed file, is a wrapper script)
	if [ "${EP_VALGRIND:-}" != 1 ]; then
		got=$(cd "$T" && "$T/root/usr/bin/shell" -c 'echo "$ENTRYPOINT_PROCESS"' 2>/dev/null)
		is "$got" shell "the installed link runs as entrypoint shell"
	fi
else
	skip "make install: no make"
fi

# The README's command table and `help` list the same commands.
readme=$(sed -n '/^## Commands/,/^## /p' "$SRCDIR/README.md" |
	grep '^| `' | cut -d'|' -f2 | grep -oE '`[a-z]+' | tr -d '`' | sort -u)
missing=
for c in $cmds; do
	printf '%s\n' "$readme" | grep -qx "$c" || missing="$missing $c"
done
is "$missing" "" "the README's command table has every command of help"
extra=
for c in $readme; do
	printf '%s\n' "$cmds" | grep -qx "$c" || extra="$extra $c"
done
is "$extra" "" "and no command help does not know"

done_testing
