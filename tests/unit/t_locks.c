/*
 * t_locks.c - the pure part of locks.c: lock modes and what they block
 * (PostgreSQL's "Table-Level Lock Modes" conflict table), the words of a
 * statement, the masked one-line query of a blocker, the backoff, and the
 * tracer's accounting of plan's pg_locks rows.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "locks.h"

static int
has_warning(const struct traced_stmt *s, const char *needle)
{
	size_t i;

	for (i = 0; i < s->nwarn; i++)
		if (strstr(s->warnings[i], needle))
			return 1;
	return 0;
}

static void
test_modes(void)
{
	/* pg_locks.mode names, and what each blocks for SELECT
	 * (AccessShareLock) and INSERT/UPDATE/DELETE (RowExclusiveLock) */
	static const struct {
		const char *name;
		const char *blocks;
	} m[] = {
		{ "AccessShareLock", "none" },
		{ "RowShareLock", "none" },
		{ "RowExclusiveLock", "none" },
		{ "ShareUpdateExclusiveLock", "none" },
		{ "ShareLock", "writes" },
		{ "ShareRowExclusiveLock", "writes" },
		{ "ExclusiveLock", "writes" },
		{ "AccessExclusiveLock", "reads+writes" },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int mode = lock_mode_parse(m[i].name);

		is_int(mode, (long)i, m[i].name);
		is_str(lock_mode_name(mode), m[i].name, "name round trip");
		is_str(lock_blocks_name(lock_mode_blocks(mode)), m[i].blocks,
		    m[i].blocks);
	}
	is_int(lock_mode_parse("SIReadLock"), -1, "a predicate lock: unknown");
	is_int(lock_mode_parse(NULL), -1, "NULL: unknown");
	is_str(lock_blocks_words(BLOCKS_ALL), "reads and writes", "words");
}

static void
test_shape(void)
{
	struct stmt_shape s;

	stmt_shape_of("CREATE INDEX i ON t (v)", &s);
	ok(s.create_index && !s.concurrently, "CREATE INDEX");
	stmt_shape_of("create unique index concurrently i on t (v)", &s);
	ok(s.create_index && s.concurrently, "CREATE UNIQUE INDEX CONCURRENTLY");
	stmt_shape_of("-- CREATE INDEX CONCURRENTLY\nCREATE INDEX i ON t (v)",
	    &s);
	ok(s.create_index && !s.concurrently, "a comment says nothing");
	stmt_shape_of("CREATE TABLE concurrently (x int)", &s);
	ok(!s.create_index, "CREATE TABLE is no index");
	stmt_shape_of("ALTER TABLE t ALTER COLUMN c SET NOT NULL", &s);
	ok(s.alter_table && s.set_not_null, "SET NOT NULL");
	stmt_shape_of("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) "
	    "REFERENCES p (id) NOT VALID", &s);
	ok(s.add_fk && s.not_valid, "FOREIGN KEY ... NOT VALID");
	stmt_shape_of("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) "
	    "REFERENCES p (id)", &s);
	ok(s.add_fk && !s.not_valid, "FOREIGN KEY validated");
	stmt_shape_of("ALTER TABLE t ADD CHECK (x > 0) /* NOT VALID */", &s);
	ok(s.add_check && !s.not_valid, "CHECK, NOT VALID only in a comment");
	stmt_shape_of("ALTER TABLE t ADD COLUMN note text DEFAULT 'NOT VALID'",
	    &s);
	ok(!s.not_valid && !s.add_check, "NOT VALID only in a string");
	stmt_shape_of("ALTER TABLE t ADD COLUMN d text DEFAULT $$ CHECK $$",
	    &s);
	ok(!s.add_check, "CHECK only in a dollar quote");
	stmt_shape_of("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i",
	    &s);
	ok(s.add_unique && s.using_index, "UNIQUE USING INDEX");
	stmt_shape_of("UPDATE t SET note = E'it''s \\' NOT VALID'", &s);
	ok(!s.not_valid && !s.alter_table, "E'' string with \\'");
	{
		char tb[64];

		ok(stmt_index_table("CREATE INDEX CONCURRENTLY i ON ONLY "
		    "public.\"My T\" (v)", tb, sizeof(tb)) == 0 &&
		    strcmp(tb, "public.\"My T\"") == 0, "CIC's table");
		ok(stmt_index_table("create unique index concurrently on t"
		    "(v)", tb, sizeof(tb)) == 0 && strcmp(tb, "t") == 0,
		    "CIC without a name");
		ok(stmt_index_table("DROP INDEX CONCURRENTLY i", tb,
		    sizeof(tb)) < 0, "DROP INDEX: no table");
	}
	ok(stmt_retry_unsafe("CREATE INDEX CONCURRENTLY i ON t (v)"),
	    "CIC is not retried");
	ok(stmt_retry_unsafe("DROP INDEX CONCURRENTLY i"), "DROP INDEX "
	    "CONCURRENTLY is not retried");
	ok(!stmt_retry_unsafe("ALTER TYPE mood ADD VALUE 'sad'"),
	    "ALTER TYPE ADD VALUE is retried");
}

