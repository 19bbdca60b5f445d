#!/bin/bash
# t1600-record-config: the keys of issue 13 without a database: bad values
# of [app] keep_output, [shell] record and record_max are config errors
# (78, file:line, nothing run); record = required without a database
# refuses to start the shell; with nowhere to store anything, a task and a
# shell under a terminal (script(1)) keep entrypoint's own stdio: no pty,
# no pipe, no notice.
. "$SRCDIR/tests/sh/lib.sh"
command -v script >/dev/null || skip_all "no script(1)"
cd "$T" || exit 1
unset DATABASE_URL

bad() {
	# bad SECTION KEY VALUE WHY
	printf '[%s]\n%s = %s\n[task.t]\ncommand = touch %s/ran\n' \
		"$1" "$2" "$3" "$T" >bad.ini
	run_ep -c bad.ini task t
	is "$rc" 78 "$1 $2 = $3: exit 78"
	like "$err" "bad.ini:2: .*$2.*$4" "... file:line, key and why"
	ok "... nothing ran" test ! -e ran
}
bad app keep_output 12x "expected a size"
bad app keep_output 2G "expected a size"
bad app keep_output -1 "expected a size"
bad shell record maybe "expected yes, required or no"
bad shell record_max 8Q "expected a size"

printf '[app]\nkeep_output = 1M\n[shell]\nrecord = no\nrecord_max = 512k\n[task.t]\ncommand = true\n' >good.ini
run_ep -c good.ini task t
is "$rc" 0 "sizes with k and M are accepted"

# record = required and no database: refused, the shell never starts.
printf '[shell]\nrecord = required\ncommand = touch %s/shell.ran\n' "$T" >req.ini
script -qec "$EP -c req.ini shell; echo rc=\$?" /dev/null </dev/null >req.out 2>&1
ok "record = required without a database: exit 78" grep -q 'rc=78' req.out
ok "... says why" grep -q 'record = required: not starting' req.out
ok "... the shell never ran" test ! -e shell.ran

# Nowhere to store: the child's stdio is entrypoint's own.
printf '[shell]\ncommand = sh -c "readlink /proc/self/fd/0 >%s/child.fds; echo shell-ran"\n' "$T" >free.ini
script -qec "readlink /proc/self/fd/0 >ep.fds; $EP -c free.ini shell" /dev/null </dev/null >free.out 2>&1
ok "without a database the shell runs" grep -q shell-ran free.out
ok "... unrecorded, and not told so" eval '! grep -q "recorded as run" free.out'
is "$(cat child.fds 2>/dev/null)" "$(cat ep.fds)" \
	"... on the operator's own terminal (no pty in between)"

done_testing
