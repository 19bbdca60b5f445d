/*
 * layout.h - read a migrations folder as the tool that wrote it lays it
 * out: dbmate (entrypoint's own), golang-migrate, goose, sql-migrate,
 * Flyway, diesel or Prisma (docs/migrate.md "Folders written for other
 * tools").
 *
 * layout_list() detects the layout of one folder (or takes the forced
 * one), and lists its migrations in one representation, ordered as that
 * tool orders them; layout_load() reads one of them into a struct sqlfile
 * whose up and down sections are found by that tool's markers, ready for
 * sqlfile_parse().  A file or folder the layout cannot use is an error
 * naming it; a known non-migration file (README.md, .gitkeep, Prisma's
 * migration_lock.toml, ...) is a warning in layout.warnings, never a
 * silent skip.  Nothing here prints: errors come back in err.
 */
#ifndef LAYOUT_H
#define LAYOUT_H

#include <stddef.h>
#include <time.h>

#include "sqlfile.h"
#include "util.h"

enum layout_format {
	LAYOUT_AUTO,
	LAYOUT_DBMATE,		/* entrypoint's own: VERSION_name.sql */
	LAYOUT_GOLANG_MIGRATE,	/* VERSION_x.up.sql / .down.sql */
	LAYOUT_GOOSE,		/* -- +goose Up / Down */
	LAYOUT_SQL_MIGRATE,	/* -- +migrate Up / Down */
	LAYOUT_FLYWAY,		/* V1.2__x.sql, U1.2__x.sql */
	LAYOUT_DIESEL,		/* DATE-TIME_name/up.sql, down.sql */
	LAYOUT_PRISMA		/* TIMESTAMP_name/migration.sql */
};
#define LAYOUT_COUNT 8

/*
 * Flyway's repeatable migrations (R__desc.sql) have no version: they are
 * recorded from this version up, numbered in the order of their
 * descriptions (the order Flyway applies them in, after every versioned
 * one), and applied again whenever their checksum changes.
 */
#define LAYOUT_REPEATABLE 9000000000000000000LL

/*
 * One entry of the folder as the listing saw it.  A plain .sql file is
 * read whole once to find its tool's markers; its bytes stay in text for
 * whoever reads it next (sqlfile_read() takes them), so that no migration
 * file is opened twice.
 */
struct layout_file {
	char *fname;		/* the directory entry */
	int is_dir;		/* 1 folder, 0 regular file, -1 neither */
	char *text;		/* its bytes when read while listing, else
				   NULL; whoever takes them sets this NULL */
	size_t len;
	enum layout_format vote;	/* LAYOUT_AUTO: fits dbmate */
	int marked;		/* carries that layout's markers */
};

/* One migration of the folder (text: as in struct layout_file). */
struct layout_entry {
	long long version;	/* the number entrypoint records */
	char *key;		/* Flyway: the order (layout_sort_key());
				   NULL: version is the order */
	char *version_str;	/* its digits, as recorded */
	char *name;		/* for messages and the record */
	char *path;		/* the up (or only) file */
	char *down_path;	/* a separate down file, or NULL */
	char *conf_path;	/* diesel metadata.toml, Flyway .sql.conf */
	char *id;		/* what the tool records in its own table:
				   goose/golang-migrate/dbmate/diesel the
				   version, sql-migrate the file name, Flyway
				   the version as written, Prisma the folder */
	char *text;		/* path's bytes, read while listing, or NULL */
	size_t len;
};

struct layout {
	enum layout_format format;
	struct layout_entry *e;	/* ordered by version */
	size_t n;
	struct strv warnings;	/* one line each, for the caller to log */
	struct layout_file *files;	/* every entry but dot files, sorted
					   by name (after a listing that
					   succeeded) */
	size_t nfiles;
	/* between layout_open() and layout_close() */
	const char *dir;
	int dir_fd, dir_open;	/* the folder, open while its files are
				   read (openat: no path walked per file) */
	enum layout_format forced;
	size_t nclassified;	/* files[0..nclassified) read */
};

/* "goose", "flyway", ...; "auto" for LAYOUT_AUTO. */
const char *layout_name(enum layout_format f);

/* Parse a [database] format value.  Return 0, or -1 when unrecognized. */
int layout_from_name(const char *s, enum layout_format *f);

/*
 * List dir in layout forced (LAYOUT_AUTO: detect it).  Return 0, or -1
 * with a reason naming the file or folder in err: a name the layout
 * cannot use, two layouts in one folder, a duplicate version; -2 (errno
 * set) when dir cannot be opened.  out->format says the layout even on
 * failure once it is known (LAYOUT_AUTO before).  A dbmate folder's names
 * are judged but give no entries (out->n 0): migset.c lists out->files,
 * joins pairs and judges versions.
 */
int layout_list(const char *dir, enum layout_format forced,
    struct layout *out, char *err, size_t errsz);