static void
test_lines(void)
{
	char buf[64];

	stmt_first_line("\n  -- why\n  CREATE   INDEX i\n ON t (v)", buf,
	    sizeof(buf), 40);
	is_str(buf, "CREATE INDEX i", "first line, comment skipped");
	stmt_first_line("ALTER TABLE a_rather_long_table_name ADD COLUMN x",
	    buf, sizeof(buf), 20);
	is_str(buf, "ALTER TABLE a_rather...", "first line cut");
	stmt_first_line("SELECT 'h\xc3\xa9h\xc3\xa9'", buf, sizeof(buf), 11);
	is_str(buf, "SELECT 'h\xc3\xa9...", "never half a UTF-8 sequence");

	query_mask_line("ALTER ROLE app PASSWORD 'hunter2'", buf, sizeof(buf),
	    60);
	is_str(buf, "ALTER ROLE app PASSWORD ?", "a password is masked");
	query_mask_line("select *\n\tfrom t1 where id = 42 -- note\n and "
	    "x = $tok$secret$tok$", buf, sizeof(buf), 60);
	is_str(buf, "select * from t1 where id = ? and x = ?",
	    "one line, numbers and dollar quotes masked, t1 kept");
	query_mask_line("SELECT \"we'ird\" FROM t WHERE s = E'a\\'b'", buf,
	    sizeof(buf), 60);
	is_str(buf, "SELECT \"we'ird\" FROM t WHERE s = ?",
	    "quoted identifier kept, E'' masked");
	query_mask_line("SELECT \x1b[31mred", buf, sizeof(buf), 60);
	ok(strchr(buf, '\x1b') == NULL, "no control byte");
	query_mask_line(NULL, buf, sizeof(buf), 60);
	is_str(buf, "", "NULL query");
}

