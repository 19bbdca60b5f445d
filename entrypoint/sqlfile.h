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
 * are refused with file:line.  psql variables (:name) are not interpolated.
 * A UTF-8 byte-order mark at the start of a file is skipped, as psql skips
 * it.
 *
 * The rules about a file's content live here, in sqlfile_parse(), so that
 * check, status, plan and migrate judge a file alike:
 * - A file's own BEGIN/COMMIT is marked so that a transactional migration
 *   does not send it (psql -1 would end its outer transaction there).
 * - A ROLLBACK (or ABORT) in a section that runs in a transaction is
 *   refused: psql -1 would undo what came before and run the rest outside
 *   any transaction.
 * - A transactional section's own transaction options are kept: a leading
 *   BEGIN/START TRANSACTION with its modes (ISOLATION LEVEL, READ ONLY,
 *   DEFERRABLE) and the SET TRANSACTION statements that follow it open the
 *   migration's transaction, before any statement of ours takes a
 *   snapshot (psql -1 sends its BEGIN, then the file's, whose modes
 *   PostgreSQL applies to the open transaction).
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

/* What a statement does to the transaction. */
enum sql_txn {
	SQL_TXN_NONE,
	SQL_TXN_BEGIN,		/* BEGIN, START TRANSACTION */
	SQL_TXN_COMMIT,		/* COMMIT, END */
	SQL_TXN_ROLLBACK,	/* ROLLBACK, ABORT (not TO SAVEPOINT) */
	SQL_TXN_SET		/* SET TRANSACTION ... */
};

struct sql_stmt {
	char *sql;		/* the statement, without its ';' */
	int line;		/* its first line in the file */
	int txn_control;	/* enum sql_txn: BEGIN, COMMIT, ... */
	int read_only;		/* 1: says READ ONLY, -1: READ WRITE, 0 */
	int adds_enum_value;	/* ALTER TYPE ... ADD VALUE */
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
	size_t nlead;		/* stmts[0..nlead) open the transaction:
				   a BEGIN with its modes, SET TRANSACTION */
	int read_only;		/* those make it READ ONLY */
	int adds_enum_value;	/* a statement adds an enum value */
};

/* Migration files are SQL text; anything bigger is a mistake. */
#define SQLFILE_MAX (256L * 1024 * 1024)

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
	int sections_set;	/* up/down located by another layout's reader
				   (layout.h): sqlfile_parse() only splits */
	struct sql_section up, down;
};

/*
 * Parse a directory entry's name.  Return 1 and fill *version, *version_str
 * (malloc'd; not when NULL), *name (malloc'd; not when NULL) and *kind for
 * a migration file name; 0 for a
 * name that is no migration file and is skipped (no ".sql" suffix, hidden);
 * -1 with a reason in err for a ".sql" name that does not parse, and for a
 * name like a migration's with the suffix in another case ("5_x.SQL"),
 * which would otherwise be skipped without a word.
 */
int sqlfile_parse_name(const char *fname, long long *version,
    char **version_str, char **name, enum sqlfile_kind *kind, char *err,
    size_t errsz);

/*
 * Read path (and down_path, may be NULL) into sf, keeping copies of both
 * names, and compute the checksum: the SHA-256 of the up part, i.e. the
 * .up.sql file, or everything before the "-- migrate:down" marker of a
 * single file (so that editing the down section of an applied migration is
 * allowed).  A text already in sf (the listing read the file once, see
 * layout.h) is used as it is, not read again.  Return 0, or -1 with a
 * reason in err.
 */
int sqlfile_read(struct sqlfile *sf, const char *path, const char *down_path,
    char *err, size_t errsz);

/* Read a single file's text from memory (tests); takes a copy. */
int sqlfile_read_mem(struct sqlfile *sf, const char *path, const char *text,
    size_t len, char *err, size_t errsz);

/*
 * Find the sections, split them into statements and apply the content
 * rules above.  Return 0, or -1 with "FILE:LINE: reason" in err
 * (unterminated quote or comment, a psql meta-command, a marker out of
 * place, an unknown marker option, a ROLLBACK in a transaction).
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
