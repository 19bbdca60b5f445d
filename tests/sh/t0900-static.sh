#!/bin/bash
# t0900-static.sh - the release binary build/entrypoint-static: fully static,
# at most 3.2 MB, runs, and speaks TLS to PostgreSQL (libpq and OpenSSL
# compiled in by mk/static.mk).  The TLS part runs against a throw-away
# cluster with ssl=on and a self-signed certificate, listening on 127.0.0.1
# only, whose pg_hba.conf rejects every connection without TLS.
# shellcheck source=tests/sh/lib.sh
. "$(dirname "$0")/lib.sh"

EPS=${EP_STATIC:-$SRCDIR/build/entrypoint-static}
[ -x "$EPS" ] || skip_all "no static binary ($EPS): run make static"
MAX_SIZE=3355443	# 3.2 MB

like "$(file -b "$EPS")" 'statically linked' "file says statically linked"
unlike "$(file -b "$EPS")" 'dynamically linked|interpreter' \
	"no dynamic loader"
size=$(stat -c %s "$EPS")
if [ "$size" -le "$MAX_SIZE" ]; then
	pass "size $size <= $MAX_SIZE bytes"
else
	fail "size $size <= $MAX_SIZE bytes"
fi

EP=$EPS run_ep version
is "$rc" 0 "version exits 0"
like "$out" '^entrypoint [0-9]+\.[0-9]+\.[0-9]+' "version prints the version"

# libpq's OpenSSL code and libssl are linked in, not only libcrypto.
ok "libpq built with OpenSSL" grep -aq 'SSL SYSCALL error' "$EPS"
ok "libssl linked in (TLS 1.3)" grep -aq 'TLSv1\.3' "$EPS"

# --- TLS to a real server ---------------------------------------------
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ] || ! command -v openssl >/dev/null ||
	! command -v python3 >/dev/null; then
	skip "TLS connection: no initdb, openssl or python3"
	done_testing
	exit
fi
# initdb refuses to run as root: run the cluster as postgres then.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		skip "TLS connection: running as root without a postgres user"
		done_testing
		exit
	fi
	as_pg=(runuser -u postgres --)
	chmod 711 "$T"
fi
mkdir "$T/pg"
[ "${#as_pg[@]}" -eq 0 ] || chown postgres "$T/pg"
PGD=$T/pg/data

# A self-signed certificate for "localhost", and another one that did not
# sign it (the wrong root for verify-full).
for c in server other; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -subj /CN=localhost -days 2 -keyout "$T/$c.key" \
		-out "$T/$c.crt" 2>"$T/openssl.err" ||
		{ cat "$T/openssl.err" >&2; fail "openssl req ($c)"; }
done
[ "${#as_pg[@]}" -eq 0 ] || chown postgres "$T/server.key"
chmod 600 "$T/server.key"

"${as_pg[@]}" "$PGBIN/initdb" -N -A trust -U postgres -D "$PGD" \
	>"$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; fail "initdb"; }
printf '%s\n' 'hostssl all all 127.0.0.1/32 trust' \
	'hostnossl all all 127.0.0.1/32 reject' >"$PGD/pg_hba.conf"

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Another process may take the port between free_port and the bind.
started=0
for _ in 1 2 3; do
	port=$(free_port)
	if "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGD" -w -t 30 -s \
		-l "$PGD/server.log" -o "-c fsync=off -c port=$port \
		-c listen_addresses=127.0.0.1 -c unix_socket_directories= \
		-c ssl=on -c ssl_cert_file=$T/server.crt \
		-c ssl_key_file=$T/server.key" start >/dev/null 2>&1; then
		started=1
		break
	fi
done
if [ "$started" -ne 1 ]; then
	cat "$PGD/server.log" >&2
	fail "PostgreSQL with ssl=on starts"
	done_testing
	exit
fi
track "$(head -n 1 "$PGD/postmaster.pid")"

write_ini "$T/ep.ini" <<'EOF'
[database]
url = ${DATABASE_URL}
wait = 0
EOF

# db URL for sslmode and extra parameters; HOME keeps ~/.postgresql out.
db() {
	DATABASE_URL="host=localhost hostaddr=127.0.0.1 port=$port \
user=postgres dbname=postgres $*" HOME=$T EP=$EPS \
		run_ep -c "$T/ep.ini" history
}

db sslmode=require
is "$rc" 0 "sslmode=require connects over TLS"
like "$err" 'no runs recorded' "sslmode=require reaches the database"

db sslmode=disable
ok "without TLS the server refuses (proof it needs TLS)" [ "$rc" -ne 0 ]
like "$err" 'no encryption' "the refusal names the missing encryption"

db sslmode=verify-full sslrootcert="$T/server.crt"
is "$rc" 0 "verify-full with the right root certificate connects"

db sslmode=verify-full sslrootcert="$T/other.crt"
is "$rc" 78 "verify-full with the wrong root certificate: config (78), not retried"
like "$err" 'certificate' "the refusal names the certificate"
like "$err" 'certificate verify failed' \
	"the failure is OpenSSL's verification, with its message"

done_testing
