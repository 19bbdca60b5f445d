#!/bin/bash
# t3810-plan-locks: `migrate plan --json` reports, per statement, the locks
# it took (pg_locks of plan's backend), the tables it rewrote (a new
# relfilenode), what that blocks, and warnings; each case is checked
# against a real second session: the statement is run and held open in
# one session while another tries to read and to write the table.
# Also: the text output says plan takes those locks, --strict exits 1 on
# a warning, and the database is left as it was.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
psql_q "CREATE TABLE parent (id int PRIMARY KEY);
	INSERT INTO parent SELECT generate_series(1, 2000);
	CREATE TABLE items (id int PRIMARY KEY, v text, p int);
	INSERT INTO items SELECT g, 'v' || g, g FROM generate_series(1, 2000) g;
	CREATE TABLE big (id int, v text);
	INSERT INTO big SELECT g, 'b' || g FROM generate_series(1, 2000) g;
	CREATE TABLE t2 (id int);
	INSERT INTO t2 SELECT generate_series(1, 2000)" >/dev/null

# case NAME SQL [transaction:false]: a migrations directory with one file
case_dir() {
	mkdir -p "c_$1"
	if [ "${3:-}" = notx ]; then
		printf -- '-- migrate:up transaction:false\n%s;\n' "$2" \
			>"c_$1/0001_$1.sql"
	else
		printf -- '%s;\n' "$2" >"c_$1/0001_$1.sql"
	fi
	cat >"c_$1.ini" <<INI
[database]
url = \${DATABASE_URL}
migrations = c_$1
ddl_lock_timeout = 2s
INI
}

# plan_json NAME: run plan --json for case NAME; $out holds the JSON
plan_json() {
	run_ep -c "c_$1.ini" migrate plan --json
}

# jqo FILTER: apply a jq filter to the first JSON object in $out
jqo() {
	printf '%s\n' "$out" | head -n 1 | jq -c "$1"
}

# hold SQL: run SQL in an open transaction (psql through a FIFO, fd 7)
hold() {
	rm -f hold.in hold.out
	mkfifo hold.in
	PGAPPNAME=t3810-holder psql -X -q -A -t -v ON_ERROR_STOP=1 <hold.in \
		>hold.out 2>&1 &
	holder=$!
	track "$holder"
	exec 7>hold.in
	printf '%s\n' "BEGIN;" "$1;" '\echo held' >&7
	wait_for 20 grep -q '^held$' hold.out
}
hold_q() {
	printf '%s\n' "$1;" '\echo done' >&7
	wait_for 20 grep -q '^done$' hold.out
}
release() {
	printf 'ROLLBACK;\n\\q\n' >&7
	exec 7>&-
	wait "$holder" 2>/dev/null
}

# can TABLE INSERT: "r" when a second session could read TABLE, "w" when
# it could run INSERT, "x" for each it could not (lock_timeout 200ms)
can() {
	local r=x w=x
	psql -X -q -At -v ON_ERROR_STOP=1 -c "SET lock_timeout = '200ms'" \
		-c "SELECT count(*) FROM $1" >/dev/null 2>&1 && r=r
	psql -X -q -At -v ON_ERROR_STOP=1 -c "SET lock_timeout = '200ms'" \
		-c "BEGIN" -c "$2" -c "ROLLBACK" >/dev/null 2>&1 && w=w
	echo "$r$w"
}
expect_can() {
	case $1 in none) echo rw ;; writes) echo rx ;; reads+writes) echo xx ;; *) echo "?" ;; esac
}

# --- CREATE INDEX ------------------------------------------------------------
case_dir idx "CREATE INDEX items_v ON items (v)"
plan_json idx
is "$rc" 0 "plan --json CREATE INDEX: 0"
ok "every line of stdout is a JSON object" \
	sh -c 'printf "%s\n" "$1" | jq -e "type == \"object\"" >/dev/null' _ "$out"
is "$(jqo '[.version, .statement, .sql]')" '["0001",1,"CREATE INDEX items_v ON items (v)"]' \
	"version, statement index, sql"
is "$(jqo '[.locks[] | select(.relation == "items") | .mode]')" '["ShareLock"]' \
	"ShareLock on items"
is "$(jqo '.blocks')" '"writes"' "blocks writes"
is "$(jqo '.rewrites')" '[]' "no rewrite"
like "$(jqo '.warnings[0]')" 'without CONCURRENTLY.*items.*CREATE INDEX CONCURRENTLY' \
	"warning names the safer form"
