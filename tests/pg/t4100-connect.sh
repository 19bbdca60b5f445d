#!/bin/bash
# t4100-connect: what connecting to the database says and does, cause by
# cause, on a real PostgreSQL (and a unix-socket server that accepts and
# never answers, tests/helpers/mute): refused, unknown host, no answer,
# not PostgreSQL, TLS required, missing database, missing role, wrong
# password; each one line with host and port, never the password, and its
# exit code; only what waiting heals is retried; TERM acts while
# connecting; best-effort audit is bounded; a malformed URL is named
# without libpq's text; non-UTF-8 argv, actor and release are recorded.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
PW=Sx4connQ9pw
psql_q "ALTER ROLE postgres PASSWORD '$PW'" >/dev/null
TCP="postgresql://postgres:$PW@127.0.0.1:$PGPORT"

# write_cfg FILE URL WAIT [AUDIT]
write_cfg() {
	cat >"$1" <<INI
[database]
url = $2
wait = $3
audit = ${4:-required}
INI
}

# one_line: $err is exactly one line
one_line() {
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
}

# --- each cause: code, one line, host and port, no password ------------
# Nothing listens on a free port: refused, retried until wait, then 69.
free=$((PGPORT + 1))
while ! _pg_port_free "$free"; do free=$((free + 1)); done
write_cfg refused.ini "postgresql://postgres:$PW@127.0.0.1:$free/postgres" 1s
run_ep -c refused.ini history
is "$rc" 69 "connection refused: 69 once wait is over"
like "$err" "not reachable within 1000 ms at 127.0.0.1:$free: connection refused" \
	"refused: says so, with host and port and the wait"
ok "refused: one line" one_line
unlike "$err" "$PW" "refused: no password"

# TERM while retrying a refused connection (wait 60 s): 143 at once, saying so.
write_cfg refused60.ini "postgresql://postgres:$PW@127.0.0.1:$free/postgres" 60s
ENTRYPOINT_DEBUG=1 "$EP" -c refused60.ini history 2>"$T/retry.err" &
ep=$!
track "$ep"
ok "retrying a refused connection" wait_for 10 grep -q 'retrying in' "$T/retry.err"
kill -TERM "$ep"
ok "TERM while retrying ends it well before wait (60 s)" \
	wait_for 20 sh -c "! kill -0 $ep 2>/dev/null"
wait "$ep"
is "$?" 143 "TERM while retrying: 143"
like "$(cat "$T/retry.err")" "SIGTERM while waiting for the database" "says why it stopped"

write_cfg nohost.ini "postgresql://postgres:$PW@no-such-host.invalid:$PGPORT/postgres" 0
run_ep -c nohost.ini history
is "$rc" 69 "unknown host: 69"
like "$err" "at no-such-host.invalid:$PGPORT: could not translate host name" \
	"unknown host: names the host and port"
unlike "$err" "$PW" "unknown host: no password"

write_cfg nodb.ini "$TCP/nope_db" 30s
before=$(grep -c 'database "nope_db" does not exist' "$PG_LOG")
run_ep -c nodb.ini history
is "$rc" 78 "missing database: 78 (config)"
like "$err" "at 127.0.0.1:$PGPORT: database \"nope_db\" does not exist" \
	"missing database: says which, with host and port"
ok "missing database: one line" one_line
unlike "$err" "$PW" "missing database: no password"
is "$(($(grep -c 'database "nope_db" does not exist' "$PG_LOG") - before))" 1 \
	"missing database: one attempt, not retried for 30 s"

psql_q "CREATE ROLE other LOGIN PASSWORD '$PW'" >/dev/null
write_cfg norole.ini "postgresql://ghost:$PW@127.0.0.1:$PGPORT/postgres" 30s
run_ep -c norole.ini history
# scram answers "password authentication failed" for an unknown role so as
# not to tell who exists; over the unix socket (trust) the server says it
is "$rc" 77 "unknown role over scram: the server only says authentication failed: 77"
write_cfg norole2.ini "postgresql://ghost@/postgres?host=$PGDIR&port=$PGPORT" 30s
run_ep -c norole2.ini history
is "$rc" 78 "missing role: 78 (config)"
like "$err" "at socket \"$PGDIR/.s.PGSQL.$PGPORT\": role \"ghost\" does not exist" \
	"missing role: says which, with the socket"

write_cfg badpw.ini "postgresql://postgres:Wr0ngPwXyz@127.0.0.1:$PGPORT/postgres" 30s
run_ep -c badpw.ini history
is "$rc" 77 "wrong password: 77"
like "$err" "at 127.0.0.1:$PGPORT: password authentication failed for user \"postgres\"" \
	"wrong password: says so with host and port"
unlike "$err" "Wr0ngPwXyz" "wrong password: not shown"

