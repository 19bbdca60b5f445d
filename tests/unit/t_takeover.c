/*
 * t_takeover.c - which migrations another tool's history says are
 * applied (takeover_decide), without PostgreSQL: goose's append-only rows,
 * golang-migrate's single row, Flyway's baseline and failures, Prisma's
 * rolled-back and failed attempts, sql-migrate's file names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "takeover.h"
#include "tap.h"

#include "tfiles.h"

static char err[1024];

/* Decide; return "i,j,k" of the applied indexes, or "ERR". */
static const char *
decide(struct migset *s, const struct takeover_row *rows, size_t n)
{
	static char buf[256];
	size_t *idx = NULL, k, i;

	err[0] = buf[0] = '\0';
	if (takeover_decide(s->lay.format, "tbl", rows, n, s, &idx, &k, err,
	    sizeof(err)) < 0)
		return "ERR";
	for (i = 0; i < k; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%zu",
		    i ? "," : "", idx[i]);
	free(idx);
	return buf;
}

static void
test_goose(void)
{
	struct migset s;
	const char *d = folder();
	struct takeover_row r1[] = { { "0", "skip", NULL }, { "1", "applied", NULL },
		{ "2", "applied", NULL }, { "3", "applied", NULL }, { "3", "reverted", NULL } };
	struct takeover_row r2[] = { { "1", "applied", NULL }, { "7", "applied", NULL } };

	put(d, "00001_a.sql", "-- +goose Up\nSELECT 1;\n");
	put(d, "00002_b.sql", "-- +goose Up\nSELECT 2;\n");
	put(d, "00003_c.sql", "-- +goose Up\nSELECT 3;\n");
	migset_init(&s, d);
	is_int(migset_finish(&s), 0, "goose folder read");
	is_str(decide(&s, r1, 5), "0,1", "goose: the last row of a version "
	    "wins; version 0 is goose's marker");
	is_str(decide(&s, r2, 2), "ERR", "goose: a version the folder lacks");
	ok(strstr(err, "\"7\"") && strstr(err, "no file"),
	    "the message names it");
	migset_release(&s);
}

static void
test_golang(void)
{
	struct migset s;
	const char *d = folder();
	struct takeover_row ok_row[] = { { "20", "applied", NULL } };
	struct takeover_row dirty[] = { { "20", "dirty", NULL } };

	put(d, "10_a.up.sql", "SELECT 1;\n");
	put(d, "20_b.1.0.up.sql", "SELECT 2;\n");
	put(d, "30_c.up.sql", "SELECT 3;\n");
	migset_init(&s, d);
	is_int(migset_finish(&s), 0, "golang-migrate folder read");
	is_str(decide(&s, ok_row, 1), "0,1",
	    "golang-migrate: its one row means every version up to it");
	is_str(decide(&s, dirty, 1), "ERR", "golang-migrate: dirty refused");
	ok(strstr(err, "dirty") && strstr(err, "migrate force"),
	    "says how to fix it with golang-migrate");
	migset_release(&s);
}

static void
test_flyway(void)
{
	struct migset s;
	const char *d = folder();
	struct takeover_row base[] = { { "1.9", "baseline", NULL },
		{ "1.10", "applied", NULL } };
	struct takeover_row failed[] = { { "1.1", "applied", NULL },
		{ "1.9", "failed", NULL } };
	struct takeover_row undo[] = { { "1.1", "applied", NULL },
		{ "1.9", "applied", NULL }, { "1.9", "reverted", NULL } };

	put(d, "V1.1__a.sql", "SELECT 1;\n");
	put(d, "V1.9__b.sql", "SELECT 2;\n");
	put(d, "V1.10__c.sql", "SELECT 3;\n");
	put(d, "V1.11__d.sql", "SELECT 4;\n");
	migset_init(&s, d);
	is_int(migset_finish(&s), 0, "flyway folder read");
	is_str(decide(&s, base, 2), "0,1,2",
	    "flyway: a baseline covers the versions up to it");
	is_str(decide(&s, failed, 2), "ERR", "flyway: a failed row refused");
	ok(strstr(err, "1.9") && strstr(err, "flyway repair"),
	    "names it and says flyway repair");
	is_str(decide(&s, undo, 3), "0", "flyway: an undo row undoes");
	migset_release(&s);
}

static void
test_prisma_sql_migrate(void)
{
	struct migset s;
	const char *d = folder();
	struct takeover_row p[] = { { "20230101000000_a", "applied", NULL },
		{ "20230102000000_b", "reverted", NULL },
		{ "20230102000000_b", "applied", NULL } };
	struct takeover_row pf[] = { { "20230101000000_a", "failed", NULL } };
	struct takeover_row sm[] = { { "2-b.sql", "applied", NULL } };

	put(d, "20230101000000_a/migration.sql", "SELECT 1;\n");
	put(d, "20230102000000_b/migration.sql", "SELECT 2;\n");
	migset_init(&s, d);
	is_int(migset_finish(&s), 0, "prisma folder read");
	is_str(decide(&s, p, 3), "0,1",
	    "prisma: a rolled-back attempt then a finished one is applied");
	is_str(decide(&s, pf, 1), "ERR", "prisma: a failed attempt refused");
	ok(strstr(err, "prisma migrate resolve") != NULL,
	    "says prisma migrate resolve");
	migset_release(&s);

	d = folder();
	put(d, "1-a.sql", "-- +migrate Up\nSELECT 1;\n");
	put(d, "2-b.sql", "-- +migrate Up\nSELECT 2;\n");
	migset_init(&s, d);
	is_int(migset_finish(&s), 0, "sql-migrate folder read");
	is_str(decide(&s, sm, 1), "1", "sql-migrate: matched by file name");
	migset_release(&s);
}

int
main(void)
{
	char cmd[600];

	snprintf(root, sizeof(root), "%s/t_takeover.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	test_goose();
	test_golang();
	test_flyway();
	test_prisma_sql_migrate();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return done_testing();
}
