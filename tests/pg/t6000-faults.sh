#!/bin/bash
# t6000-faults: the binary under faults of its surroundings, on a real
# PostgreSQL.  Each fault must give a clear one-line message naming what
# failed, the documented exit code, no crash, and nothing half-done:
# - EMFILE: `run`, `task` and `migrate` under every `ulimit -n` below the
#   one they need;
# - ENOSPC: a migration filling a tablespace on a tiny tmpfs fails (65),
#   leaves nothing behind, and applies once there is room;
# - fork() fails (RLIMIT_NPROC as an unprivileged user): exit 71, nothing
#   left running, the audit row completed;
# - an unreadable config file, migrations directory, migration file (as an
#   unprivileged user, since root reads everything).
# shellcheck disable=SC2016  # $0 and $@ in single quotes are for bash -c
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
chmod 755 "$T"
export DATABASE_URL

q() {
	psql_q "$1"
}

# no_crash NAME: $rc and $err show an orderly exit (no signal, no
# sanitizer report).
no_crash() {
	if [ "$rc" -ge 128 ] ||
		printf '%s\n' "$err" | grep -Eq 'Sanitizer|runtime error:'; then
		fail "$1: no crash" "rc=$rc" "$err"
	else
		pass "$1: no crash"
	fi
}

# errors ERR: the lines of ERR that are not the run start/end events.
errors() {
	printf '%s\n' "$1" | grep -v -e ' run started ' -e ' run finished '
}

mkdir -p m
cat >m/0001_a.sql <<'SQL'
CREATE TABLE fault_a (id int);
SQL
# ep.ini: audit required, so that every one-off run needs its row
cat >ep.ini <<INI
[database]
url = \${DATABASE_URL}
wait = 5s
migrations = m
audit = required

[process.web]
command = touch $T/ran.web

[task.t]
command = touch $T/ran.task
INI

# --- EMFILE: every ulimit -n below what each command needs ---------------
# Raise the limit from 3 until the command succeeds; every lower value must
# fail cleanly.  Below 3 a shell cannot even exec with stdio; a dynamically
# linked build fails in the loader (exit 127 from ld.so, not ours) until
# its libraries open, so those levels are skipped.
# emfile_scan NAME CHECK_SUCCESS CMD...
emfile_scan() {
	local name=$1 check=$2 n lim=0 first=
	shift 2
	for ((n = 3; n <= 32; n++)); do
		rm -f "$T/ran.task" "$T/ran.web"
		# shellcheck disable=SC2034  # out is kept for debugging
		out=$( (ulimit -n "$n" && exec "$EP" "$@") 2>"$T/emfile.err" </dev/null)
		rc=$?
		err=$(cat "$T/emfile.err")
		if printf '%s' "$err" | grep -q 'error while loading shared'; then
			continue
		fi
		if [ "$rc" = 0 ]; then
			lim=$n
			break
		fi
		[ -n "$first" ] || first=$n
		no_crash "$name, ulimit -n $n"
		like "$err" 'Too many open files|No file descriptors available' \
			"$name, ulimit -n $n: says why (EMFILE)"
		is "$(errors "$err" | wc -l)" 1 "$name, ulimit -n $n: one line"
		case $err in
		*"could not read config file"*)
			like "$err" '"ep.ini"' "$name, ulimit -n $n: names the file"
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error)"
			;;
		*"could not read migration file"*)
			# (an ASan build holds one more descriptor here)
			like "$err" '"m/0001_a.sql"' "$name, ulimit -n $n: names the file"
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error)"
			;;
		*"cannot open migrations directory"*)
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error)"
			;;
		*"could not set up signal handling"*)
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error)"
			;;
		*"could not create socket"*)
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error), not a config error"
			;;
		*)
			like "$err" "could not start \"(true|touch)\": Too many" \
				"$name, ulimit -n $n: could not start ...: Too many open files"
			is "$rc" 71 "$name, ulimit -n $n: exit 71 (OS error)"
			;;
		esac
		is "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'fault_a'")" \
			0 "$name, ulimit -n $n: nothing applied"
		ok "$name, ulimit -n $n: nothing ran" test ! -e "$T/ran.task"
	done
	if [ "$lim" -gt 0 ]; then
		pass "$name: succeeds from ulimit -n $lim (fails from ${first:-none} below)"
		$check
	else
		fail "$name: never succeeded up to ulimit -n 32"
	fi
	echo "# $name needs $lim file descriptors"
}

