#!/bin/bash
# t2100-oneoff-hostile: nothing hangs, nothing runs where it should not.
#  - a *_FILE, env_file, release_file or config file that is a FIFO or a
#    device is refused at once (78), nothing runs;
#  - Ctrl-C at the confirmation prompt (a real pty: tmux) aborts with 130,
#    the task never runs;
#  - on_exit runs however the run ends (77, 78, 124, 127, 69 and the
#    child's own code) with ENTRYPOINT_EXIT_CODE and ENTRYPOINT_STATUS, and
#    as [app] user;
#  - user = gives the child that user's HOME, USER and LOGNAME (su-exec
#    sets HOME=/ for a uid without a passwd entry);
#  - a DRY_RUN=1 from outside never reaches a real run;
#  - a one-off child dies with an entrypoint killed by kill -9 (not PID 1).
# shellcheck disable=SC2016  # $VARS in single quotes are for the child
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
cd "$T" || exit 1

# start_ep OUT ARGS... : $EP in the background (stdin /dev/null); BG=pid.
start_ep() {
	local o=$1
	shift
	"$EP" "$@" >"$o.out" 2>"$o.err" </dev/null &
	BG=$!
	track "$BG"
}

# end_ep SECONDS : wait for $BG with a deadline; $rc (999: still running,
# then killed).
end_ep() {
	if wait_for "$1" eval '! kill -0 "$BG" 2>/dev/null'; then
		wait "$BG"
		rc=$?
	else
		kill -KILL "$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
		rc=999
	fi
}

# --- FIFOs and devices named by *_FILE, env_file, release_file ---------------
mkfifo "$T/fifo"
printf '[app]\nrelease_file = %s\n' "$T/fifo" >"$T/rel.ini"
printf '[app]\nenv_file = %s\n' "$T/fifo" >"$T/envf.ini"
: >"$T/plain.ini"

DB_PASSWORD_FILE=$T/fifo start_ep "$T/f1" -c "$T/plain.ini" run touch "$T/ran1"
end_ep 10
is "$rc" 78 "DB_PASSWORD_FILE naming a FIFO: refused at once, 78"
like "$(cat "$T/f1.err")" 'could not read DB_PASSWORD_FILE ".*/fifo": not a regular file \(a FIFO\)' \
	"and says why in one line"

start_ep "$T/f2" -c "$T/rel.ini" run touch "$T/ran2"
end_ep 10
is "$rc" 78 "release_file naming a FIFO: 78"
like "$(cat "$T/f2.err")" 'release_file ".*/fifo": not a regular file' "and says why"

start_ep "$T/f3" -c "$T/envf.ini" run touch "$T/ran3"
end_ep 10
is "$rc" 78 "env_file naming a FIFO: 78"
like "$(cat "$T/f3.err")" 'env_file ".*/fifo": not a regular file' "and says why"

API_TOKEN_FILE=/dev/zero start_ep "$T/f4" -c "$T/plain.ini" run touch "$T/ran4"
end_ep 10
is "$rc" 78 "API_TOKEN_FILE=/dev/zero: 78"
like "$(cat "$T/f4.err")" 'not a regular file \(a device\)' "a device is named as one"
ok "nothing ran for any of them" eval \
	'! ls "$T"/ran1 "$T"/ran2 "$T"/ran3 "$T"/ran4 2>/dev/null | grep -q .'

start_ep "$T/f5" -c "$T/fifo" run touch "$T/ran5"
end_ep 10
is "$rc" 78 "-c naming a FIFO: 78"
like "$(cat "$T/f5.err")" 'config file ".*/fifo": not a regular file \(a FIFO\)' "and says why"
ENTRYPOINT_CONFIG=$T/fifo start_ep "$T/f6" run touch "$T/ran6"
end_ep 10
is "$rc" 78 "ENTRYPOINT_CONFIG naming a FIFO: 78"
ok "nothing ran" eval '[ ! -e "$T/ran5" ] && [ ! -e "$T/ran6" ]'