ok "the size of items is reported" test "$(jqo '.locks[] | select(.relation == "items") | .bytes')" -gt 0
like "$err" 'holds the locks' "stderr says plan takes the locks"
blocks=$(jqo '.blocks' | tr -d '"')
hold "CREATE INDEX items_v ON items (v)"
is "$(can items "INSERT INTO items VALUES (9001, 'x', NULL)")" "$(expect_can "$blocks")" \
	"a second session can read but not write while it is held"
release

# --- CREATE INDEX CONCURRENTLY (transaction:false) ---------------------------
case_dir cic "CREATE INDEX CONCURRENTLY items_v2 ON items (v)" notx
plan_json cic
is "$rc" 0 "plan --json CIC: 0"
is "$(jqo '[.locks[] | .relation + " " + .mode]')" '["items ShareUpdateExclusiveLock"]' \
	"CIC: ShareUpdateExclusiveLock on items"
is "$(jqo '.blocks')" '"none"' "CIC blocks neither reads nor writes"
is "$(jqo '.warnings')" '[]' "CIC: no warning"
is "$(jqo '.traced')" 'false' "CIC: said not traced (it cannot run in a transaction)"
# CIC waits for an older snapshot before it finishes: hold one open
hold "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT 1"
PGAPPNAME=t3810-cic psql -X -q -c "CREATE INDEX CONCURRENTLY items_v2 ON items (v)" \
	>cic.out 2>&1 &
cic=$!
track "$cic"
cic_waiting() {
	[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 't3810-cic' AND wait_event_type = 'Lock'")" = 1 ]
}
ok "a real CIC is waiting with its lock held" wait_for 20 cic_waiting
is "$(psql_q "SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE a.application_name = 't3810-cic' AND l.relation = 'items'::regclass")" \
	ShareUpdateExclusiveLock "the real CIC holds ShareUpdateExclusiveLock on items"
is "$(can items "INSERT INTO items VALUES (9002, 'x', NULL)")" rw \
	"a second session reads and writes meanwhile"
release
wait "$cic"
psql_q 'DROP INDEX items_v2' >/dev/null

# --- ALTER COLUMN TYPE bigint: a rewrite -------------------------------------
case_dir type "ALTER TABLE big ALTER COLUMN id TYPE bigint"
before=$(psql_q "SELECT pg_relation_filenode('big')")
plan_json type
is "$rc" 0 "plan --json ALTER TYPE: 0"
is "$(jqo '[.locks[] | select(.relation == "big") | .mode] | index("AccessExclusiveLock") != null')" \
	true "AccessExclusiveLock on big (among the modes it takes)"
is "$(jqo '.rewrites')" '["big"]' "rewrites big"
is "$(jqo '.blocks')" '"reads+writes"' "blocks reads and writes"
like "$(jqo '.warnings | join(" ")')" 'rewrites big' "warning: a rewrite of a table with rows"
is "$(psql_q "SELECT pg_relation_filenode('big')")" "$before" \
	"plan rolled back: big keeps its relfilenode"
blocks=$(jqo '.blocks' | tr -d '"')
hold "ALTER TABLE big ALTER COLUMN id TYPE bigint"
hold_q "SELECT 'fn ' || pg_relation_filenode('big')"
ok "a real session sees big's relfilenode change (a rewrite)" \
	test "$(sed -n 's/^fn //p' hold.out)" != "$before"
is "$(can big "INSERT INTO big VALUES (1, 'x')")" "$(expect_can "$blocks")" \
	"a second session can neither read nor write while it is held"
release

# --- ADD COLUMN with a constant default: no rewrite (PostgreSQL 11+) ---------
case_dir addcol "ALTER TABLE t2 ADD COLUMN c int NOT NULL DEFAULT 0"
before=$(psql_q "SELECT pg_relation_filenode('t2')")
plan_json addcol
is "$rc" 0 "plan --json ADD COLUMN DEFAULT 0: 0"
is "$(jqo '[.locks[] | select(.relation == "t2") | .mode]')" '["AccessExclusiveLock"]' \
	"AccessExclusiveLock on t2"
is "$(jqo '.rewrites')" '[]' "no rewrite"
is "$(jqo '.warnings')" '[]' "no warning"
hold "ALTER TABLE t2 ADD COLUMN c int NOT NULL DEFAULT 0"
hold_q "SELECT 'fn ' || pg_relation_filenode('t2')"
is "$(sed -n 's/^fn //p' hold.out)" "$before" \
	"a real session sees the same relfilenode (no rewrite)"
