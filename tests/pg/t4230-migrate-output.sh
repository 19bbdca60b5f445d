#!/bin/bash
# t4230-migrate-output: migrate has no child, so what is kept with its audit
# row is what migrate itself says (its log lines: each migration applied,
# the summary, a failing statement's error), on a real server: the
# operator still sees every line, the last keep_output bytes are stored
# with secret values masked, `history show` (text and --json) prints them,
# keep_output = 0 keeps nothing.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
command -v python3 >/dev/null || skip_all "no python3"
cd "$T" || exit 1

pg_start
TOKEN=Tok4migrateQq77
export SERVICE_TOKEN=$TOKEN
mkdir migrations
cat >migrations/0001_users.sql <<'SQL'
CREATE TABLE users (id int PRIMARY KEY);
SQL
cat >migrations/0002_jobs.sql <<'SQL'
CREATE TABLE jobs (id int PRIMARY KEY);
SQL
cat >mig.ini <<INI
[database]
url = $DATABASE_URL
wait = 1s
INI

last_migrate() {
	psql_q "SELECT id FROM entrypoint.runs WHERE command = 'migrate' ORDER BY started_at DESC LIMIT 1"
}
kept() {
	psql_q "SELECT convert_from(output, 'UTF8') FROM entrypoint.run_output WHERE run_id = '$1'"
}

"$EP" -c mig.ini migrate >up.out 2>up.err
is "$?" 0 "migrate applied two migrations"
like "$(cat up.err)" 'applied 2 migrations' "(the operator sees the summary)"
id=$(last_migrate)
k=$(kept "$id")
like "$k" '^entrypoint: migrate: .*0001_users' "its first migration's line is kept with the run"
like "$k" '^entrypoint: migrate: applied 2 migrations in [0-9]+ ms' "... and the summary"
# Every kept line is a line the operator saw, in the same order.
ok "what is kept is what the operator saw, unchanged" python3 -c '
import sys
k = open(sys.argv[1]).read(); e = open(sys.argv[2]).read()
sys.exit(0 if k.strip() and k in e else 1)' <(printf '%s\n' "$k") up.err
is "$(psql_q "SELECT output_bytes = length(output) FROM entrypoint.run_output WHERE run_id = '$id'")" t \
	"output_bytes counts what it said"

"$EP" -c mig.ini history show "${id:0:8}" >show.out
is "$?" 0 "history show of the migrate run"
like "$(cat show.out)" '^entrypoint: migrate: applied 2 migrations' "show prints what migrate said"
is "$("$EP" -c mig.ini history show "$id" --json | python3 -c 'import json, sys
d = json.load(sys.stdin); print(d["command"], "applied 2 migrations" in d["output"])')" \
	"migrate True" "--json has it too"

# A failing migration whose error carries a secret value: the operator
# sees the error as before, the kept copy has the value masked.
cat >migrations/0003_bad.sql <<SQL
DO \$\$ BEGIN RAISE EXCEPTION 'bad token %', '$TOKEN'; END \$\$;
SQL
"$EP" -c mig.ini migrate >bad.out 2>bad.err
rc=$?
ok "a failing migration fails migrate ($rc)" test "$rc" -ne 0
like "$(cat bad.err)" "bad token $TOKEN" "(the operator sees the error as the server said it)"
id=$(last_migrate)
k=$(kept "$id")
like "$k" 'bad token \*\*\*' "the kept error has the secret masked"
unlike "$k" "$TOKEN" "... and nowhere the value"
like "$("$EP" -c mig.ini history show "$id")" '^status: +failed$' "show: the run failed"

# keep_output caps what is kept: the last bytes, so the summary stays.
rm migrations/0003_bad.sql
cat >migrations/0003_more.sql <<'SQL'
CREATE TABLE more (id int PRIMARY KEY);
SQL
sed 's/^wait = 1s$/wait = 1s\n[app]\nkeep_output = 60/' mig.ini >cap.ini
"$EP" -c cap.ini migrate >cap.out 2>cap.err
is "$?" 0 "migrate with keep_output = 60"
id=$(last_migrate)
is "$(psql_q "SELECT length(output) FROM entrypoint.run_output WHERE run_id = '$id'")" 60 \
	"60 bytes kept"
is "$(kept "$id")" "$(python3 -c '
import sys
e = open(sys.argv[1], "rb").read()
i = e.index(b"applied 1 migration")
end = e.index(b"\n", i) + 1
sys.stdout.write(e[end - 60:end].decode())' cap.err)" "the last 60 bytes of what it said, up to its summary"

sed 's/^wait = 1s$/wait = 1s\n[app]\nkeep_output = 0/' mig.ini >none.ini
"$EP" -c none.ini migrate >none.out 2>none.err
is "$?" 0 "migrate with keep_output = 0"
id=$(last_migrate)
is "$(psql_q "SELECT count(*) FROM entrypoint.run_output WHERE run_id = '$id'")" 0 \
	"keep_output = 0 keeps nothing"
like "$(cat none.err)" 'nothing to apply' "(and the operator still sees it)"
done_testing
