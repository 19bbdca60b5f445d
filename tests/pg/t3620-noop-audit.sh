#!/bin/bash
# t3620-noop-audit: what migrate writes to the audit trail, counted in the
# server's own statement log (log_statement = mod, set for migrate's
# session through libpq's PGOPTIONS).  Every migrate writes its "running"
# row before anything runs (a migration reads it); once the tables are
# there, that row and the empty row its kept output goes to are sent in
# one pipeline with the applied list (the server writes them while the
# files are read), and the row's end goes with the output.  With
# keep_output = 0 there is no output row at all.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
cat >entrypoint.ini <<'INI'
[database]
url = ${DATABASE_URL}
wait = 5s
INI

# What a migration sees of the newest run while it is applied.
seen() {
	printf -- '-- migrate:up\nCREATE TABLE %s AS SELECT status, exit_code FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1;\n-- migrate:down\nDROP TABLE %s;\n' \
		"$2" "$2" >"migrations/$1_$2.sql"
}

# writes CMD...: run entrypoint CMD with migrate's statements logged, and
# count its writes to the audit table into $writes (rc in $rc)
writes() {
	local from
	from=$(wc -l <"$PG_LOG")
	PGOPTIONS='-c log_statement=mod' run_ep "$@"
	writes=$(tail -n +"$((from + 1))" "$PG_LOG" |
		grep -c 'INSERT INTO "entrypoint"\.runs')
	owrites=$(tail -n +"$((from + 1))" "$PG_LOG" |
		grep -c 'INSERT INTO "entrypoint"\.run_output')
}
# the newest run's kept output, as text
output() {
	psql_q "SELECT convert_from(o.output, 'UTF8') FROM entrypoint.runs r JOIN entrypoint.run_output o ON o.run_id = r.id ORDER BY r.started_at DESC LIMIT 1"
}

newest() {
	psql_q "SELECT command, status, exit_code, finished_at >= started_at FROM entrypoint.runs ORDER BY started_at DESC LIMIT 1"
}

# The first migrate creates the audit table; the migration sees its row.
seen 1 first
writes migrate
is "$rc" 0 "the first migrate"
is "$(psql_q 'SELECT status, exit_code IS NULL FROM first')" "running|t" \
	"its row was written before the migration ran"
is "$writes" 2 "and completed after: two writes"

# With the table there, a migrate with something pending writes its row
# before the first migration runs, too.
seen 2 second
writes migrate
is "$rc" 0 "a migrate with one pending"
is "$(psql_q 'SELECT status, exit_code IS NULL FROM second')" "running|t" \
	"its row was written before the migration ran"
is "$writes" 2 "two writes"
is "$(newest)" "migrate|succeeded|0|t" "and the row is complete"

# Nothing pending: the running row with the read, then its end.
writes migrate
is "$rc" 0 "a no-op migrate"
is "$writes" 2 "writes its audit row, then its end"
is "$owrites" 2 "and the output's row, then the output"
is "$(newest)" "migrate|succeeded|0|t" "the whole row: succeeded, exit 0"
like "$(output)" "nothing to apply" "its output is kept with the row"
is "$(psql_q "SELECT count(*) FROM entrypoint.runs WHERE status = 'running'")" 0 \
	"no row left running"

# audit = required: the row comes first, whatever the run turns out to be.
cat >required.ini <<'INI'
[database]
url = ${DATABASE_URL}
audit = required
INI
writes -c required.ini migrate
is "$rc" 0 "a no-op migrate with audit = required"
is "$writes" 2 "writes its row first, then its end"
is "$(newest)" "migrate|succeeded|0|t" "the row is complete"

# keep_output = 0: no output row, early or late.
cat >nokeep.ini <<'INI'
[app]
keep_output = 0
[database]
url = ${DATABASE_URL}
INI
writes -c nokeep.ini migrate
is "$rc" 0 "a no-op migrate with keep_output = 0"
is "$writes" 2 "writes its row and its end"
is "$owrites" 0 "and no output row"
is "$(psql_q "SELECT count(*) FROM entrypoint.runs r LEFT JOIN entrypoint.run_output o ON o.run_id = r.id WHERE o.run_id IS NULL")" 1 \
	"one run without an output row: that one"
# A database whose runs table predates run_output (an older entrypoint):
# the output table is made at the end, the output stored there.
psql_q "DROP TABLE entrypoint.run_output" >/dev/null
writes migrate
is "$rc" 0 "a no-op migrate without run_output"
is "$owrites" 1 "the output written once, at the end"
like "$(output)" "nothing to apply" "into the table made for it"
# The output cannot be stored (a trigger refuses it): the row's end and
# the output go in one transaction, so the end is written again alone.
psql_q "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'refused'; END\$\$" >/dev/null
psql_q "CREATE TRIGGER refuse BEFORE UPDATE ON entrypoint.run_output FOR EACH ROW EXECUTE FUNCTION refuse()" >/dev/null
writes migrate
is "$rc" 0 "a no-op migrate whose output is refused"
like "$err" "is not stored" "warns that the output is not stored"
is "$(newest)" "migrate|succeeded|0|t" "the row's end is written all the same"
psql_q "DROP TRIGGER refuse ON entrypoint.run_output" >/dev/null
# Nothing pending but a changed file: nothing runs, the failure is kept.
sed -i '1a SELECT 1;' migrations/1_first.sql
writes migrate
is "$rc" 65 "a changed applied migration stops migrate (65)"
is "$writes" 2 "its row and its end"
is "$(newest)" "migrate|failed|65|t" "the row says failed, 65"
like "$(output)" "was changed" "the output says why"
is "$(psql_q "SELECT count(*) FROM entrypoint.run_output WHERE output IS NULL")" 1 \
	"the one output row left empty is the refused one's"

done_testing