# A regular file still works, through a symlink too (Kubernetes secrets).
printf 's3cr3t-value\n' >"$T/pw"
ln -s "$T/pw" "$T/pw.link"
DB_PASSWORD_FILE=$T/pw.link run_ep -c "$T/plain.ini" run sh -c 'printf %s "$DB_PASSWORD"'
is "$out" "s3cr3t-value" "a symlink to a regular file is read"

# --- DRY_RUN from outside ------------------------------------------------------
cat >"$T/dry.ini" <<'INI'
[task.show]
command = sh -c 'printf "[%s]" "$DRY_RUN"'
dry_run = env
INI
DRY_RUN=1 run_ep -c "$T/dry.ini" run sh -c 'printf "[%s]" "${DRY_RUN-unset}"'
is "$out" "[unset]" "run: an inherited DRY_RUN=1 does not reach the child"
DRY_RUN=1 run_ep -c "$T/dry.ini" task show
is "$out" "[]" "task without --dry-run: no DRY_RUN either"
DRY_RUN=1 run_ep -c "$T/dry.ini" task show --dry-run
is "$out" "[1]" "task --dry-run: DRY_RUN=1"

# --- user = : HOME, USER, LOGNAME ----------------------------------------------
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
	nobody_home=$(getent passwd nobody | cut -d: -f6)
	printf '[app]\nuser = nobody\n' >"$T/u1.ini"
	HOME=/root USER=root LOGNAME=root run_ep -c "$T/u1.ini" run \
		sh -c 'printf "%s|%s|%s" "$HOME" "$USER" "$LOGNAME"'
	is "$out" "$nobody_home|nobody|nobody" "user = nobody: HOME, USER, LOGNAME are nobody's"
	HOME=/root USER=root run_ep -c "$T/u1.ini" env
	is "$(printf '%s\n' "$out" | grep -E '^(HOME|USER)=' | sort | tr '\n' ' ')" \
		"HOME=$nobody_home USER=nobody " "and \`env\` shows what the child sees"
	printf '[app]\nuser = 4242:4343\n' >"$T/u2.ini"
	HOME=/root USER=root LOGNAME=root run_ep -c "$T/u2.ini" run \
		sh -c 'printf "%s|%s|%s" "$HOME" "${USER-unset}" "${LOGNAME-unset}"'
	is "$out" "/|unset|unset" "a uid without an entry: HOME=/, no USER/LOGNAME"
else
	skip "needs root and a nobody user"
	skip "needs root"
	skip "needs root"
fi

# --- on_exit: every outcome, with the outcome, as the user -------------------
# It writes where any user may: a sticky world-writable directory.
chmod 755 "$T"
mkdir -m 1777 "$T/pub"
OE=$T/pub/on-exit.sh
cat >"$OE" <<'SH'
#!/bin/sh
printf '%s %s %s\n' "$ENTRYPOINT_EXIT_CODE" "$ENTRYPOINT_STATUS" "$(id -u)" \
	>>"${0%/*}/oe"
