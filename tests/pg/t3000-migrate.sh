#!/bin/bash
# t3000-migrate: migrate up/status/plan/down/create/baseline/resolve on a
# real PostgreSQL: records, checksums, a failing statement, changed and
# missing files, non-transactional migrations, bad files, usage errors.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
cat >entrypoint.ini <<'INI'
[app]
release = v3.0.0

[database]
url = ${DATABASE_URL}
wait = 5s
lock_timeout = 2s
ddl_lock_timeout = 300ms
lock_retries = 0
INI

# mig FILE: write migrations/FILE from stdin
mig() {
	cat >"migrations/$1"
}

# pg_dump 15.14+ brackets its output with \restrict KEY (a random key).
dump() {
	pg_dump postgres | grep -v '^\\\(un\)\{0,1\}restrict '
}

mig 0001_users.sql <<'SQL'
-- migrate:up
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO users VALUES (1, 'semi;colon'), (2, 'it''s');
-- migrate:down
DROP TABLE users;
SQL
mig 0002_fn.sql <<'SQL'
-- migrate:up
CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE plpgsql AS $body$
BEGIN
	-- a comment; with a semicolon
	RETURN i + 1;
END
$body$;
CREATE FUNCTION two() RETURNS int LANGUAGE sql
BEGIN ATOMIC
	SELECT 1; SELECT CASE WHEN true THEN 2 END;
END;
-- migrate:down
DROP FUNCTION add_one(int);
DROP FUNCTION two();
SQL
mig 0003_posts.sql <<'SQL'
-- migrate:up
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users);
INSERT INTO posts VALUES (1, 1), (2, 99);
CREATE TABLE "semi;table" (x int);
-- migrate:down
DROP TABLE posts;
SQL

# An outer run id (entrypoint run entrypoint migrate) is not reused: the
# migrate run gets its own audit row, and its records point at it.
export ENTRYPOINT_RUN_ID=run-t3000-outer
run_ep migrate
is "$rc" 65 "2nd statement of migration 3 fails: exit 65"
like "$err" 'applied 0001_users in [0-9.]+ ms' "a line per applied migration with its duration"
like "$err" '0003_posts.sql:3: could not apply 0003_posts: .*foreign key' \
	"error names file:line and the server's reason"
like "$err" 'rolled back: nothing of it' "says nothing was left behind"
is "$(psql_q 'SELECT version FROM entrypoint.migrations ORDER BY 1' | tr '\n' ' ')" \
	"1 2 " "1 and 2 recorded, 3 not"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename IN ('posts', 'semi;table')")" \
	0 "3 left nothing behind (its first statement rolled back)"
is "$(psql_q 'SELECT add_one(1) + two()')" 4 "1 and 2 applied"

sed -i 's/(2, 99)/(2, 2)/' migrations/0003_posts.sql
run_ep migrate
is "$rc" 0 "rerun after the fix succeeds"
like "$err" 'applied 1 migration in' "summary"
is "$(psql_q 'SELECT count(*) FROM posts')" 2 "3 applied"
is "$(psql_q "SELECT name || ' ' || status || ' ' || release FROM entrypoint.migrations WHERE version = 3")" \
	"posts succeeded v3.0.0" "record: name, status, release"
is "$(psql_q "SELECT r.command || ' ' || r.status || ' ' || r.exit_code FROM entrypoint.migrations m JOIN entrypoint.runs r ON r.id::text = m.run_id WHERE m.version = 3")" \
	"migrate succeeded 0" "record: its run id is the audit row of the migrate run"
is "$(psql_q "SELECT status || ' ' || exit_code FROM entrypoint.runs WHERE command = 'migrate' ORDER BY started_at LIMIT 1")" \
	"failed 65" "the failed migrate run is in the audit trail too"
is "$(psql_q 'SELECT checksum FROM entrypoint.migrations WHERE version = 3')" \
	"$(sed '/^-- migrate:down/,$d' migrations/0003_posts.sql | sha256sum | cut -d' ' -f1)" \
	"checksum: SHA-256 of the up part of the file"
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations WHERE applied_at IS NULL OR duration IS NULL')" \
	0 "applied_at and duration recorded"

run_ep migrate
is "$rc" 0 "no-op migrate: 0"
like "$err" 'nothing to apply: database at 0003_posts' "no-op says so"

run_ep migrate status
is "$rc" 0 "status: 0"
like "$out" '^applied +0001_users .*release v3.0.0' "status lists applied"

# Editing the down section of an applied file is allowed.
echo 'DROP TABLE IF EXISTS posts;' >>migrations/0003_posts.sql
run_ep migrate
is "$rc" 0 "editing a down section does not count as a change"