is "$(can t2 "INSERT INTO t2 VALUES (1)")" "$(expect_can "$(jqo '.blocks' | tr -d '"')")" \
	"reads and writes wait while it is held, as reported"
release

# --- FOREIGN KEY, validated and NOT VALID ------------------------------------
case_dir fk "ALTER TABLE items ADD CONSTRAINT items_p_fk FOREIGN KEY (p) REFERENCES parent (id)"
plan_json fk
is "$rc" 0 "plan --json FOREIGN KEY: 0"
is "$(jqo '[.locks[] | select(.mode == "ShareRowExclusiveLock") | .relation] | sort')" \
	'["items","parent"]' "ShareRowExclusiveLock on both tables"
is "$(jqo '.blocks')" '"writes"' "blocks writes"
like "$(jqo '.warnings | join(" ")')" 'FOREIGN KEY added without NOT VALID.*VALIDATE CONSTRAINT' \
	"warning: add it NOT VALID"
hold "ALTER TABLE items ADD CONSTRAINT items_p_fk FOREIGN KEY (p) REFERENCES parent (id)"
is "$(can items "INSERT INTO items VALUES (9003, 'x', NULL)")" rx \
	"a second session reads items but cannot write it"
is "$(can parent "INSERT INTO parent VALUES (9003)")" rx \
	"nor write parent"
release

case_dir fknv "ALTER TABLE items ADD CONSTRAINT items_p_fk FOREIGN KEY (p) REFERENCES parent (id) NOT VALID"
plan_json fknv
is "$rc" 0 "plan --json FOREIGN KEY NOT VALID: 0"
is "$(jqo '.blocks')" '"writes"' "NOT VALID still takes ShareRowExclusiveLock (briefly)"
is "$(jqo '.warnings')" '[]' "NOT VALID: no warning"
hold "ALTER TABLE items ADD CONSTRAINT items_p_fk FOREIGN KEY (p) REFERENCES parent (id) NOT VALID"
is "$(can items "INSERT INTO items VALUES (9004, 'x', NULL)")" rx \
	"a second session reads but cannot write while it is held"
release

# --- text output, --strict, several statements -----------------------------
case_dir multi "ALTER TABLE t2 ADD COLUMN d int;
UPDATE t2 SET d = id;
ALTER TABLE t2 ALTER COLUMN d SET NOT NULL"
run_ep -c c_multi.ini migrate plan
is "$rc" 0 "plan (text): 0"
like "$out" '^plan runs the pending migrations in one transaction and rolls it back: meanwhile it holds the locks listed below' \
	"the text output says plan takes the locks"
like "$out" 'ok +0001_multi' "ok line per migration"
like "$out" '1  ALTER TABLE t2 ADD COLUMN d int
 +locks: t2 AccessExclusiveLock; blocks reads and writes' "statement 1: its lock in words"
like "$out" 'warning: SET NOT NULL scans t2' "SET NOT NULL without a CHECK: warning"
like "$out" 'warning: AccessExclusiveLock on t2 \(taken by statement 1\) is held while this statement does slow work' \
	"AccessExclusiveLock held during later slow work: warning"
run_ep -c c_multi.ini migrate plan --strict
is "$rc" 1 "--strict with warnings: exit 1"
like "$err" 'plan --strict: [0-9]+ warnings' "says why"
run_ep -c c_addcol.ini migrate plan --strict
is "$rc" 0 "--strict without warnings: 0"
is "$(psql_q "SELECT count(*) FROM information_schema.columns WHERE table_name = 't2' AND column_name IN ('c', 'd')")" \
	0 "plan changed nothing"

# several migrations in one plan: each is traced (every migration starts
# from a fresh session's state, the trace's own included)
mkdir -p c_two
cp c_idx/0001_idx.sql c_two/0001_idx.sql
cp c_type/0001_type.sql c_two/0002_type.sql
sed 's/c_idx/c_two/' c_idx.ini >c_two.ini
run_ep -c c_two.ini migrate plan --json
is "$rc" 0 "plan --json of two migrations: 0"
is "$(printf '%s\n' "$out" | jq -c '[.version, .blocks, .rewrites]' | tr '\n' ' ')" \
	'["0001","writes",[]] ["0002","reads+writes",["big"]] ' \
	"each migration's statement traced"

run_ep -c c_idx.ini migrate up --json
is "$rc" 64 "--json on up: 64"
like "$err" 'option not valid here "--json"' "one-line usage error"
is "$(psql_q "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_v'")" 0 \
	"and nothing ran"

done_testing