SH
chmod 755 "$OE"
: >"$T/pub/oe"
chmod 666 "$T/pub/oe"
cat >"$T/oe-nodb.ini" <<INI
[app]
on_exit = $OE
[task.refuse]
command = touch $T/pub/refused-ran
confirm = yes
[task.slow]
command = sleep 100
timeout = 1s
[task.missing]
command = /nonexistent/command-$$
[task.excl]
command = true
exclusive = yes
[task.seven]
command = sh -c 'exit 7'
INI
# The same, with an audit that is required and a database that is not there.
cat "$T/oe-nodb.ini" - >"$T/oe.ini" <<INI
[database]
url = postgresql://nobody@127.0.0.1:1/none?connect_timeout=1
wait = 0s
audit = required
INI
last_oe() { tail -n 1 "$T/pub/oe" 2>/dev/null; }
run_ep -c "$T/oe-nodb.ini" task seven
is "$rc" 7 "a task exits 7"
is "$(last_oe)" "7 failed $(id -u)" "on_exit saw 7 failed"
run_ep -c "$T/oe-nodb.ini" task refuse
is "$rc" 77 "unconfirmed without a terminal: 77"
is "$(last_oe)" "77 refused $(id -u)" "on_exit ran after 77, with 77 refused"
ok "and the task did not run" test ! -e "$T/pub/refused-ran"
run_ep -c "$T/oe-nodb.ini" task slow
is "$rc" 124 "timeout: 124"
is "$(last_oe)" "124 timed_out $(id -u)" "on_exit ran after 124"
run_ep -c "$T/oe-nodb.ini" task missing
is "$rc" 127 "command not found: 127"
is "$(last_oe)" "127 failed $(id -u)" "on_exit ran after 127"
run_ep -c "$T/oe-nodb.ini" task excl
is "$rc" 78 "exclusive without a database: 78"
is "$(last_oe)" "78 failed $(id -u)" "on_exit ran after 78"
run_ep -c "$T/oe.ini" run true
is "$rc" 69 "audit = required and the database refuses: 69"
is "$(last_oe)" "69 failed $(id -u)" "on_exit ran after 69"

if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
	sed '/^\[app\]$/a user = nobody' "$T/oe-nodb.ini" >"$T/oe-user.ini"
	run_ep -c "$T/oe-user.ini" task seven
	is "$(last_oe)" "7 failed $(id -u nobody)" "on_exit runs as [app] user"
	run_ep -c "$T/oe-user.ini" task refuse
	is "$(last_oe)" "77 refused $(id -u nobody)" "also when the task never ran"
else
	skip "needs root"
	skip "needs root"
fi

# --- kill -9 of entrypoint: the one-off child goes too (not PID 1) -----------
for what in run task; do
	rm -f "$T/child.pid"
	printf '[task.hold]\ncommand = sh -c '"'"'echo $$$$ >%s; exec sleep 1000'"'"'\n' \
		"$T/child.pid" >"$T/hold.ini"
	if [ "$what" = run ]; then
		start_ep "$T/k" -c "$T/hold.ini" run sh -c "echo \$\$ >$T/child.pid; exec sleep 1000"
	else
		start_ep "$T/k" -c "$T/hold.ini" task hold
	fi
	ok "$what: the child started" wait_for 10 test -s "$T/child.pid"
	cp=$(cat "$T/child.pid")
	like "$cp" "^[0-9]+\$" "$what: the child wrote its pid"
	track "$cp"
	kill -KILL "$BG"
	wait "$BG" 2>/dev/null
	ok "$what: the child died with its entrypoint (kill -9)" \
		wait_for 10 eval '! kill -0 "$cp" 2>/dev/null'
done

# --- Ctrl-C at the confirmation prompt (a real terminal) ---------------------
if command -v tmux >/dev/null; then
	tmux_use ctrlc
	# The prompt and our messages go to a file: the pane closes with us.
	"${TM[@]}" new-session -d -x 120 -y 24 -s t \
		"$EP -c $T/oe-nodb.ini task refuse 2>$T/ctrlc.err; echo \$? >$T/rc"
	ok "the terminal is asked" \
		wait_for 10 log_has "$T/ctrlc.err" 'run task "refuse"'
	"${TM[@]}" send-keys -t t C-c
	ok "Ctrl-C at the prompt ends entrypoint" wait_for 10 test -s "$T/rc"
	is "$(cat "$T/rc" 2>/dev/null)" 130 "with 130"
	ok "and says so" log_has "$T/ctrlc.err" \
		'interrupted by SIGINT at the confirmation prompt; nothing was run'
	ok "the task never ran" test ! -e "$T/pub/refused-ran"
	is "$(last_oe)" "130 interrupted $(id -u)" "on_exit ran, with 130 interrupted"
else
	skip "no tmux"
fi

done_testing
