/*
 * t_migset.c - the set of migrations without PostgreSQL: files on disk
 * joined with recorded rows, each one's state, the history rules and the
 * version `migrate create` picks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "migset.h"
#include "tap.h"

static char dir[] = "/tmp/t_migset.XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		printf("Bail out! could not write %s\n", path);
		exit(1);
	}
}

static void
rm(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

static struct migrow
row(const char *version, const char *name, const char *checksum,
    const char *status)
{
	struct migrow r;

	memset(&r, 0, sizeof(r));
	r.version = version;
	r.name = name;
	r.checksum = checksum;
	r.status = status;
	r.applied_at = "";
	r.release = "";
	return r;
}

static void
test_join(void)
{
	struct migset s;
	struct migrow r;
	size_t *pend, np;
	struct migcount c;
	char sum1[SQLFILE_CHECKSUM_LEN + 1];

	put("0001_users.sql", "CREATE TABLE users (id int);\n");
	put("0002_posts.up.sql", "CREATE TABLE posts (id int);\n");
	put("0002_posts.down.sql", "DROP TABLE posts;\n");
	put("0003_tags.sql", "CREATE TABLE tags (id int);\n");
	put("README.md", "not a migration\n");

	migset_init(&s, dir);
	is_int(migset_finish(&s), 0, "a clean directory lists and reads");
	is_int((int)s.n, 3, "three migrations (a pair is one)");
	ok(s.m[1].f.down_path != NULL, "the pair's down file is joined");
	is_str(mig_label(&s.m[2]), "0003_tags", "label keeps the width");
	sqlfile_sha256("CREATE TABLE users (id int);\n", 29, sum1);
	is_str(s.m[0].f.checksum, sum1, "checksum is the file's SHA-256");

	/* 1 applied as is, 2 applied with another checksum, 7 not here */
	r = row("1", "users", sum1, "succeeded");
	is_int(migset_add_row(&s, &r), 0, "row 1 joins");
	r = row("2", "posts", "0000", "succeeded");
	is_int(migset_add_row(&s, &r), 0, "row 2 joins");
	r = row("7", "gone", "ffff", "succeeded");
	is_int(migset_add_row(&s, &r), 0, "row 7 joins");
	r = row("x7", "bad", "ffff", "succeeded");
	is_int(migset_add_row(&s, &r), -1, "a version that is no number: -1");
	migset_rows_done(&s);
	is_int((int)s.n, 4, "a row without a file adds an entry");
	is_int(mig_state(&s.m[0]), ST_APPLIED, "same checksum: applied");
	is_int(mig_state(&s.m[1]), ST_CHANGED, "other checksum: changed");
	is_int(mig_state(&s.m[2]), ST_PENDING, "no row: pending");
	is_int(mig_state(&s.m[3]), ST_MISSING, "no file: missing");
	is_str(mig_label(&s.m[3]), "7_gone", "label of a missing one");
	is_str(mig_state_name(ST_MISSING), "missing", "state names");
	ok(migset_find(&s, 7) == &s.m[3], "find by version");
	ok(migset_find(&s, 5) == NULL, "find: absent version");
	ok(migset_top(&s) == &s.m[3], "top: highest with a row");
	np = migset_pending(&s, &pend);
	is_int((int)np, 1, "one pending");
	is_int((int)pend[0], 2, "it is 0003");
	free(pend);
	migset_count(&s, &c);
	is_int((int)c.pending, 1, "count: pending");
	is_int((int)c.missing, 1, "count: applied, not in this image");
	is_int((int)c.changed, 1, "count: applied, then changed");
	is_int(migset_check_history(&s), EXIT_DATAERR,
	    "changed and missing stop migrate");

	migset_forget_rows(&s);
	is_int((int)s.n, 3, "forget: the entry without a file goes");
	is_int(mig_state(&s.m[0]), ST_PENDING, "forget: rows gone");
	is_int(migset_check_history(&s), 0, "nothing recorded: clean");

	r = row("3", "tags", NULL, "baseline");
	is_int(migset_add_row(&s, &r), 0, "a baseline marker row");
	r = row("1", "users", sum1, "failed");
	is_int(migset_add_row(&s, &r), 0, "a failed row");
	migset_rows_done(&s);
	is_int(mig_state(&s.m[2]), ST_BASELINE, "no checksum: baseline");
	is_int(mig_state(&s.m[0]), ST_FAILED, "failed stays failed");
	is_int(migset_check_history(&s), EXIT_DATAERR, "failed stops migrate");
	migset_release(&s);
}

static void
test_bad_dirs(void)
{
	struct migset s;
	char path[512];

	put("0003_again.sql", "SELECT 1;\n");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR, "duplicate version: 65");
	migset_release(&s);
	rm("0003_again.sql");

	put("0009_lone.down.sql", "SELECT 1;\n");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR, "a .down.sql alone: 65");
	migset_release(&s);
	rm("0009_lone.down.sql");

	put("init.sql", "SELECT 1;\n");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR, "a .sql name without version");
	migset_release(&s);
	rm("init.sql");

	put("5_upper.SQL", "SELECT 1;\n");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR, "5_upper.SQL is reported");
	migset_release(&s);
	rm("5_upper.SQL");

	snprintf(path, sizeof(path), "%s/0008_fifo.sql", dir);
	ok(mkfifo(path, 0600) == 0, "a FIFO named like a migration");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR,
	    "is reported, not opened (that would wait for a writer)");
	migset_release(&s);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/0007_dir.sql", dir);
	ok(mkdir(path, 0700) == 0, "a directory named like a migration");
	migset_init(&s, dir);
	is_int(migset_finish(&s), EXIT_DATAERR, "is reported");
	migset_release(&s);
	(void)rmdir(path);

	migset_init(&s, "/nonexistent/t_migset");
	is_int(migset_finish(&s), EXIT_CONFIG, "no directory: 78");
	migset_release(&s);
}

static void
test_next_version(void)
{
	char ver[40];
	time_t t = 1700000000;	/* 2023-11-14 22:13:20 UTC */

	is_int(migset_next_version(dir, t, ver, sizeof(ver)), 0,
	    "next version");
	is_str(ver, "0004", "after 0003: the next number, same width");
	put("20231114221320_ts.sql", "SELECT 1;\n");
	is_int(migset_next_version(dir, t, ver, sizeof(ver)), 0,
	    "next version after a timestamp");
	is_str(ver, "20231114221321", "same second: one later");
	is_int(migset_next_version(dir, t + 60, ver, sizeof(ver)), 0,
	    "a minute later");
	is_str(ver, "20231114221420", "a minute later: the UTC time");
	rm("20231114221320_ts.sql");
}

static void
cleanup(void)
{
	static const char *const names[] = { "0001_users.sql",
		"0002_posts.up.sql", "0002_posts.down.sql", "0003_tags.sql",
		"README.md" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rm(names[i]);
	(void)rmdir(dir);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_join();
	test_bad_dirs();
	test_next_version();
	cleanup();
	return done_testing();
}
