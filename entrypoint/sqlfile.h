/*
 * sqlfile.h - read a migration file: its name, markers, sections and
 * statements.
 *
 * File names: VERSION_name.sql (optional "-- migrate:up" and
 * "-- migrate:down" sections) or the golang-migrate pair
 * VERSION_name.up.sql / VERSION_name.down.sql.  VERSION is 1 to 18 digits,
 * compared as a number.  A marker line may carry "transaction:false".
 *
 * Statements are split as psql splits them, so that a file applies as
 * `psql -X -1 -v ON_ERROR_STOP=1 -f FILE` would apply it: -- and nested
 * block comments, '...' and E'...' strings, "quoted" identifiers,
 * $tag$ dollar quotes, semicolons inside parentheses and inside
 * CREATE FUNCTION ... BEGIN ATOMIC ... END, and COPY ... FROM stdin followed
 * by inline rows up to a line "\.".  Other psql meta-commands (\i, \set, ...)
 * are refused with file:line.  A file's own BEGIN/COMMIT is marked so that a
 * transactional migration does not send it (psql -1 would end its outer
 * transaction there).  psql variables (:name) are not interpolated.
 *
 * Functions here print nothing: errors come back as "FILE:LINE: reason" in
 * the caller's buffer.
 */
#ifndef SQLFILE_H
#define SQLFILE_H

#include <stddef.h>

#define SQLFILE_VERSION_DIGITS 18
#define SQLFILE_CHECKSUM_LEN 64		/* hex SHA-256 */

enum sqlfile_kind {
	SQLFILE_SINGLE,		/* VERSION_name.sql */
	SQLFILE_UP,		/* VERSION_name.up.sql */
	SQLFILE_DOWN		/* VERSION_name.down.sql */
};

struct sql_stmt {
	char *sql;		/* the statement, without its ';' */
	int line;		/* its first line in the file */
	int txn_control;	/* the file's own BEGIN/COMMIT/END */
	int copy_in;		/* COPY ... FROM stdin: rows in copy_data */
	char *copy_data;	/* the rows, each ending in '\n' but a
				   last one cut off by the end of the file
				   (as psql sends it) */
	size_t copy_len;
};

struct sql_section {
	int present;		/* the file has this section */
	int no_transaction;	/* "transaction:false" */
	int line;		/* line of its first byte */
	const char *text;	/* points into the file's text */
	size_t len;
	struct sql_stmt *stmts;	/* after sqlfile_parse() */
	size_t n;
	int has_copy;
};

struct sqlfile {
	long long version;
	char *version_str;	/* as written, e.g. "0003" */
	char *name;		/* "add_users" */
	char *path;		/* dir/file of the up (or single) file */
	char *down_path;	/* the .down.sql of a pair, or NULL */
	char *text;		/* the up (or single) file's bytes */
	size_t len;
	char *down_text;	/* the .down.sql's bytes, or NULL */
	size_t down_len;
	char checksum[SQLFILE_CHECKSUM_LEN + 1];
	int parsed;
	struct sql_section up, down;
};

/*
 * Parse a directory entry's name.  Return 1 and fill *version, *version_str
 * (malloc'd), *name (malloc'd) and *kind for a migration file name; 0 for a
 * name that is no migration file and is skipped (no ".sql" suffix, hidden);
 * -1 with a reason in err for a ".sql" name that does not parse.
 */
int sqlfile_parse_name(const char *fname, long long *version,
    char **version_str, char **name, enum sqlfile_kind *kind, char *err,
    size_t errsz);

/*
 * Read path (and down_path, may be NULL) into sf, keeping copies of both
 * names, and compute the checksum: the SHA-256 of the up part, i.e. the
 * .up.sql file, or everything before the "-- migrate:down" marker of a
 * single file (so that editing the down section of an applied migration is
 * allowed).  Return 0, or -1 with a reason in err.
 */
int sqlfile_read(struct sqlfile *sf, const char *path, const char *down_path,
    char *err, size_t errsz);

/* Read a single file's text from memory (tests); takes a copy. */
int sqlfile_read_mem(struct sqlfile *sf, const char *path, const char *text,
    size_t len, char *err, size_t errsz);

/*
 * Find the sections and split them into statements.  Return 0, or -1 with
 * "FILE:LINE: reason" in err (unterminated quote or comment, a psql
 * meta-command, a marker out of place, an unknown marker option).
 */
int sqlfile_parse(struct sqlfile *sf, char *err, size_t errsz);

/*
 * Split text (len bytes, line numbers counted from first_line) into
 * statements.  path is used in messages only.  Return 0, or -1 with a
 * reason in err.
 */
int sqlfile_split(const char *text, size_t len, const char *path,
    int first_line, struct sql_section *sec, char *err, size_t errsz);

void sqlfile_section_release(struct sql_section *sec);
void sqlfile_release(struct sqlfile *sf);

/* Hex SHA-256 of buf into out (SQLFILE_CHECKSUM_LEN + 1 bytes). */
void sqlfile_sha256(const void *buf, size_t len, char *out);

#endif