write_cfg tls.ini "$TCP/postgres?sslmode=require" 30s
run_ep -c tls.ini history
is "$rc" 78 "TLS required by the url, server without TLS: 78"
like "$err" "at 127.0.0.1:$PGPORT: .*SSL.*sslmode" "TLS: says what to set"
unlike "$err" "$PW" "TLS: no password"

# The server requires TLS (pg_hba): a reject line for unencrypted TCP.
hba=$PGDATA/pg_hba.conf
cp "$hba" "$T/hba.orig"
{ echo "hostnossl all other 127.0.0.1/32 reject"; cat "$T/hba.orig"; } |
	pg_as_owner tee "$hba" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null
write_cfg tls2.ini "postgresql://other:$PW@127.0.0.1:$PGPORT/postgres?sslmode=disable" 30s
ok "the reject line is loaded" wait_for 10 sh -c "! psql -X 'postgresql://other:$PW@127.0.0.1:$PGPORT/postgres?sslmode=disable' -c 'SELECT 1' >/dev/null 2>&1"
run_ep -c tls2.ini history
is "$rc" 78 "server requires TLS (pg_hba, no encryption): 78"
like "$err" "no encryption.*sslmode" "says it is about encryption"
pg_as_owner tee "$hba" <"$T/hba.orig" >/dev/null
psql_q "SELECT pg_reload_conf()" >/dev/null

# --- a server that accepts and never answers ----------------------------
mkdir -p "$T/mute" "$T/notpg"
"$HELPERS/mute" "$T/mute/.s.PGSQL.5432" "$T/mute.log" &
mute=$!
track "$mute"
"$HELPERS/mute" -r "HTTP/1.0 400 Bad Request" "$T/notpg/.s.PGSQL.5432" "$T/notpg.log" &
notpg=$!
track "$notpg"
listening() { [ -S "$T/mute/.s.PGSQL.5432" ] && [ -S "$T/notpg/.s.PGSQL.5432" ]; }
ok "the mute servers listen" wait_for 10 listening
MUTE="postgresql://u:$PW@/db?host=$T/mute&port=5432"

write_cfg mute.ini "$MUTE" 1s
run_ep -c mute.ini history
is "$rc" 69 "no answer: 69 once wait is over (it used to wait 10 s per attempt, unbounded by wait)"
like "$err" "within 1000 ms at socket \"$T/mute/.s.PGSQL.5432\": the server accepted the connection but did not answer" \
	"no answer: says so"

write_cfg notpg.ini "postgresql://u:$PW@/db?host=$T/notpg&port=5432" 30s
run_ep -c notpg.ini history
is "$rc" 78 "not a PostgreSQL server: 78, not retried"
like "$err" "does not speak the PostgreSQL protocol" "not PostgreSQL: says so"
is "$(wc -l <"$T/notpg.log")" 1 "not PostgreSQL: one attempt"

# TERM while connecting (wait 60 s): acted on at once, 143, no child ran.
write_cfg mute60.ini "$MUTE" 60s required
: >"$T/mute.log"
"$EP" -c mute60.ini run touch "$T/ran" 2>"$T/term.err" &
ep=$!
track "$ep"
ok "connecting to the mute server" wait_for 10 test -s "$T/mute.log"
kill -TERM "$ep"
ended() { ! kill -0 "$ep" 2>/dev/null; }
ok "TERM while connecting ends it well before wait (60 s)" wait_for 20 ended
wait "$ep"
is "$?" 143 "TERM while connecting: 143"
ok "the child never ran" test ! -e "$T/ran"
like "$(cat "$T/term.err")" "SIGTERM while connecting" "says why it stopped"

# best-effort with a mute server: the run still runs, bounded by wait.
write_cfg mute-be.ini "$MUTE" 1s best-effort
run_ep -c mute-be.ini run touch "$T/ran-be"
is "$rc" 0 "best-effort, server mute: the run runs and returns its code"
ok "the child ran" test -e "$T/ran-be"
like "$err" "running without an audit record" "and says it is not recorded"

# --- malformed URLs: one line, what is wrong, never the password -------
# write_cfg quotes nothing: the url goes into the ini as is.
bad_url() {
	write_cfg bad.ini "$1" 30s
	run_ep -c bad.ini history
	is "$rc" 78 "$3: 78"
	like "$err" "invalid database url: .*$2" "$3: names what is wrong"
	ok "$3: one line" one_line
	unlike "$err" "Sec9ret" "$3: password not shown"
}
bad_url "postgresql://u:Sec9ret%zz@h/db" "percent-encoding" "bad %-escape in the password"
bad_url "postgresql://u:Sec9ret@[::1/db" "IPv6" "IPv6 host without ]"
bad_url "mysql://u:Sec9ret@h/db" "scheme" "another scheme"
bad_url "postgresql://u:Sec9ret@h:99999/db" "port" "port out of range"
bad_url "postgresql://u:Sec9ret@h:abc/db" "port" "port not a number"
bad_url "host=h password='Sec9ret" "unterminated" "unterminated quote"