# An edited applied file and a deleted applied file.
cp migrations/0001_users.sql "$T/0001.bak"
cp migrations/0002_fn.sql "$T/0002.bak"
# shellcheck disable=SC2016  # a literal dollar quote
sed -i 's/NOT NULL/NOT NULL DEFAULT $$x$$/' migrations/0001_users.sql
rm migrations/0002_fn.sql
mig 0004_later.sql <<'SQL'
CREATE TABLE later (x int);
SQL
run_ep migrate
is "$rc" 65 "changed + missing applied files: 65"
like "$err" '"migrations/0001_users.sql" was changed after it was applied' \
	"names the changed file"
like "$err" '2_fn .*has no file' "names the missing one"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'later'")" 0 \
	"nothing applied after the check failed"
run_ep migrate status
is "$rc" 65 "status: 65 too"
like "$out" '^changed +0001_users' "status shows changed"
like "$out" '^missing +2_fn' "status shows missing"
like "$out" '^pending +0004_later' "status shows pending"
cp "$T/0001.bak" migrations/0001_users.sql
cp "$T/0002.bak" migrations/0002_fn.sql

run_ep migrate status --check
is "$rc" 1 "status --check: 1 when something is pending"

# plan: unchanged database, and the error a bad migration would hit.
mig 0005_bad.sql <<'SQL'
INSERT INTO later VALUES (1);
ALTER TABLE nope ADD COLUMN y int;
SQL
dump >"$T/before.sql"
run_ep migrate plan
is "$rc" 65 "plan of a failing migration: 65"
like "$out" '^ok +0004_later' "plan reports the good one"
like "$err" '0005_bad.sql:2: could not apply 0005_bad: relation "nope" does not exist' \
	"plan reports the error of the bad one"
dump >"$T/after.sql"
ok "plan leaves the database unchanged (pg_dump before and after)" \
	diff -u "$T/before.sql" "$T/after.sql"
rm migrations/0005_bad.sql
run_ep migrate --dry-run
is "$rc" 0 "--dry-run = plan: 0"
like "$err" 'rolled back, nothing was changed' "dry run says so"
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations')" 3 "dry run recorded nothing"

# A non-transactional migration that fails is recorded and blocks.
mig 0006_idx.sql <<'SQL'
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY later_x ON later (x);
CREATE INDEX CONCURRENTLY later_bad ON later (nope);
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY later_x;
SQL
run_ep migrate
is "$rc" 65 "failing transaction:false migration: 65"
like "$err" '0006_idx.sql:3: could not apply 0006_idx' "names file:line"
is "$(psql_q 'SELECT status FROM entrypoint.migrations WHERE version = 6')" \
	failed "recorded as failed"
is "$(psql_q "SELECT count(*) FROM pg_indexes WHERE indexname = 'later_x'")" 1 \
	"its first statement stays (no transaction)"
mig 0007_more.sql <<'SQL'
-- migrate:up
CREATE TABLE more (x int);
-- migrate:down
DROP TABLE more;
SQL
run_ep migrate
is "$rc" 65 "a failed migration blocks later runs"
like "$err" "resolve 6 --applied' if it took effect" "message says how to resolve"
run_ep migrate status
like "$out" '^failed +0006_idx .*column "nope" does not exist' "status shows the failure"
sed -i '/later_bad/d' migrations/0006_idx.sql
run_ep migrate resolve 6 --applied --rolled-back
is "$rc" 64 "resolve with both flags: 64"
run_ep migrate resolve 4 --applied
is "$rc" 65 "resolve of a migration that did not fail: 65"
psql_q 'DROP INDEX later_x'
run_ep migrate resolve 6 --rolled-back
is "$rc" 0 "resolve --rolled-back"
run_ep migrate
is "$rc" 0 "after resolving, the fixed migration runs again"
is "$(psql_q "SELECT string_agg(version || status, ',' ORDER BY version) FROM entrypoint.migrations")" \
	"1succeeded,2succeeded,3succeeded,4succeeded,6succeeded,7succeeded" \
	"history: each applied once"

# down
run_ep migrate down 2 --yes
is "$rc" 0 "down 2"
like "$err" 'reverted 0007_more in .*\[1/2\]' "newest first"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'more'")/$(psql_q "SELECT count(*) FROM pg_indexes WHERE indexname = 'later_x'")" \
	"0/0" "down sections ran (one of them transaction:false)"
is "$(psql_q 'SELECT max(version) FROM entrypoint.migrations')" 4 "records removed"
run_ep migrate down 1 --yes
is "$rc" 65 "down of a migration without a down section: 65"
like "$err" 'has no down part \(a -- migrate:down section\)' "says so, and where it would be"
run_ep migrate down x
is "$rc" 64 "down with a bad count: 64"