static void
test_backoff(void)
{
	long lo = 1 << 30, hi = 0, b;
	unsigned r;
	int a;

	for (r = 0; r < 1000; r += 7) {
		b = lock_backoff_ms(1, r);
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	ok(lo >= 125 && hi <= 250 && lo < hi, "attempt 1: 125..250 ms, jittered");
	b = lock_backoff_ms(3, 0);
	is_int(b, 500, "attempt 3, no jitter: half of 1 s");
	for (a = 1; a < 40; a++)
		if (lock_backoff_ms(a, ~0u) > 10000)
			break;
	is_int(a, 40, "never more than 10 s");
}

static struct lock_row
row(unsigned oid, const char *name, char kind, const char *mode,
    unsigned filenode, double tuples, long long bytes)
{
	struct lock_row r;

	memset(&r, 0, sizeof(r));
	r.oid = oid;
	r.name = name;
	r.kind = kind;
	r.mode = lock_mode_parse(mode);
	r.filenode = filenode;
	r.reltuples = tuples;
	r.bytes = bytes;
	return r;
}

static void
test_tracer(void)
{
	struct lock_tracer t;
	struct traced_stmt s;
	struct lock_row r[4], snap[4];

	snap[0] = row(20000, "items", 'r', NULL, 20000, 0, 0);
	snap[1] = row(20001, "big", 'r', NULL, 20001, 0, 0);
	snap[2] = row(20002, "t2", 'r', NULL, 20002, 0, 0);
	snap[3] = row(20003, "gone", 'r', NULL, 20003, 0, 0);
	lock_tracer_init(&t);
	lock_tracer_snapshot(&t, snap, 4);
	lock_tracer_clock(&t, 100.0);
	lock_tracer_migration(&t, 0);

	/* CREATE INDEX: ShareLock on items (with rows), the new index
	 * AccessExclusiveLock (created here: nobody sees it) */
	r[0] = row(20000, "items", 'r', "ShareLock", 20000, 1000, 65536);
	r[1] = row(30000, "items_v", 'i', "AccessExclusiveLock", 30000, 0, 0);
	lock_tracer_stmt(&t, "CREATE INDEX items_v ON items (v)", 0, r, 2,
	    100.5, &s);
	is_int(s.n, 1, "one relation others can see");
	is_str(s.rels[0].name, "items", "the table");
	is_int(s.rels[0].modes, 1u << LM_SHARE, "ShareLock");
	is_str(lock_blocks_name(s.blocks), "writes", "blocks writes");
	ok(has_warning(&s, "CONCURRENTLY"), "warning: use CONCURRENTLY");
	ok(s.ms > 499 && s.ms < 501, "duration from the server clock");
	traced_stmt_release(&s);

	/* the same locks again, plus pg_relation_size's AccessShareLock: no
	 * new lock for the next statement */
	r[2] = row(20000, "items", 'r', "AccessShareLock", 20000, 1000, 65536);
	lock_tracer_stmt(&t, "SELECT 1", 1, r, 3, 100.6, &s);
	is_int(s.n, 0, "locks held from before are not this statement's");
	is_str(lock_blocks_name(s.blocks), "none", "blocks nothing");
	is_int(s.nwarn, 0, "no warning");
	traced_stmt_release(&s);

	/* ALTER COLUMN TYPE: AccessExclusiveLock and a new relfilenode */
	lock_tracer_migration(&t, 1);
	r[0] = row(20001, "big", 'r', "AccessExclusiveLock", 40000, 500, 8192);
	lock_tracer_stmt(&t, "ALTER TABLE big ALTER COLUMN id TYPE bigint",
	    0, r, 1, 100.7, &s);
	ok(s.n == 1 && s.rels[0].rewritten, "rewrite: relfilenode changed");
	is_str(lock_blocks_name(s.blocks), "reads+writes", "blocks all");
	ok(has_warning(&s, "rewrites big"), "warning: rewrite");
	traced_stmt_release(&s);
	/* slow work after it, same migration */
	lock_tracer_stmt(&t, "UPDATE other SET x = 1", 1, r, 1, 102.9, &s);
	ok(has_warning(&s, "AccessExclusiveLock on big (taken by statement "
	    "1)"), "warning: AccessExclusiveLock held during slow work");
	traced_stmt_release(&s);
	/* a quick one after it: no warning */
	lock_tracer_stmt(&t, "COMMENT ON TABLE big IS 'x'", 2, r, 1, 102.95,
	    &s);
	is_int(s.nwarn, 0, "a quick statement after it: no warning");
	traced_stmt_release(&s);

	/* ADD COLUMN with a constant default: no new relfilenode */
	lock_tracer_migration(&t, 2);
	r[0] = row(20002, "t2", 'r', "AccessExclusiveLock", 20002, 10, 8192);
	lock_tracer_stmt(&t, "ALTER TABLE t2 ADD COLUMN c int DEFAULT 0", 0,
	    r, 1, 103.0, &s);
	ok(s.n == 1 && !s.rels[0].rewritten, "no rewrite");
	is_int(s.nwarn, 0, "no warning");
	traced_stmt_release(&s);
	/* SET NOT NULL on the table this migration already locked */
	lock_tracer_stmt(&t, "ALTER TABLE t2 ALTER COLUMN c SET NOT NULL", 1,
	    r, 1, 103.01, &s);
	ok(has_warning(&s, "SET NOT NULL scans t2"),
	    "SET NOT NULL on an already locked table still warns");
	traced_stmt_release(&s);
	r[0].notnull_check = 1;
	lock_tracer_stmt(&t, "ALTER TABLE t2 ALTER COLUMN c SET NOT NULL", 2,
	    r, 1, 103.02, &s);
	is_int(s.nwarn, 0, "with a validated CHECK (c IS NOT NULL): none");
	traced_stmt_release(&s);

	/* FK NOT VALID vs validated, a table created by an earlier
	 * migration of the plan counts (it exists when this one runs) */
	lock_tracer_migration(&t, 3);
	r[0] = row(30000, "items_v", 'i', "RowExclusiveLock", 30000, 0, 0);
	r[1] = row(20000, "items", 'r', "ShareRowExclusiveLock", 20000, 1000,
	    65536);
	lock_tracer_stmt(&t, "ALTER TABLE items ADD FOREIGN KEY (p) "
	    "REFERENCES big (id)", 0, r, 2, 103.1, &s);
	ok(has_warning(&s, "FOREIGN KEY added without NOT VALID"),
	    "validated FK on rows: warning");
	is_int(s.n, 2, "the index made by an earlier migration is listed");
	traced_stmt_release(&s);

	/* DROP TABLE: no pg_class row left, the name from the snapshot */
	r[0] = row(20003, NULL, 0, "AccessExclusiveLock", 0, 0, 0);
	r[0].reltuples = 0;
	lock_tracer_stmt(&t, "DROP TABLE gone", 1, r, 1, 103.2, &s);
	ok(s.n == 1 && strcmp(s.rels[0].name, "gone") == 0,
	    "a dropped table is named from the snapshot");
	is_str(lock_blocks_name(s.blocks), "reads+writes", "and blocks all");
	traced_stmt_release(&s);
	lock_tracer_release(&t);
}

int
main(void)
{
	test_modes();
	test_shape();
	test_lines();
	test_backoff();
	test_tracer();
	return done_testing();
}
