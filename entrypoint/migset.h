/*
 * migset.h - the set of migrations: the files on disk joined with the rows
 * recorded in <schema>.migrations, each one's state, and the history rules
 * (what stops migrate, what is pending, which version `create` takes next).
 *
 * Plain data in, answers out: nothing here talks to the database, so the
 * unit tests run it without PostgreSQL.  Rows come in through
 * migset_add_row() as strings the caller keeps alive (migsession.c keeps
 * the PGresult).  Functions that judge log what they find (stderr) and
 * return an exit code; the rest print nothing.
 */
#ifndef MIGSET_H
#define MIGSET_H

#include <stddef.h>
#include <time.h>

#include "layout.h"
#include "sqlfile.h"

/* One migration: its file, its record, or both. */
struct mig {
	struct sqlfile f;	/* f.path NULL: no file (missing) */
	char *key;		/* the order when f.version is not (a Flyway
				   folder: layout_sort_key()), or NULL */
	int has_file;
	int has_row;
	/* the record: pointers into the caller's rows */
	const char *row_name;
	const char *row_checksum;	/* NULL: a baseline marker */
	const char *status;	/* succeeded running failed baseline */
	const char *applied_at;
	const char *release;
	const char *error;
};

/* A row of <schema>.migrations, as text (NULL for SQL NULL). */
struct migrow {
	const char *version;
	const char *name;
	const char *checksum;
	const char *status;
	const char *applied_at;
	const char *release;
	const char *error;
};

struct migset {
	const char *dir;	/* the migrations directory */
	struct mig *m;		/* sorted by version (see migset_add_row) */
	size_t n, cap;
	size_t nsorted;		/* m[0..nsorted) is sorted */
	int opened;		/* the layout's listing began */
	int no_dir;		/* ... and found no directory */
	int dir_fd, have_fd;	/* migset_open(): the folder, open */
	int listed;		/* migset_list() ran */
	int code;		/* 0 or the exit code of a bad file */
	size_t nfiles, nread;	/* files listed, files read so far */
	const char *format;	/* caller: [database] format, NULL: auto */
	struct layout lay;	/* the folder's layout; for another tool's
				   layout, lay.e[i] is m[i] (i < nfiles) */
};

enum mig_state { ST_PENDING, ST_APPLIED, ST_CHANGED, ST_MISSING, ST_FAILED,
	ST_RUNNING, ST_BASELINE };

/* "pending", "applied", ... */
const char *mig_state_name(enum mig_state s);
enum mig_state mig_state(const struct mig *m);
/* "0003_add_users" or, without a file, "3_add_users" (static buffer; the
 * last two results stay valid). */
const char *mig_label(const struct mig *m);

/*
 * Parse m's file: sections, statements and the content rules, all in
 * sqlfile_parse().  Return 0, or -1 after logging.
 */
int mig_parse(struct mig *m);

void migset_init(struct migset *s, const char *dir);
void migset_release(struct migset *s);

/*
 * List the directory in its layout (layout.h: detected, or s->format) and
 * group its files into migrations (names only:
 * duplicates and unmatched .down.sql files are found before anything
 * else).  Return 0, EXIT_CONFIG, EXIT_OSERR or EXIT_DATAERR after logging;
 * also kept in s->code.
 */
int migset_list(struct migset *s);
/*
 * Open the folder (and check [database] format) before anything else:
 * what cannot be listed is said, and returns its exit code, before a
 * connection is made, whatever the listing's steps do later.  Return 0 or
 * that code (also in s->code).
 */
int migset_open(struct migset *s);
/*
 * Read and hash the next few files (listing first when needed).  Return 1
 * while files remain, 0 when done, -1 when listing failed.  Shaped as
 * db_options.idle: it runs while the server has not answered yet.
 */
int migset_step(void *arg);
/* Read whatever migset_step() has not read yet; return s->code. */
int migset_finish(struct migset *s);

/*
 * Join one recorded row with the files: the entry of its version gets the
 * row, or a new entry without a file is added.  Call migset_rows_done()
 * after the last one.  Return 0, or -1 after logging an invalid version.
 */
int migset_add_row(struct migset *s, const struct migrow *r);
void migset_rows_done(struct migset *s);
/* Drop every row again (entries without a file go): before a re-read. */
void migset_forget_rows(struct migset *s);

struct mig *migset_find(struct migset *s, long long version);
/*
 * The migration arg names, as a user would name it from what status and
 * the folder show: its label ("0003_add_users"), its version as written
 * ("0003", Flyway's "1.2"), what its tool records (sql-migrate's file
 * name, Prisma's folder), or the number ("3").  NULL when none is.
 */
struct mig *migset_find_arg(struct migset *s, const char *arg);
/* The order of two migrations: <0, 0 or >0. */
int migset_cmp(const struct mig *a, const struct mig *b);
/* The applied entry of highest version, or NULL. */
const struct mig *migset_top(const struct migset *s);
/* Indexes of the pending migrations in order, in *out (caller frees). */
size_t migset_pending(const struct migset *s, size_t **out);
struct migcount {
	size_t pending;		/* pending, or failed/running (to run again) */
	size_t missing;		/* applied, with no file here */
	size_t changed;		/* applied, and the file changed since */
};
void migset_count(const struct migset *s, struct migcount *c);
/*
 * The history rules of migrate and down: a changed, missing, failed or
 * running migration stops them.  Log each with what to do; return 0 or
 * EXIT_DATAERR.
 */
int migset_check_history(const struct migset *s);
/*
 * The version `migrate create` gives a new file in dir at time now: the
 * UTC timestamp YYYYMMDDHHMMSS, unless the last file uses another width
 * (then the next number, zero-padded like it) or a later version.  Return
 * 0, or the exit code of migset_list() after logging.
 */
int migset_next_version(const char *dir, time_t now, char *ver,
    size_t size);

#endif