# --- secrets with ? # & blank % are masked in env, start line, row ------
SECRET='p?a#s&s w%25d'
DECODED='p?a#s&s w%d'
export DATABASE_URL="postgresql://postgres:$SECRET@127.0.0.1:$PGPORT/postgres"
psql_q "ALTER ROLE postgres PASSWORD '$DECODED'" >/dev/null
cat >env.ini <<'INI'
[database]
wait = 5s
audit = required
INI
run_ep -c env.ini env
is "$rc" 0 "env with a URL password holding ?#& and a blank"
unlike "$out" 'a#s|s w%|s&s' "env: no part of the password"
like "$out" "DATABASE_URL=postgresql://postgres:\\*+@127.0.0.1" "env: the URL, masked"
run_ep -c env.ini run sh -c 'exit 0' "$DATABASE_URL"
is "$rc" 0 "run with that URL as an argument (and connected with it)"
unlike "$err" 'a#s|s w%|s&s' "start line: no part of the password"
unset DATABASE_URL
psql_q "ALTER ROLE postgres PASSWORD '$PW'" >/dev/null
row=$(psql_q "SELECT array_to_string(argv, ' ') FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")
like "$row" 'postgres:\*+@' "audit row: the URL argument masked"
unlike "$row" 'a#s|s w%|s&s' "audit row: no part of the password"

# --- non-UTF-8 argv, actor and release: recorded, escaped --------------
cat >u.ini <<INI
[app]
release = $(printf 'v1\xfd')

[database]
url = postgresql:///postgres?host=$PGDIR&port=$PGPORT&user=postgres
wait = 5s
audit = best-effort
INI
ENTRYPOINT_ACTOR=$(printf 'al\xfeice') run_ep -c u.ini run true "$(printf 'a\xffb')"
is "$rc" 0 "a run with bytes that are not UTF-8"
unlike "$err" "without an audit record|not in the audit trail" "and it is recorded (no warning)"
row=$(psql_q "SELECT array_to_string(argv, '|') || ' ' || actor || ' ' || release FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1")
is "$row" 'true|a\xffb al\xfeice v1\xfd' "argv, actor and release stored with \\xNN escapes"

# migrate records the same release with each migration it applies
mkdir -p migrations
printf -- '-- migrate:up\nCREATE TABLE t4100_rel (id int);\n' \
	>migrations/0001_rel.sql
run_ep -c u.ini migrate
is "$rc" 0 "migrate with a release that is not UTF-8"
is "$(psql_q "SELECT release FROM entrypoint.migrations WHERE version = 1")" \
	'v1\xfd' "the migration's record has the release escaped"
rm -r migrations
psql_q "DROP TABLE t4100_rel; DELETE FROM entrypoint.migrations" >/dev/null

# history shows what was recorded, escaped and cut on a character
long=$(printf 'é%.0s' $(seq 1 40))
cat >h.ini <<INI
[database]
url = postgresql:///postgres?host=$PGDIR&port=$PGPORT&user=postgres
INI
"$EP" -c h.ini run true "$(printf 'x\033[2Jy')" 2>/dev/null
"$EP" -c h.ini run true "x$long" 2>/dev/null
run_ep -c h.ini history -n 3
is "$rc" 0 "history after runs with controls and long multi-byte values"
unlike "$out" "$(printf '\033')" "history: no raw ESC"
like "$out" 'run true x\\x1b\[2Jy' "history: the ESC escaped"
ok "history: valid UTF-8 (cut on a character)" \
	python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <<<"$out"

# --- a multi-line server error cannot start a log line ------------------
mkdir -p ml/migrations
cat >ml/migrations/1_raise.sql <<'SQL'
DO $$ BEGIN RAISE EXCEPTION E'first line\nentrypoint: migrate: applied everything\x1b[2J'; END $$;
SQL
cat >ml/m.ini <<INI
[database]
url = postgresql:///postgres?host=$PGDIR&port=$PGPORT&user=postgres
wait = 5s
INI
(cd ml && "$EP" -c m.ini migrate 2>../ml.err >/dev/null)
is "$?" 65 "a migration whose error has a newline and ESC: 65"
ok "every stderr line is ours, none forged by the server's text" \
	sh -c "! grep -v '^entrypoint: ' ml.err && ! grep -q '^entrypoint: migrate: applied everything' ml.err"
ok "no raw ESC from the server's text" sh -c "! grep -q \"\$(printf '\\033')\" ml.err"
like "$(cat ml.err)" 'first line\\nentrypoint: migrate: applied everything\\x1b' \
	"the message, escaped"

done_testing