no_running_rows() {
	is "$(q "SELECT count(*) FROM entrypoint.runs WHERE status = 'running'")" 0 \
		"no audit row left running"
}
ran_task() {
	ok "task ran once there were enough descriptors" test -e "$T/ran.task"
	no_running_rows
}
applied_a() {
	is "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'fault_a'")" 1 \
		"migrate applied 0001_a once there were enough descriptors"
}

emfile_scan "run" no_running_rows -c ep.ini run true
emfile_scan "task" ran_task -c ep.ini task t
emfile_scan "migrate" applied_a -c ep.ini migrate

# --- ENOSPC: a migration filling a tablespace on a tiny tmpfs -------------
TINY=$T/tiny
_t6000_cleanup() {
	if [ -n "${TINY_MOUNTED:-}" ]; then
		# PostgreSQL holds files of the tablespace open: stop it first.
		pg_stop immediate
		umount "$TINY" 2>/dev/null || umount -l "$TINY" 2>/dev/null
	fi
	_pg_cleanup
}
trap _t6000_cleanup EXIT
mkdir -p "$TINY"
if [ "$(id -u)" != 0 ]; then
	skip "ENOSPC: needs root to mount a tmpfs"
elif ! mount -t tmpfs -o size=1m,mode=700 ep-t6000 "$TINY" 2>"$T/mount.err"; then
	skip "ENOSPC: cannot mount a tmpfs here: $(head -n 1 "$T/mount.err")"
else
	TINY_MOUNTED=1
	chown postgres "$TINY" 2>/dev/null || chown "$(id -un)" "$TINY"
	q "CREATE TABLESPACE tiny LOCATION '$TINY'" >/dev/null
	cat >m/0002_big.sql <<'SQL'
CREATE TABLE fault_big (id int, pad text) TABLESPACE tiny;
INSERT INTO fault_big SELECT g, repeat('x', 200) FROM generate_series(1, 30000) g;
SQL
	cat >m/0003_after.sql <<'SQL'
CREATE TABLE fault_after (id int);
SQL
	run_ep -c ep.ini migrate
	is "$rc" 65 "ENOSPC: migrate exits 65"
	no_crash "ENOSPC"
	like "$err" 'm/0002_big.sql:2: could not apply 0002_big: could not extend file .*No space left on device' \
		"ENOSPC: the error names the file, line, migration and the server's reason"
	is "$(q "SELECT string_agg(version::text, ',' ORDER BY version) FROM entrypoint.migrations")" \
		1 "ENOSPC: the failed migration is not recorded (nor any later one)"
	is "$(q "SELECT count(*) FROM pg_tables WHERE tablename IN ('fault_big', 'fault_after')")" \
		0 "ENOSPC: nothing of it (nor of the next one) is left"
	run_ep -c ep.ini migrate status
	like "$out" 'pending.*0002_big' "ENOSPC: status shows it pending, not dirty"
	if mount -o remount,size=64m "$TINY"; then
		run_ep -c ep.ini migrate
		is "$rc" 0 "ENOSPC: with room again, migrate applies it"
		is "$(q "SELECT count(*) FROM fault_big")" 30000 \
			"ENOSPC: all of its rows, once"
		is "$(q "SELECT string_agg(version::text, ',' ORDER BY version) FROM entrypoint.migrations")" \
			1,2,3 "ENOSPC: then recorded with the one after it"
	else
		fail "ENOSPC: remount with room"
	fi
fi

# --- as an unprivileged user ----------------------------------------------
NB=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
	! id nobody >/dev/null 2>&1; then
	skip "unprivileged runs: need root, setpriv and the nobody user"
	done_testing
	exit
fi
if ! "${NB[@]}" test -x "$EP"; then
	skip "unprivileged runs: nobody cannot execute $EP"
	done_testing
	exit
