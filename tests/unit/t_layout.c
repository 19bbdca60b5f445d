/*
 * t_layout.c - reading migrations folders in other tools' layouts:
 * detection, names and order, markers, transaction flags, refusals.
 * Each test writes its own small folder under a temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"
#include "tap.h"

#include "tfiles.h"

static char err[1024];

static int
list(const char *dir, enum layout_format forced, struct layout *l)
{
	err[0] = '\0';
	return layout_list(dir, forced, l, err, sizeof(err));
}

/* Load entry i and parse it; 0 or -1 (err). */
static int
load(const struct layout *l, size_t i, struct sqlfile *sf)
{
	memset(sf, 0, sizeof(*sf));
	err[0] = '\0';
	if (layout_load(l->format, &l->e[i], sf, err, sizeof(err)) < 0)
		return -1;
	return sqlfile_parse(sf, err, sizeof(err));
}

static void
test_flyway_version(void)
{
	long long a, b, c;

	ok(layout_flyway_version("1.9", 3, &a) == 0 &&
	    layout_flyway_version("1.10", 4, &b) == 0 && a < b,
	    "flyway: 1.9 before 1.10");
	ok(layout_flyway_version("1_7", 3, &a) == 0 &&
	    layout_flyway_version("1.7", 3, &b) == 0 && a == b,
	    "flyway: 1_7 is 1.7");
	ok(layout_flyway_version("2", 1, &a) == 0 &&
	    layout_flyway_version("2.0.0", 5, &b) == 0 && a == b,
	    "flyway: trailing zero parts ignored");
	ok(layout_flyway_version("1.2.3", 5, &a) == 0 &&
	    layout_flyway_version("1.10", 4, &b) == 0 &&
	    layout_flyway_version("2", 1, &c) == 0 && a < b && b < c,
	    "flyway: 1.2.3 < 1.10 < 2");
	ok(layout_flyway_version("1..2", 4, &a) < 0, "flyway: empty part");
	ok(layout_flyway_version("1.2a", 4, &a) < 0, "flyway: a letter");
	ok(layout_flyway_version("1.", 2, &a) < 0, "flyway: a trailing dot");
	/* timestamps and long part lists: recorded, ordered by the key */
	ok(layout_flyway_version("20230101120000", 14, &a) == 0 &&
	    layout_flyway_version("20230101120001", 14, &b) == 0 && a != b,
	    "flyway: timestamp versions are recorded, distinct");
	ok(layout_flyway_version("2023.01.01.12.00.01", 19, &a) == 0 &&
	    layout_flyway_version("2023_1_1_12_0_1", 15, &b) == 0 && a == b,
	    "flyway: six parts, leading zeros and '_' as Flyway reads them");
	ok(layout_flyway_version("20230101120000.0.0", 18, &a) == 0 &&
	    layout_flyway_version("20230101120000", 14, &b) == 0 && a == b,
	    "flyway: trailing zero parts ignored beyond the readable range");
}

