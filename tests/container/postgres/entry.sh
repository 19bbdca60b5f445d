#!/bin/sh
# entry.sh - the postgres image's entry point (see Containerfile): on an
# empty $PGDATA, initdb with POSTGRES_USER as the superuser and its
# password (scram-sha-256 over TCP), create POSTGRES_DB; then run the
# server in the foreground as user postgres, on 127.0.0.1:$PGPORT and a
# unix socket in /var/run/postgresql (for pg_isready).
set -eu
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGPORT:=5432}"
export PGPORT
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
	POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
fi
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE is required}"

as_pg() {
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
}

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pw=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
	chown postgres "$pw"
	as_pg initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pw" \
		-E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 \
		>/dev/null
	rm -f "$pw"
	if [ "$POSTGRES_DB" != postgres ]; then
		echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" |
			as_pg postgres --single -D "$PGDATA" postgres >/dev/null
	fi
	echo "entry: initialized $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
if [ "${1:-}" = postgres ]; then
	shift
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
	postgres -D "$PGDATA" \
	-c listen_addresses=127.0.0.1 -c port="$PGPORT" \
	-c unix_socket_directories=/var/run/postgresql "$@"