fi
chmod 644 ep.ini
chmod 755 m
chmod 644 m/*
nb_ep() {
	local e=$T/.nb.err
	out=$("${NB[@]}" "$EP" "$@" 2>"$e" </dev/null)
	rc=$?
	err=$(cat "$e")
}
# Processes of nobody that are ours (the binary, or anything naming $T).
nobody_procs() {
	pgrep -c -u nobody -f -- "$EP|$T"
}
runs_count() {
	q "SELECT count(*) FROM entrypoint.runs"
}

# --- fork() fails: RLIMIT_NPROC at the count of the user's processes -----
# Root ignores RLIMIT_NPROC; nobody with `ulimit -u 1` is at its limit as
# soon as it exists, so our fork() gets EAGAIN.
for c in "run true" "task t" "web"; do
	rm -f "$T/ran.task" "$T/ran.web"
	before=$(runs_count)
	# shellcheck disable=SC2086  # $c is the command and its arguments
	out=$("${NB[@]}" bash -c 'ulimit -u 1 && exec "$0" "$@"' "$EP" -c ep.ini $c \
		2>"$T/fork.err" </dev/null)
	rc=$?
	err=$(cat "$T/fork.err")
	no_crash "fork fails, $c"
	like "$err" "could not start \"(true|touch)\": Resource temporarily unavailable" \
		"fork fails, $c: could not start ...: Resource temporarily unavailable"
	is "$rc" 71 "fork fails, $c: exit 71"
	is "$(errors "$err" | wc -l)" 1 "fork fails, $c: one line"
	ok "fork fails, $c: nothing ran" test ! -e "$T/ran.task" -a ! -e "$T/ran.web"
	is "$(nobody_procs)" 0 "fork fails, $c: nothing left running"
	if [ "$c" != web ]; then
		is "$(runs_count)" $((before + 1)) "fork fails, $c: one audit row"
		is "$(q "SELECT status || ' ' || actor FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")" \
			"failed nobody" "fork fails, $c: recorded as failed"
	fi
done
no_running_rows
out=$("${NB[@]}" bash -c 'ulimit -u 1 && exec "$0" "$@"' "$EP" -c ep.ini \
	migrate status 2>"$T/fork.err" </dev/null)
is "$?" 0 "fork fails: migrate status does not need to fork"

# --- unreadable config file ----------------------------------------------
cp ep.ini secret.ini
chmod 600 secret.ini
before=$(runs_count)
nb_ep -c secret.ini task t
is "$rc" 78 "unreadable config: exit 78"
is "$err" 'entrypoint: task: could not read config file "secret.ini": Permission denied' \
	"unreadable config: one line with the path and the reason"
ok "unreadable config: nothing ran" test ! -e "$T/ran.task"
is "$(runs_count)" "$before" "unreadable config: nothing recorded"
ENTRYPOINT_CONFIG=$T/secret.ini nb_ep migrate
is "$rc" 78 "unreadable \$ENTRYPOINT_CONFIG: exit 78"
like "$err" "could not read config file \"$T/secret.ini\": Permission denied" \
	"unreadable \$ENTRYPOINT_CONFIG: names the path"

# --- unreadable migrations directory and file -----------------------------
mkdir -p hid/m
cat >hid/m/0001_h.sql <<'SQL'
CREATE TABLE fault_hidden (id int);
SQL
chmod 700 hid/m
# its own schema: the migrations of m/ are applied in entrypoint
sed -e 's|^migrations = m$|migrations = hid/m|' -e '/^audit/a schema = hidden' \
	ep.ini >hid.ini
chmod 644 hid.ini
hidden_tables() {
	# (the audit trail's own runs table records the failed runs)
	q "SELECT count(*) FROM pg_tables WHERE (schemaname = 'hidden' AND tablename <> 'runs') OR tablename = 'fault_hidden'"
}
applied=$(hidden_tables)
for c in "migrate" "migrate status" "migrate plan"; do
	# shellcheck disable=SC2086  # $c is the command and its arguments
	nb_ep -c hid.ini $c
	is "$rc" 78 "unreadable migrations dir, $c: exit 78"
	like "$err" '^entrypoint: migrate: cannot open migrations directory "hid/m": Permission denied$' \
		"unreadable migrations dir, $c: one line with the path and the reason"
done
nb_ep -c hid.ini check
is "$rc" 78 "unreadable migrations dir, check: exit 78"
like "$out" 'cannot open migrations directory "hid/m": Permission denied' \
	"unreadable migrations dir, check: names the path"
is "$(hidden_tables)" "$applied" \
	"unreadable migrations dir: nothing created or recorded"
chmod 755 hid/m
chmod 600 hid/m/0001_h.sql
nb_ep -c hid.ini migrate
is "$rc" 65 "unreadable migration file: exit 65"
is "$(errors "$err")" 'entrypoint: migrate: could not read migration file "hid/m/0001_h.sql": Permission denied' \
	"unreadable migration file: one line with the path and the reason"
is "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'fault_hidden'")" 0 \
	"unreadable migration file: nothing applied"
chmod 644 hid/m/0001_h.sql
nb_ep -c hid.ini migrate
is "$rc" 0 "readable again: migrate applies it"

done_testing