/* strcmp of two versions' keys, as -1, 0 or 1 (9: not a version). */
static int
key_cmp(const char *x, const char *y)
{
	char *a = layout_flyway_key(x, strlen(x));
	char *b = layout_flyway_key(y, strlen(y));
	int c = a && b ? strcmp(a, b) : 0;

	free(a);
	free(b);
	if (!a || !b)
		return 9;
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

static void
test_flyway_key(void)
{
	is_int(key_cmp("1.9", "1.10"), -1, "key: 1.9 < 1.10");
	is_int(key_cmp("1", "1.0.0"), 0, "key: 1 = 1.0.0");
	is_int(key_cmp("1.01", "1.1"), 0, "key: 1.01 = 1.1 (numbers)");
	is_int(key_cmp("1", "1.0.1"), -1, "key: 1 < 1.0.1");
	is_int(key_cmp("0", "0.0"), 0, "key: 0 = 0.0");
	is_int(key_cmp("0", "0.1"), -1, "key: 0 < 0.1");
	is_int(key_cmp("2023.01.01.1200", "20230101120000"), -1,
	    "key: 2023.01.01.1200 < 20230101120000 (first part 2023)");
	is_int(key_cmp("20230101120000", "20230101120000.1"), -1,
	    "key: a timestamp before its .1");
	is_int(key_cmp("20230101120000", "3.0"), 1,
	    "key: 20230101120000 > 3");
	is_int(key_cmp("99999999999999999999999999", "100000000000000000000000000"),
	    -1, "key: parts of any size, compared as numbers");
	is_int(key_cmp("2023.12.31.2359", "2024.1.1.0"), -1,
	    "key: dates across a year");
	is_int(key_cmp("1..2", "1"), 9, "key: an empty part is no version");
}

static void
test_detect(void)
{
	struct layout l;
	const char *d;

	d = folder();
	put(d, "001_a.sql", "-- +goose Up\nSELECT 1;\n");
	put(d, "002_b.sql", "-- +goose Up\nSELECT 2;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "goose folder lists");
	is_str(layout_name(l.format), "goose", "goose detected");
	layout_release(&l);

	d = folder();
	put(d, "1-a.sql", "-- +migrate Up\nSELECT 1;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "sql-migrate folder lists");
	is_str(layout_name(l.format), "sql-migrate", "sql-migrate detected");
	layout_release(&l);

	d = folder();
	put(d, "0120_2.9.0_schema.up.sql", "SELECT 1;\n");
	put(d, "0120_2.9.0_schema.down.sql", "SELECT 2;\n");
	put(d, "0121_x-y.z.up.sql", "SELECT 3;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "golang-migrate pairs list");
	is_str(layout_name(l.format), "golang-migrate", "golang-migrate");
	is_int(l.n, 2, "two migrations from three files");
	is_str(l.e[0].name, "2.9.0_schema", "dotted name kept");
	ok(l.e[0].down_path != NULL && l.e[1].down_path == NULL,
	    "down file joined to its up file");
	layout_release(&l);

	d = folder();
	put(d, "2019-02-26-002946_create_users/up.sql", "SELECT 1;\n");
	put(d, "2019-02-26-002946_create_users/down.sql", "SELECT 2;\n");
	put(d, "00000000000000_diesel_initial_setup/up.sql", "SELECT 0;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "diesel folder lists");
	is_str(layout_name(l.format), "diesel", "diesel detected");
	is_int(l.n, 2, "diesel: two migrations");
	is_str(l.e[1].id, "20190226002946", "diesel version: dashes dropped");
	is_str(l.e[1].name, "create_users", "diesel name");
	layout_release(&l);

	d = folder();
	put(d, "20230101120000_init/migration.sql", "SELECT 1;\n");
	put(d, "migration_lock.toml", "provider = \"postgresql\"\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "prisma folder lists");
	is_str(layout_name(l.format), "prisma", "prisma detected");
	is_str(l.e[0].id, "20230101120000_init", "prisma id is the folder");
	is_int(l.warnings.n, 0, "migration_lock.toml is Prisma's, no warning");
	layout_release(&l);

	d = folder();
	put(d, "V1__a.sql", "SELECT 1;\n");
	put(d, "V1.10__c.sql", "SELECT 3;\n");
	put(d, "V1.9__b.sql", "SELECT 2;\n");
	put(d, "U1.9__b.sql", "SELECT 4;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "flyway folder lists");
	is_str(layout_name(l.format), "flyway", "flyway detected");
	is_int(l.n, 3, "flyway: undo joined to its version");
	is_str(l.e[1].id, "1.9", "flyway order: 1.9 second");
	is_str(l.e[2].id, "1.10", "flyway order: 1.10 last");
	ok(l.e[1].down_path && strstr(l.e[1].down_path, "U1.9__b.sql"),
	    "flyway: U file is the down part");
	layout_release(&l);

	d = folder();
	put(d, "V20230101120000__c.sql", "SELECT 3;\n");
	put(d, "V2023.01.01.1200__b.sql", "SELECT 2;\n");
	put(d, "V20230101120000.1__d.sql", "SELECT 4;\n");
	put(d, "U20230101120000__c.sql", "SELECT 5;\n");
	put(d, "V1__a.sql", "SELECT 1;\n");
	put(d, "R__r.sql", "SELECT 6;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "flyway timestamp versions list");
	ok(l.n == 5 && strcmp(l.e[0].id, "1") == 0 &&
	    strcmp(l.e[1].id, "2023.01.01.1200") == 0 &&
	    strcmp(l.e[2].id, "20230101120000") == 0 &&
	    strcmp(l.e[3].id, "20230101120000.1") == 0 &&
	    strstr(l.e[4].path, "R__r.sql") != NULL,
	    "flyway: in Flyway's order, repeatable last");
	ok(l.n == 5 && l.e[2].down_path &&
	    strstr(l.e[2].down_path, "U20230101120000__c.sql"),
	    "flyway: the undo file joins its timestamp version");
	layout_release(&l);

	d = folder();
	put(d, "0001_a.sql", "-- migrate:up\nSELECT 1;\n");
	put(d, "0002_b.up.sql", "SELECT 2;\n");
	put(d, "README.md", "notes\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "dbmate folder lists");
	is_str(layout_name(l.format), "dbmate", "singles and pairs: dbmate");
	is_int(l.warnings.n, 1, "README.md: one warning");
	ok(l.warnings.n && strstr(l.warnings.v[0], "README.md"),
	    "the warning names README.md");
	layout_release(&l);
}

static void
test_refusals(void)
{
	struct layout l;
	const char *d;

	d = folder();
	put(d, "001_a.sql", "-- +goose Up\nSELECT 1;\n");
	put(d, "V2__b.sql", "SELECT 2;\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1, "goose + flyway refused");
	ok(strstr(err, "mixed") && strstr(err, "001_a.sql") &&
	    strstr(err, "V2__b.sql"), "mixed layouts: both files named");

	d = folder();
	put(d, "001_a.sql", "-- +goose Up\nSELECT 1;\n");
	put(d, "002_b.sql", "SELECT 2;\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1,
	    "goose file next to a file without markers refused");
	ok(strstr(err, "002_b.sql") != NULL, "the unmarked file is named");

	d = folder();
	put(d, "001_a.sql", "-- +goose Up\nSELECT 1;\n");
	put(d, "002_b.go", "package x\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1, "goose Go migration refused");
	ok(strstr(err, "002_b.go") != NULL, "the Go file is named");

	d = folder();
	put(d, "2019-02-26-002946_x/up.sql", "SELECT 1;\n");
	put(d, "notes/other.txt", "x\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1, "a folder without up.sql");
	ok(strstr(err, "notes") != NULL, "the folder is named");

	d = folder();
	put(d, "2-b.sql", "-- +migrate Up\nSELECT 1;\n");
	put(d, "10-a.sql", "-- +migrate Up\nSELECT 1;\n");
	put(d, "2-a.sql", "-- +migrate Up\nSELECT 1;\n");
	put(d, "02-c.sql", "-- +migrate Up\nSELECT 1;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0,
	    "sql-migrate: one number, several files: listed");
	ok(l.n == 4 && strcmp(l.e[0].id, "02-c.sql") == 0 &&
	    strcmp(l.e[1].id, "2-a.sql") == 0 &&
	    strcmp(l.e[2].id, "2-b.sql") == 0 &&
	    strcmp(l.e[3].id, "10-a.sql") == 0,
	    "sql-migrate: by number, then by whole id (its byId)");
	ok(l.n == 4 && l.e[0].version == 2 && l.e[1].version < 0 &&
	    l.e[2].version < 0 && l.e[1].version != l.e[2].version &&
	    l.e[3].version == 10,
	    "sql-migrate: the first keeps the number, the others distinct");
	layout_release(&l);

	d = folder();
	put(d, "20230101000000_b/migration.sql", "SELECT 1;\n");
	put(d, "20230101000000_a/migration.sql", "SELECT 1;\n");
	put(d, "20221231000000_z/migration.sql", "SELECT 1;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0,
	    "prisma: two folders of one timestamp: listed");
	ok(l.n == 3 && strcmp(l.e[0].id, "20221231000000_z") == 0 &&
	    strcmp(l.e[1].id, "20230101000000_a") == 0 &&
	    strcmp(l.e[2].id, "20230101000000_b") == 0 &&
	    l.e[1].version != l.e[2].version,
	    "prisma: by folder name, each its own record");
	layout_release(&l);

	d = folder();
	put(d, "V1__a.sql", "SELECT 1;\n");
	put(d, "V1.0__b.sql", "SELECT 1;\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1, "flyway 1 and 1.0 collide");
	ok(strstr(err, "duplicate") != NULL, "duplicate version reported");

	d = folder();
	put(d, "V1__a.sql", "SELECT 1;\n");
	put(d, "R__views_b.sql", "SELECT 1;\n");
	put(d, "R__views_a.sql", "SELECT 1;\n");
	put(d, "V2__b.sql", "SELECT 1;\n");
	is_int(list(d, LAYOUT_AUTO, &l), 0, "flyway repeatables list");
	ok(l.n == 4 && strstr(l.e[2].path, "R__views_a.sql") &&
	    strstr(l.e[3].path, "R__views_b.sql"),
	    "repeatables after the versioned ones, by description");
	ok(l.n == 4 && layout_repeatable(l.e[2].version) &&
	    !layout_repeatable(l.e[1].version), "repeatable versions");
	layout_release(&l);

	d = folder();
	put(d, "0001_a.sql", "SELECT 1;\n");
	put(d, "schema.rb", "x\n");
	is_int(list(d, LAYOUT_AUTO, &l), -1, "unknown file refused");
	ok(strstr(err, "schema.rb") != NULL, "unknown file named");

	d = folder();
	put(d, "001_a.sql", "-- +goose Up\nSELECT 1;\n");
	is_int(list(d, LAYOUT_FLYWAY, &l), -1, "forced flyway on goose");
	ok(strstr(err, "001_a.sql") != NULL, "forced layout names the file");
}

static void
test_goose_load(void)
{
	struct layout l;
	struct sqlfile sf;
	const char *d = folder();

	put(d, "00001_fn.sql",
	    "-- +goose Up\n"
	    "-- +goose StatementBegin\n"
	    "CREATE FUNCTION f() RETURNS int AS $$\n"
	    "BEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n"
	    "-- +goose StatementEnd\n"
	    "CREATE TABLE t (id int);\n"
	    "-- +goose Down\n"
	    "DROP TABLE t;\nDROP FUNCTION f();\n");
	put(d, "00002_idx.sql",
	    "-- +goose NO TRANSACTION\n"
	    "-- +goose Up\n"
	    "CREATE INDEX CONCURRENTLY i1 ON t (id);\n"
	    "CREATE INDEX CONCURRENTLY i2 ON t (id);\n"
	    "-- +goose Down\n"
	    "DROP INDEX CONCURRENTLY i2;\n");
	put(d, "00003_env.sql",
	    "-- +goose Up\n"
	    "-- +goose ENVSUB ON\n"
	    "CREATE TABLE ${T_LAYOUT_TABLE} (x text DEFAULT '${T_UNSET:-d}');\n"
	    "-- +goose ENVSUB OFF\n"
	    "SELECT '${T_LAYOUT_TABLE}';\n");
	put(d, "00004_bad.sql", "-- +goose Up\nSELECT 1;\n-- +goose Sideways\n");
	setenv("T_LAYOUT_TABLE", "envt", 1);
	if (list(d, LAYOUT_AUTO, &l) < 0) {
		ok(0, err);
		return;
	}
	is_int(l.n, 4, "goose: four files");
	is_int(load(&l, 0, &sf), 0, "goose: function file loads");
	is_int(sf.up.n, 2, "goose up: function and table, not the down part");
	is_int(sf.down.n, 2, "goose down: two statements");
	ok(strstr(sf.up.stmts[0].sql, "RETURN 1;") != NULL,
	    "goose: the dollar-quoted body stays one statement");
	ok(!sf.up.no_transaction, "goose: transactional by default");
	sqlfile_release(&sf);
	is_int(load(&l, 1, &sf), 0, "goose: NO TRANSACTION file loads");
	ok(sf.up.no_transaction && sf.down.no_transaction,
	    "goose: NO TRANSACTION for both directions");
	is_int(sf.up.n, 2, "goose: two statements in a no-transaction up");
	sqlfile_release(&sf);
	is_int(load(&l, 2, &sf), 0, "goose: ENVSUB file loads");
	ok(sf.up.n == 2 && strstr(sf.up.stmts[0].sql, "CREATE TABLE envt") &&
	    strstr(sf.up.stmts[0].sql, "'d'"),
	    "goose: ENVSUB replaces ${NAME} and ${NAME:-default}");
	ok(sf.up.n == 2 && strstr(sf.up.stmts[1].sql, "${T_LAYOUT_TABLE}"),
	    "goose: no substitution after ENVSUB OFF");
	sqlfile_release(&sf);
	is_int(load(&l, 3, &sf), -1, "goose: unknown annotation refused");
	ok(strstr(err, "00004_bad.sql:3") != NULL, "with file:line");
	sqlfile_release(&sf);
	layout_release(&l);
}

static void
test_sql_migrate_load(void)
{
	struct layout l;
	struct sqlfile sf, sf2;
	const char *d = folder();

	put(d, "1-init.sql",
	    "-- +migrate Up\n"
	    "CREATE TABLE t (id int);\n"
	    "-- +migrate StatementBegin\n"
	    "CREATE FUNCTION g() RETURNS int AS $b$ SELECT 1; $b$ "
	    "LANGUAGE sql;\n"
	    "-- +migrate StatementEnd\n"
	    "-- +migrate Down\n"
	    "DROP TABLE t;\n");
	put(d, "2-idx.sql",
	    "-- +migrate Up notransaction\n"
	    "CREATE INDEX CONCURRENTLY i ON t (id);\n"
	    "-- +migrate Down\n"
	    "DROP INDEX i;\n");
	if (list(d, LAYOUT_AUTO, &l) < 0) {
		ok(0, err);
		return;
	}
	is_str(l.e[0].id, "1-init.sql", "sql-migrate id is the file name");
	is_str(l.e[0].name, "init", "sql-migrate name after the dash");
	is_int(load(&l, 0, &sf), 0, "sql-migrate file loads");
	is_int(sf.up.n, 2, "sql-migrate up: two statements");
	is_int(sf.down.n, 1, "sql-migrate down: one statement");
	is_int(load(&l, 1, &sf2), 0, "notransaction file loads");
	ok(sf2.up.no_transaction && !sf2.down.no_transaction,
	    "notransaction applies to its own direction only");
	sqlfile_release(&sf);
	sqlfile_release(&sf2);
	layout_release(&l);
}

static void
test_folder_layouts_load(void)
{
	struct layout l;
	struct sqlfile sf;
	const char *d = folder();

	put(d, "2020-01-01-000000_a/up.sql", "CREATE TABLE a (id int);\n");
	put(d, "2020-01-01-000000_a/down.sql", "DROP TABLE a;\n");
	put(d, "2020-01-02-000000_b/up.sql",
	    "CREATE INDEX CONCURRENTLY ia ON a (id);\n");
	put(d, "2020-01-02-000000_b/metadata.toml",
	    "run_in_transaction = false\n");
	if (list(d, LAYOUT_AUTO, &l) < 0) {
		ok(0, err);
		return;
	}
	is_int(load(&l, 0, &sf), 0, "diesel up/down load");
	ok(sf.down.present && sf.down.n == 1, "diesel down.sql is the down");
	ok(!sf.up.no_transaction, "diesel: transactional by default");
	sqlfile_release(&sf);
	is_int(load(&l, 1, &sf), 0, "diesel with metadata.toml loads");
	ok(sf.up.no_transaction, "diesel: run_in_transaction = false");
	ok(!sf.down.present, "diesel: no down.sql, no down section");
	sqlfile_release(&sf);
	layout_release(&l);

	d = folder();
	put(d, "V1__t.sql", "CREATE TABLE t (id int);\n");
	put(d, "V2__i.sql", "CREATE INDEX CONCURRENTLY i ON t (id);\n");
	put(d, "V3__u.sql", "UPDATE t SET id = 1;\n");
	put(d, "V3__u.sql.conf", "executeInTransaction=false\n");
	if (list(d, LAYOUT_AUTO, &l) < 0) {
		ok(0, err);
		return;
	}
	is_int(l.n, 3, "flyway: .sql.conf is no migration of its own");
	is_int(load(&l, 0, &sf), 0, "flyway V1 loads");
	ok(!sf.up.no_transaction, "flyway: transactional by default");
	sqlfile_release(&sf);
	is_int(load(&l, 1, &sf), 0, "flyway V2 loads");
	ok(sf.up.no_transaction,
	    "flyway: CREATE INDEX CONCURRENTLY runs outside a transaction");
	sqlfile_release(&sf);
	is_int(load(&l, 2, &sf), 0, "flyway V3 loads");
	ok(sf.up.no_transaction, "flyway: executeInTransaction=false");
	sqlfile_release(&sf);
	layout_release(&l);
}

static void
test_next_version(void)
{
	char v[64];
	time_t t = 1700000000;	/* 2023-11-14 22:13:20 UTC */

	layout_next_version(NULL, t, v, sizeof(v));
	is_str(v, "20231114221320", "next: an empty folder gets the time");
	layout_next_version("00009", t, v, sizeof(v));
	is_str(v, "00010", "next: a sequence goes on, as wide");
	layout_next_version("20231114221320", t, v, sizeof(v));
	is_str(v, "20231114221321", "next: not before the newest timestamp");
	layout_next_version("20231114221320", t + 60, v, sizeof(v));
	is_str(v, "20231114221420", "next: a later time");
	layout_next_version("1.9", t, v, sizeof(v));
	is_str(v, "1.10", "next: Flyway 1.9 -> 1.10");
	layout_next_version("2_0_99", t, v, sizeof(v));
	is_str(v, "2_0_100", "next: Flyway 2_0_99 -> 2_0_100");
	layout_next_version("1.2.3", t, v, sizeof(v));
	is_str(v, "1.2.4", "next: Flyway 1.2.3 -> 1.2.4");
}

/* 1 when dir/name exists. */
static int
access_ok(const char *dir, const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/*
 * Create in a folder of each layout, then list it again: still that one
 * layout, one migration more, the newest named as asked, and what was
 * made reads (sections found).
 */
static void
create_in(enum layout_format fmt, const char *d, size_t files)
{
	struct layout l, after;
	struct strv made = { NULL, 0, 0 };
	struct sqlfile sf;
	const char *n = layout_name(fmt);
	char what[128];
	size_t before, i;

	if (list(d, LAYOUT_AUTO, &l) < 0) {
		ok(0, err);
		return;
	}
	before = l.n;
	snprintf(what, sizeof(what), "create in a %s folder", n);
	is_int(layout_create(l.format, &l, d, "add_b", 1700000000, &made, err,
	    sizeof(err)), 0, what);
	snprintf(what, sizeof(what), "%s: %zu file(s) made", n, files);
	is_int((int)made.n, (int)files, what);
	snprintf(what, sizeof(what), "%s: still one %s folder", n, n);
	ok(list(d, LAYOUT_AUTO, &after) == 0 && after.format == fmt, what);
	for (i = 0; i < after.n && !strstr(after.e[i].name, "add_b"); i++)
		;
	snprintf(what, sizeof(what), "%s: one migration more, named add_b", n);
	ok(after.n == before + 1 && i < after.n, what);
	snprintf(what, sizeof(what), "%s: what was made reads", n);
	ok(i < after.n && load(&after, i, &sf) == 0, what);
	if (i < after.n)
		sqlfile_release(&sf);
	snprintf(what, sizeof(what), "%s: never over an existing file", n);
	strv_release(&made);
	ok(layout_create(l.format, &l, d, "add_b", 1700000000, &made, err,
	    sizeof(err)) < 0 && strstr(err, "could not create"), what);
	strv_release(&made);
	layout_release(&l);
	layout_release(&after);
}

static void
test_create(void)
{
	const char *d;

	d = folder();
	put(d, "00001_a.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\n"
	    "SELECT 2;\n");
	create_in(LAYOUT_GOOSE, d, 1);
	d = folder();
	put(d, "20230101120000-a.sql", "-- +migrate Up\nSELECT 1;\n");
	create_in(LAYOUT_SQL_MIGRATE, d, 1);
	d = folder();
	put(d, "000001_a.up.sql", "SELECT 1;\n");
	put(d, "000001_a.down.sql", "SELECT 2;\n");
	create_in(LAYOUT_GOLANG_MIGRATE, d, 2);
	d = folder();
	put(d, "V1.9__a.sql", "SELECT 1;\n");
	put(d, "R__views.sql", "SELECT 3;\n");	/* after every version */
	create_in(LAYOUT_FLYWAY, d, 1);
	ok(access_ok(d, "V1.10__add_b.sql"), "flyway: after 1.9 comes 1.10");
	d = folder();
	put(d, "2023-01-01-120000_a/up.sql", "SELECT 1;\n");
	put(d, "2023-01-01-120000_a/down.sql", "SELECT 2;\n");
	create_in(LAYOUT_DIESEL, d, 2);
	d = folder();
	put(d, "20230101120000_a/migration.sql", "SELECT 1;\n");
	put(d, "migration_lock.toml", "provider = \"postgresql\"\n");
	create_in(LAYOUT_PRISMA, d, 1);
}

int
main(void)
{
	char cmd[600];

	snprintf(root, sizeof(root), "%s/t_layout.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	test_flyway_version();
	test_flyway_key();
	test_detect();
	test_refusals();
	test_goose_load();
	test_sql_migrate_load();
	test_folder_layouts_load();
	test_next_version();
	test_create();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return done_testing();
}
