#!/bin/sh
# demo.sh - `make demo`: the whole story of entrypoint with the example app,
# on this machine, in about half a minute:
#
#   a throwaway PostgreSQL in demo/.run/ (ignored by git), migrate, web and
#   worker started under entrypoint, a bad import refused, a good one, the
#   tasks listed, a dry run and then the real deactivate-stale-users,
#   history, and a clean stop.
#
# `make demo` first runs `make deps` and builds build/entrypoint; EP picks
# another binary (EP=build/entrypoint-static sh demo/demo.sh).  The same
# commands work in the image: `podman run --rm IMAGE task ...`.
set -eu

cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
RUN=$SRCDIR/demo/.run
EP=${EP:-$SRCDIR/build/entrypoint}
# Debian's python3 (with psycopg2) runs the app, whatever else PATH has.
PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
PY=/usr/bin/python3
export PATH PYTHONDONTWRITEBYTECODE=1
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
WEB_PID=
WORKER_PID=

step() {
	if [ -t 1 ]; then
		printf '\n\033[1m==> %s\033[0m\n' "$*"
	else
		printf '\n==> %s\n' "$*"
	fi
}

show() {
	printf '$ %s\n' "$*"
}

die() {
	echo "demo: $*" >&2
	exit 1
}

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_stop() {
	if [ -f "$PGDATA/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -s stop || true
	fi
}

# On any failure: end what we started, by pid, and the database.
cleanup() {
	for p in $WEB_PID $WORKER_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $WEB_PID $WORKER_PID; do
		wait "$p" 2>/dev/null || true
	done
	pg_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$EP" ] || die "$EP not found: run make (or make demo)"
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server not found: run make deps"
"$PY" -c 'import psycopg2' 2>/dev/null ||
	die "python3-psycopg2 not found: run make deps"

# --- a throwaway database -------------------------------------------------
step "A throwaway PostgreSQL in demo/.run/ (unix socket only, fsync off)"
rm -rf "$RUN"
mkdir -p "$RUN"
PGDIR=$RUN/pg
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$RUN"; then
	# The postgres user cannot reach into this checkout (a home directory
	# of mode 700): keep the cluster in /tmp, linked from demo/.run/pg.
	PGDIR=$(mktemp -d /tmp/ep-demo-pg.XXXXXX)
	ln -s "$PGDIR" "$RUN/pg"
fi
mkdir -p "$PGDIR"
[ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
PGDATA=$PGDIR/data
as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync \
	>"$RUN/initdb.log" 2>&1 || { cat "$RUN/initdb.log"; die "initdb failed"; }
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -s -l "$PGDIR/server.log" \
	-o "-c fsync=off -c listen_addresses='' -c unix_socket_directories=$PGDIR" \
	start || die "PostgreSQL did not start (see $PGDIR/server.log)"
psql -X -q -h "$PGDIR" -U postgres -d postgres -c 'CREATE DATABASE demo'
DATABASE_URL="postgresql://postgres@/demo?host=$PGDIR"
export DATABASE_URL RELEASE=demo-1 ENTRYPOINT_ACTOR=demo
echo "DATABASE_URL=$DATABASE_URL"

# Every command below is `entrypoint COMMAND` with this repo's
# entrypoint.ini, exactly what `podman run --rm IMAGE COMMAND` runs.
ep() {
	show "entrypoint $*"
	"$EP" "$@"
}

step "Check the config, the environment and the database"
ep check
ep migrate status || true

step "Apply the migrations (one of them CREATE INDEX CONCURRENTLY)"
ep migrate
ep migrate status

# --- the long-running processes -------------------------------------------
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PORT
step "Start web (port $PORT) and worker, each supervised by entrypoint"
show "entrypoint web &    entrypoint worker &"
"$EP" web >"$RUN/web.log" 2>&1 &
WEB_PID=$!
WORKER_POLL_SECONDS=1 "$EP" worker >"$RUN/worker.log" 2>&1 &
WORKER_PID=$!
get() {
	"$PY" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.stdout.write(r.read().decode())' "http://127.0.0.1:$PORT$1" 2>/dev/null
}
i=0
until get /healthz >/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 200 ] || { cat "$RUN/web.log"; die "web did not come up"; }
	kill -0 "$WEB_PID" 2>/dev/null || { cat "$RUN/web.log"; die "web exited"; }
	sleep 0.1
done
show "curl http://127.0.0.1:$PORT/healthz"
get /healthz

# --- one-off tasks ----------------------------------------------------------
step "The tasks this release ships"
ep tasks

step "Import users from a CSV with mistakes: every bad row named, nothing imported"
printf 'email,name,last_login_at\nann@example.org,Ann,2021-05-01\nnot-an-email,Bob,\ncarl@example.org,,2024-02-30\n' \
	>"$RUN/bad.csv"
ep task import-users-csv -- "$RUN/bad.csv" || echo "(exit code $?)"

step "Import 1500 users (1200 of them last seen two years ago)"
"$PY" - "$RUN/users.csv" <<'EOF'
import datetime, sys
old = datetime.date.today() - datetime.timedelta(days=730)
recent = datetime.date.today() - datetime.timedelta(days=3)
with open(sys.argv[1], "w") as f:
    f.write("email,name,last_login_at\n")
    for i in range(1, 1501):
        f.write("user%d@example.org,User %d,%s\n" % (
            i, i, (old if i <= 1200 else recent).isoformat()))
EOF
ep task import-users-csv -- "$RUN/users.csv"
i=0
while [ "$(psql -X -A -t -h "$PGDIR" -U postgres -d demo -c \
	"SELECT count(*) FROM jobs WHERE status = 'queued'")" != 0 ]; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || die "the worker did not empty the queue"
	sleep 0.1
done
echo "the worker sent $(grep -c 'sent welcome mail' "$RUN/worker.log") welcome mails:"
grep 'sent welcome mail' "$RUN/worker.log" | tail -n 2

step "Dry run first: how many users would be deactivated?"
ep task deactivate-stale-users --dry-run

step "Without a terminal and without --yes, a confirm = yes task is refused"
ep task deactivate-stale-users </dev/null || echo "(exit code $?)"

step "The real run: batches of 500, one line each"
ep task deactivate-stale-users --yes

step "Safe to run twice"
ep task deactivate-stale-users --yes

step "The report"
ep task users-report
show "curl http://127.0.0.1:$PORT/"
get / | sed -n 's/.*<p>\(.*\)<\/p>.*/\1/p'

step "Who ran what, against which release (entrypoint's audit trail)"
ep history

# --- a clean stop -----------------------------------------------------------
step "A clean stop: TERM to each entrypoint, forwarded to the app"
show "kill -TERM $WEB_PID $WORKER_PID"
kill -TERM "$WEB_PID" "$WORKER_PID"
web_rc=0
wait "$WEB_PID" || web_rc=$?
worker_rc=0
wait "$WORKER_PID" || worker_rc=$?
WEB_PID=
WORKER_PID=
echo "web exited $web_rc, worker exited $worker_rc"
tail -n 2 "$RUN/web.log"
tail -n 2 "$RUN/worker.log"
pg_stop
echo
echo "Done.  Logs are in demo/.run/ (rm -rf demo/.run to remove them)."
[ "$web_rc" = 0 ] && [ "$worker_rc" = 0 ]