/*
 * layout_list() in steps, for a caller with other work in between (a
 * no-op migrate reads its files while the server answers): layout_open()
 * reads the folder's names into out->files (0, or -2 as layout_list());
 * layout_step() reads up to max of the files (1 while some are left, 0
 * when all are, -1 with err); layout_close() reads what is left, detects
 * the layout and lists its migrations (0, or -1 with err).  A failed step
 * leaves out as a failed layout_list() does.  dir must outlive the steps.
 */
int layout_open(const char *dir, enum layout_format forced,
    struct layout *out, char *err, size_t errsz);
/* layout_open() of dir already open as fd (taken; -1 with errno set: the
 * open failed, reported as layout_open() reports it). */
int layout_open_at(int fd, const char *dir, enum layout_format forced,
    struct layout *out, char *err, size_t errsz);
int layout_step(struct layout *l, size_t max, char *err, size_t errsz);
int layout_close(struct layout *l, char *err, size_t errsz);

/* Where a migration's down part is in layout fmt, for messages. */
const char *layout_down_hint(enum layout_format fmt);

/*
 * The version a new migration made at now gets after last (its digits as
 * written; NULL: the folder has none yet): the UTC timestamp
 * YYYYMMDDHHMMSS, as the tools' own create commands make, unless the
 * folder numbers in sequence (last is not 14 digits long: then the next
 * number, zero-padded as wide as last); a timestamp not past last is
 * last + 1.  A Flyway version with parts ("1.2", "2_0_1") gets its last
 * part increased ("1.3").
 */
void layout_next_version(const char *last, time_t now, char *ver,
    size_t size);

/*
 * `migrate create NAME` in a folder of layout fmt (listed in l; l->n 0 for
 * an empty one): the new migration in that tool's own form, so that the
 * folder stays one layout: goose VERSION_NAME.sql with its Up and Down
 * annotations, sql-migrate VERSION-NAME.sql with its own, golang-migrate
 * VERSION_NAME.up.sql and .down.sql, Flyway V<version>__NAME.sql, diesel
 * YYYY-MM-DD-HHMMSS_NAME/ with up.sql and down.sql, Prisma
 * TIMESTAMP_NAME/migration.sql (a comment in each single file: diesel
 * refuses an empty one).  Not for dbmate (migset.c makes those).
 * The paths made go into made.  Return 0, or -1 with the reason in err
 * (errno set; nothing is overwritten).
 */
int layout_create(enum layout_format fmt, const struct layout *l,
    const char *dir, const char *name, time_t now, struct strv *made,
    char *err, size_t errsz);

/*
 * Read entry e of a folder in layout fmt into sf (zeroed by the caller):
 * version, name, text, checksum of the up part, and, for the layouts
 * whose markers are not entrypoint's, the sections (sf->sections_set).
 * Return 0, or -1 with "FILE:LINE: reason" in err.
 */
int layout_load(enum layout_format fmt, const struct layout_entry *e,
    struct sqlfile *sf, char *err, size_t errsz);

/*
 * Flyway's version order (its MigrationVersion): numeric parts of any
 * size separated by '.' or '_', "1.9" < "1.10", "1_7" = "1.7", trailing
 * zero parts ignored ("1.0" = "1").  layout_flyway_key() spells that
 * order as a string for strcmp() (caller frees; NULL: not a version).
 * layout_flyway_version() gives the bigint entrypoint records it under:
 * readable and in order for up to 4 parts (the first below 9000000, the
 * others below 10000), else a negative number from a hash of the key
 * (timestamps like 20230101120000, 2023.01.01.12.00.00).  Return 0, or
 * -1 when v is not a version.
 */
char *layout_flyway_key(const char *v, size_t len);
int layout_flyway_version(const char *v, size_t len, long long *out);

/*
 * The order key of a migration of a keyed folder (layout_keyed()) from
 * what a record holds (its version and name): Flyway's version key read
 * from "V1.2__desc", a repeatable one after every version; sql-migrate's
 * number; Prisma's folder name; a hashed version first.  Caller frees.
 */
char *layout_sort_key(enum layout_format fmt, long long version,
    const char *name);

/*
 * Is a layout ordered by layout_entry.key (Flyway; sql-migrate and
 * Prisma, whose migrations may share a number) rather than by version?
 */
int layout_keyed(enum layout_format f);

/*
 * Flyway's checksum of a script, as flyway_schema_history records it: a
 * CRC-32 over the bytes of its lines without their line breaks (LF, CR
 * LF or CR) and without a byte order mark at the start, as a signed
 * 32-bit number.
 */
long layout_flyway_checksum(const char *text, size_t len);

/* A repeatable migration's version (LAYOUT_REPEATABLE and up)? */
int layout_repeatable(long long version);

void layout_release(struct layout *l);

#endif
