# shellcheck shell=bash
# lib-pg.sh - a throwaway PostgreSQL cluster for the pg suites.
#
#	. "$SRCDIR/tests/sh/lib.sh"
#	. "$SRCDIR/tests/pg/lib-pg.sh"
#	pg_start			# or the whole file is skipped (1..0 # SKIP)
#	psql_q 'SELECT 1'		# one query, unaligned, no headers
#	pg_stop [fast|immediate]	# stop (the exit trap also does this)
#	pg_start			# start the same cluster again
#
# pg_start runs initdb once per suite in a temporary directory (fsync=off),
# with the unix socket in that directory and TCP on 127.0.0.1 at a free
# port.  Local (socket) connections are trusted; TCP connections need a
# password (scram-sha-256), so a suite can test authentication failures:
# ALTER ROLE postgres PASSWORD '...' and connect with $PG_TCP_URL.
# Exported after pg_start:
#	PGHOST PGPORT PGUSER PGDATABASE	for psql and libpq
#	DATABASE_URL			postgresql:///postgres?host=...&port=...
#	PG_TCP_URL			the same over 127.0.0.1 (no password)
#	PGDIR PGDATA PG_LOG		cluster directory, data, server log
#	PG_BIN				directory of initdb, pg_ctl, postgres
#	PG_PID				the postmaster's pid
# initdb refuses to run as root, so as root the server runs as the
# `postgres` user (from the Debian package), else as the current user.
# The cluster is stopped by pid and removed when the test exits.

if ! declare -F ok >/dev/null; then
	# shellcheck source=tests/sh/lib.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../sh/lib.sh"
fi

_pg_find_bin() {
	local d
	for d in "${PG_BIN:-}" "$(pg_config --bindir 2>/dev/null)" \
		/usr/lib/postgresql/*/bin; do
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# Run a command as the cluster's owner.
pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$_pg_owner" -- "$@"
	else
		"$@"
	fi
}

_pg_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_pg_init() {
	PG_BIN=$(_pg_find_bin) || skip_all "initdb not found (install postgresql)"
	_pg_owner=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 ||
			skip_all "running as root and no postgres user"
		_pg_owner=postgres
	fi
	PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/ep-pg.XXXXXX")
	PGDATA=$PGDIR/data
	PG_LOG=$PGDIR/server.log
	chmod 755 "$PGDIR"
	[ "$(id -u)" = 0 ] && chown "$_pg_owner" "$PGDIR"
	if ! pg_as_owner "$PG_BIN/initdb" -D "$PGDATA" -U postgres -N \
		-E UTF8 --locale=C --auth-local=trust \
		--auth-host=scram-sha-256 >"$PGDIR/initdb.log" 2>&1; then
		cat "$PGDIR/initdb.log" >&2
		echo "Bail out! initdb failed"
		exit 1
	fi
	local port i
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 30000))
		_pg_port_free "$port" && break
	done
	cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PGDIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
shared_buffers = 32MB
log_min_messages = warning
log_connections = off
log_line_prefix = '%m [%p] %a: '
EOF
	PGHOST=$PGDIR
	PGPORT=$port
	PGUSER=postgres
	PGDATABASE=postgres
	DATABASE_URL="postgresql:///postgres?host=$PGDIR&port=$port&user=postgres"
	PG_TCP_URL="postgresql://postgres@127.0.0.1:$port/postgres"
	export PGHOST PGPORT PGUSER PGDATABASE DATABASE_URL PG_TCP_URL
	export PGDIR PGDATA PG_LOG PG_BIN
	_pg_ready=1
}

# Start the cluster (initdb on first use).  Bails out when it cannot.
pg_start() {
	[ -n "${_pg_ready:-}" ] || _pg_init
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w \
		-t 60 -s start >/dev/null 2>&1; then
		tail -n 20 "$PG_LOG" >&2
		echo "Bail out! the PostgreSQL server did not start"
		exit 1
	fi
	PG_PID=$(head -n 1 "$PGDATA/postmaster.pid")
	export PG_PID
}

# Stop the cluster: pg_stop [fast|immediate] (default fast).
pg_stop() {
	if [ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ]; then
		PG_PID=$(head -n 1 "$PGDATA/postmaster.pid")
	fi
	[ -n "${PG_PID:-}" ] || return 0
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -m "${1:-fast}" -w -t 30 \
		-s stop >/dev/null 2>&1
	if kill -0 "$PG_PID" 2>/dev/null; then
		kill -KILL "$PG_PID" 2>/dev/null
	fi
	PG_PID=
}

# Start pg_start in the background after N seconds: pg_start_after N.
# Prints nothing; the pid of the background job is in $PG_STARTER.
pg_start_after() {
	(sleep "$1" && pg_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -l \
		"$PG_LOG" -w -t 60 -s start >/dev/null 2>&1) &
	PG_STARTER=$!
	track "$PG_STARTER"
}

# One query against $PGDATABASE (or -d DB first): output unaligned.
psql_q() {
	local db=$PGDATABASE
	if [ "$1" = -d ]; then
		db=$2
		shift 2
	fi
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

# A URL for another database of the cluster.
pg_url() {
	echo "postgresql:///$1?host=$PGDIR&port=$PGPORT&user=postgres"
}

# pg_roundtrips FILE: client round trips to the server in an strace -f log
# (trace=connect,close,read,write,writev,sendto,recvfrom,sendmsg,recvmsg):
# a send on a socket connected to the server followed by a receive on it
# is one.  bench/migrate.sh counts every tool's the same way.
pg_roundtrips() {
	awk '
	function ev(call, fd, ret, path) {
		if (call == "connect") {
			if (path ~ /\.s\.PGSQL\./) { db[fd] = 1; sent[fd] = 0 }
			return
		}
		if (call == "close") { delete db[fd]; return }
		if (!(fd in db) || ret + 0 <= 0)
			return
		if (call ~ /^(write|writev|sendto|sendmsg)$/)
			sent[fd] = 1
		else if (sent[fd]) { rt++; sent[fd] = 0 }
	}
	{
		pid = $1
		line = $0
		sub(/^[0-9]+ +/, "", line)
		if (line ~ /^<\.\.\. [a-z]+ resumed>/) {
			if (match(line, /= -?[0-9]+/))
				ev(pc[pid], pf[pid], substr(line, RSTART + 2,
				    RLENGTH - 2), pp[pid])
			delete pc[pid]
			next
		}
		if (!match(line, /^[a-z0-9_]+\(/))
			next
		call = substr(line, 1, RLENGTH - 1)
		rest = substr(line, RLENGTH + 1)
		fd = rest
		sub(/[^0-9].*/, "", fd)
		if (line ~ /<unfinished \.\.\.>$/) {
			pc[pid] = call; pf[pid] = fd; pp[pid] = rest
			next
		}
		if (match(line, /\) += -?[0-9]+/)) {
			r = substr(line, RSTART, RLENGTH)
			sub(/.*= /, "", r)
			ev(call, fd, r, rest)
		}
	}
	END { print rt + 0 }' "$1"
}

_pg_cleanup() {
	tmux_kill_all
	kill_tracked
	pg_stop immediate
	[ -n "${PGDIR:-}" ] && rm -rf "$PGDIR"
	_lib_cleanup
}
trap _pg_cleanup EXIT