# Bad files: 65 naming the file, nothing changed.
before=$(psql_q 'SELECT count(*) FROM entrypoint.migrations')
echo 'SELECT 1;' >migrations/init.sql
run_ep migrate
is "$rc" 65 "unparsable file name: 65"
like "$err" 'migrations/init.sql: invalid migration file name' "names the file"
rm migrations/init.sql
echo 'SELECT 1;' >migrations/04_dup.sql
run_ep migrate
is "$rc" 65 "duplicate version: 65"
like "$err" 'duplicate migration version 4' "says duplicate"
rm migrations/04_dup.sql
printf 'CREATE TABLE meta (x int);\n\\i other.sql\n' >migrations/0008_meta.sql
run_ep migrate
is "$rc" 65 "psql meta-command: 65"
like "$err" '0008_meta.sql:2: psql meta-command "\\i" is not supported' \
	"meta-command refused with file:line"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'meta'")" 0 \
	"nothing of it ran"
rm migrations/0008_meta.sql
is "$(psql_q 'SELECT count(*) FROM entrypoint.migrations')" "$before" \
	"bad files changed nothing"

# A file with its own BEGIN/COMMIT still runs in one transaction.
mig 0009_own_tx.sql <<'SQL'
BEGIN;
CREATE TABLE own_tx (x int);
COMMIT;
INSERT INTO own_tx VALUES ('not a number');
SQL
run_ep migrate
is "$rc" 65 "file with BEGIN/COMMIT and a failure: 65"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'own_tx'")" 0 \
	"its COMMIT did not end our transaction"
rm migrations/0009_own_tx.sql

# golang-migrate pairs
printf 'CREATE TABLE pair (x int);\n' >migrations/0010_pair.up.sql
printf 'DROP TABLE pair;\n' >migrations/0010_pair.down.sql
run_ep migrate
is "$rc" 0 "golang-migrate pair applies"
run_ep migrate down --yes
is "$rc" 0 "and reverts with its .down.sql"
is "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'pair'")" 0 "pair reverted"

# ddl_lock_timeout: a busy table fails fast, and the message says so.
mig 0011_alter.sql <<'SQL'
ALTER TABLE users ADD COLUMN email text;
SQL
psql -X -q -c 'BEGIN' -c 'LOCK TABLE users' -c 'SELECT pg_sleep(30)' >/dev/null 2>&1 &
locker=$!
track "$locker"
wait_for 10 test "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1
run_ep migrate
is "$rc" 75 "ALTER on a locked table, lock_retries = 0: 75 (busy)"
like "$err" 'ddl_lock_timeout = 300 ms' "message names ddl_lock_timeout"
kill "$locker" 2>/dev/null
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null
run_ep migrate
is "$rc" 0 "applies once the table is free"

# create
run_ep migrate create add_widgets
is "$rc" 0 "create: 0"
like "$out" '^migrations/0012_add_widgets\.sql$' "next version, same width"
ok "created file has both markers" grep -q -- '-- migrate:down' migrations/0012_add_widgets.sql
run_ep migrate create 'bad name'
is "$rc" 64 "create with a bad name: 64"

# baseline on a fresh database
createdb adopt
cat >adopt.ini <<INI
[database]
url = $(pg_url adopt)
INI
run_ep -c adopt.ini migrate plan
is "$(psql_q -d adopt "SELECT count(*) FROM pg_namespace WHERE nspname = 'entrypoint'")" 0 \
	"plan on a fresh database creates nothing, not even our table"
run_ep -c adopt.ini migrate baseline 3
is "$rc" 0 "baseline 3"
is "$(psql_q -d adopt "SELECT string_agg(version || status, ',' ORDER BY version) FROM entrypoint.migrations")" \
	"1baseline,2baseline,3baseline" "files up to 3 marked, not run"
is "$(psql_q -d adopt "SELECT count(*) FROM pg_tables WHERE tablename = 'users'")" 0 \
	"nothing ran"
run_ep -c adopt.ini migrate baseline 3
is "$rc" 65 "baseline twice: 65"

# usage
run_ep migrate sideways
is "$rc" 64 "unknown migrate command: 64"
run_ep migrate status --bogus
is "$rc" 64 "unknown option: 64"
run_ep migrate resolve 3
is "$rc" 64 "resolve without a flag: 64"
run_ep -c missing-dir.ini migrate
is "$rc" 78 "missing config file: 78"
cat >nodir.ini <<'INI'
[database]
url = ${DATABASE_URL}
migrations = does-not-exist
INI
run_ep -c nodir.ini migrate
is "$rc" 78 "missing migrations directory: 78"
like "$err" 'cannot open migrations directory "does-not-exist"' "says which"

done_testing
