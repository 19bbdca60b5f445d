#!/bin/bash
# t0000-cli: help, version, bad options and unknown commands.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

run_ep --help
is "$rc" 0 "--help exits 0"
like "$out" "^usage: entrypoint" "--help prints usage on stdout"
like "$out" "^  78 +config" "--help lists the exit codes"
is "$err" "" "--help writes nothing on stderr"

run_ep help
is "$rc" 0 "help exits 0"
like "$out" "migrate +apply or inspect" "help lists the commands"

run_ep --version
is "$rc" 0 "--version exits 0"
like "$out" "^entrypoint [0-9]+\.[0-9]+\.[0-9]+ " "--version prints the version"
run_ep version
like "$out" "^entrypoint [0-9]" "version prints the version"
run_ep version extra
is "$rc" 64 "version with an argument exits 64"

for c in web worker migrate task tasks shell run history check env; do
	run_ep "$c" --help
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: entrypoint \[-c FILE\] $c" "$c --help prints its usage"
done

run_ep
is "$rc" 64 "no command exits 64"
like "$err" "^usage:" "no command prints usage on stderr"
is "$out" "" "no command prints nothing on stdout"

run_ep --bogus
is "$rc" 64 "an unknown option exits 64"
like "$err" 'unrecognized option "--bogus"' "and names it"

run_ep -c
is "$rc" 64 "-c without a file exits 64"

run_ep migrat
is "$rc" 64 "an unknown command exits 64"
like "$err" 'unrecognized command "migrat"; did you mean "migrate"\?' \
	"and suggests the closest command"
is "$(printf '%s\n' "$err" | wc -l)" 1 "the error is one line"

run_ep frobnicate
is "$rc" 64 "a command far from any exits 64"
unlike "$err" "did you mean" "and suggests nothing"
like "$err" "entrypoint run CMD" "and points at run"

run_ep run
is "$rc" 64 "run without a command exits 64"

run_ep -c "$T/missing.ini" env
is "$rc" 78 "a named config file that does not exist exits 78"
like "$err" "missing.ini" "and names the file"

ENTRYPOINT_CONFIG=$T/missing2.ini run_ep env
is "$rc" 78 "\$ENTRYPOINT_CONFIG naming a missing file exits 78"

# A missing ./entrypoint.ini is fine: run works without any config.
run_ep run true
is "$rc" 0 "run works without an entrypoint.ini"

# The web command needs a [process.web].
run_ep web
is "$rc" 78 "web without [process.web] exits 78"
like "$err" "no \[process.web\]" "and says so"

# stdout errors are reported (a full disk, /dev/full).
"$EP" help >/dev/full 2>"$T/full.err"
rc=$?
is "$rc" 71 "help to a full device exits 71"
like "$(cat "$T/full.err")" "could not write to standard output" \
	"and says why"

done_testing
