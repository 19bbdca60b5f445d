/*
 * layout.c - read a migrations folder in the layout of the tool that wrote
 * it; see layout.h.
 *
 * The rules below were written from each tool's documentation and from
 * reading its source (not copied): goose's sqlparser state machine,
 * golang-migrate's source.Parse regular expression, sql-migrate's sqlparse
 * commands and byId order, Flyway's MigrationVersion, diesel's
 * version_from_string and metadata.toml, Prisma's migration folders.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "util.h"

static const char *const format_names[LAYOUT_COUNT] = {
	"auto", "dbmate", "golang-migrate", "goose", "sql-migrate", "flyway",
	"diesel", "prisma"
};

const char *
layout_name(enum layout_format f)
{
	return (unsigned)f < LAYOUT_COUNT ? format_names[f] : "?";
}

int
layout_from_name(const char *s, enum layout_format *f)
{
	size_t i;

	for (i = 0; i < LAYOUT_COUNT; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*f = (enum layout_format)i;
			return 0;
		}
	return -1;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Files that are no migration of any tool: ignored with a warning. */
static int
known_other(const char *name)
{
	static const char *const exact[] = { ".gitkeep", ".keep",
		".gitignore", ".DS_Store", "LICENSE", "CODEOWNERS" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(exact); i++)
		if (strcmp(name, exact[i]) == 0)
			return 1;
	return starts_with(name, "README") || ends_with(name, ".md") ||
	    ends_with(name, ".txt");
}

/* ---- names ------------------------------------------------------------ */

/*
 * Leading digits of s as a version: 1 to 18 significant digits.  Return
 * their count, 0 when s does not start with a digit, -1 when too long.
 */
static int
lead_digits(const char *s, size_t len, long long *v)
{
	size_t n = 0, z = 0;

	while (n < len && isdigit((unsigned char)s[n]))
		n++;
	if (n == 0)
		return 0;
	while (z < n - 1 && s[z] == '0')
		z++;
	if (n - z > SQLFILE_VERSION_DIGITS)
		return -1;
	*v = strtoll(s + z, NULL, 10);
	return (int)n;
}

/*
 * Flyway's MigrationVersion: numeric parts of any size separated by '.'
 * or '_', compared part by part as numbers, a missing part counting as 0
 * ("1.0" = "1", "1.01" = "1.1").  The key spells that order for strcmp():
 * each part without its leading zeros as a 3-digit length and its digits,
 * parts joined by '.' (below every digit: a prefix sorts first), trailing
 * zero parts dropped.  NULL: not a version.
 */
char *
layout_flyway_key(const char *v, size_t len)
{
	struct strbuf sb = { 0 };
	size_t i = 0, keep = 0;

	if (len == 0)
		return NULL;
	while (i < len) {
		size_t d0 = i, z;

		while (i < len && isdigit((unsigned char)v[i]))
			i++;
		if (i == d0)
			goto bad;
		for (z = d0; z < i - 1 && v[z] == '0'; z++)
			;
		if (i - z > 999)
			goto bad;
		if (sb.len)
			strbuf_addch(&sb, '.');
		strbuf_addf(&sb, "%03zu", i - z);
		strbuf_add(&sb, v + z, i - z);
		if (!(i - z == 1 && v[z] == '0'))
			keep = sb.len;	/* up to the last nonzero part */
		if (i < len && (v[i] == '.' || v[i] == '_')) {
			if (++i == len)
				goto bad;
		} else if (i < len) {
			goto bad;
		}
	}
	if (keep == 0)
		keep = 4;	/* "0": one zero part */
	sb.len = keep;
	sb.buf[keep] = '\0';
	return strbuf_detach(&sb);
bad:
	strbuf_release(&sb);
	return NULL;
}

/* A negative number from a 62-bit FNV-1a hash of s: a recorded version
 * no readable one can take. */
static long long
hashed_version(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return -(long long)(h & 0x3fffffffffffffffULL) - 1;
}

/*
 * The bigint a Flyway version is recorded under.  Up to 4 parts, the
 * first below 9000000, the others below 10000: readable, in Flyway's
 * order (1.10 is 1000100000000).  Anything else (a timestamp, more parts,
 * bigger ones): a negative number from a 62-bit FNV-1a hash of the key,
 * which orders nothing; the key orders (layout_entry.key, migset.c).
 */
int
layout_flyway_version(const char *v, size_t len, long long *out)
{
	static const long long scale[4] = { 1000000000000LL, 100000000LL,
		10000LL, 1LL };
	char *key = layout_flyway_key(v, len);
	const char *p;
	long long r = 0, part;
	size_t k = 0, n;
	int fits = 1;

	if (!key)
		return -1;
	for (p = key; *p && fits; k++) {
		n = (size_t)(p[0] - '0') * 100 + (size_t)(p[1] - '0') * 10 +
		    (size_t)(p[2] - '0');
		p += 3;
		part = n <= 7 ? strtoll(p, NULL, 10) : LLONG_MAX;
		if (k >= 4 || (k == 0 && part >= 9000000) ||
		    (k > 0 && part >= 10000))
			fits = 0;
		else
			r += part * scale[k];
		p += n;
		if (*p == '.')
			p++;
	}
	if (!fits)
		r = hashed_version(key);
	free(key);
	*out = r;
	return 0;
}

int
layout_keyed(enum layout_format f)
{
	return f == LAYOUT_FLYWAY || f == LAYOUT_SQL_MIGRATE ||
	    f == LAYOUT_PRISMA;
}

char *
layout_sort_key(enum layout_format fmt, long long version, const char *name)
{
	const char *sep;

	if (fmt == LAYOUT_SQL_MIGRATE && version >= 0)
		return xasprintf("%020lld", version);
	if (fmt == LAYOUT_PRISMA && version >= 0)
		return xasprintf("%lld_%s", version, name ? name : "");
	if (fmt != LAYOUT_FLYWAY)
		return xasprintf("!%020llu", (unsigned long long)version ^
		    0x8000000000000000ULL);
	if (layout_repeatable(version))
		return xasprintf("~%019lld", version);
	if (name && (name[0] == 'V' || name[0] == 'U') &&
	    (sep = strstr(name, "__")) != NULL && sep > name + 1) {
		char *k = layout_flyway_key(name + 1, (size_t)(sep - name - 1));

		if (k)
			return k;
	}
	/* no version to read (a baseline marker): before the others */
	return xasprintf("!%020llu", (unsigned long long)version ^
	    0x8000000000000000ULL);
}

long
layout_flyway_checksum(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t crc = 0xffffffffu;
	size_t i = 0;
	int k;

	/* Flyway reads lines (BufferedReader.readLine) and drops a BOM
	 * from the first one: a CRC over everything but CR, LF and that */
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	for (; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	crc ^= 0xffffffffu;
	return crc > 0x7fffffffu ? (long)crc - 0x100000000L : (long)crc;
}

/* ---- listing ---------------------------------------------------------- */

enum kind { K_NONE, K_SINGLE, K_UP, K_DOWN };

/* The markers come first: the head of a file is all they are looked for
 * in. */
#define MARKER_HEAD 4096

static void
entry_release(struct layout_entry *e)
{
	free(e->version_str);
	free(e->name);
	free(e->path);
	free(e->down_path);
	free(e->conf_path);
	free(e->id);
	free(e->key);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static void
files_free(struct layout_file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].fname);
		free(f[i].text);
	}
	free(f);
}

void
layout_release(struct layout *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		entry_release(&l->e[i]);
	free(l->e);
	strv_release(&l->warnings);
	files_free(l->files, l->nfiles);
	if (l->dir_open)
		close(l->dir_fd);
	memset(l, 0, sizeof(*l));
}

static struct layout_entry *
entry_push(struct layout *l, size_t *cap)
{
	struct layout_entry *e;

	if (l->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		l->e = xrealloc(l->e, *cap * sizeof(*l->e));
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct layout_entry *x = a, *y = b;
	int c;

	if (x->key && y->key && (c = strcmp(x->key, y->key)) != 0)
		return c;
	if (!(x->key && y->key) && x->version != y->version)
		return x->version < y->version ? -1 : 1;
	if (!x->path != !y->path)
		return x->path ? -1 : 1;	/* the up file first */
	return strcmp(x->path ? x->path : x->down_path,
	    y->path ? y->path : y->down_path);
}

/* 1: a directory, 0: a regular file, -1: anything else (a FIFO would
 * block the reader forever) or gone.  The entry's type answers without a
 * stat(2) per file; a link, or a file system that does not say, is
 * asked. */
static int
kind_at(const char *dir, const struct dirent *de)
{
	struct stat st;
	char *p;
	int r;

	if (de->d_type == DT_REG || de->d_type == DT_DIR)
		return de->d_type == DT_DIR;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return -1;
	p = path_join(dir, de->d_name);
	r = stat(p, &st);

	free(p);
	if (r < 0)
		return -1;
	return S_ISDIR(st.st_mode) ? 1 : S_ISREG(st.st_mode) ? 0 : -1;
}

/*
 * Something is there (a FIFO or a device too: the reader refuses it at
 * once by name, rather than this taking it for an absent file).
 */
static int
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Refuse what is not a regular file before opening it (a FIFO blocks). */
static int
regular_file(const char *path, char *err, size_t errsz)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errf(err, errsz, "could not read \"%s\": %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errf(err, errsz, "\"%s\": not a regular file", path);
	return 0;
}

/*
 * The first marker of a tool in a file: "-- +goose ..." makes it goose,
 * "-- +migrate ..." sql-migrate, "-- migrate:..." dbmate.
 */
static enum layout_format
marker_vote(const char *text, size_t len, int *marked)
{
	const char *p = text, *end = text + len, *nl, *q;

	*marked = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		q = p;
		while (q < nl && (*q == ' ' || *q == '\t'))
			q++;
		if (nl - q > 2 && q[0] == '-' && q[1] == '-') {
			q += 2;
			while (q < nl && (*q == ' ' || *q == '\t'))
				q++;
			*marked = 1;
			if (nl - q >= 6 && strncasecmp(q, "+goose", 6) == 0)
				return LAYOUT_GOOSE;
			if (nl - q >= 8 && strncmp(q, "+migrate", 8) == 0)
				return LAYOUT_SQL_MIGRATE;
			if (nl - q >= 8 && strncmp(q, "migrate:", 8) == 0)
				return LAYOUT_DBMATE;
			*marked = 0;
		}
		p = nl + 1;
	}
	return LAYOUT_AUTO;
}

/* A Flyway file name: V<ver>__x.sql, U<ver>__x.sql, R__x.sql. */
static int
flyway_name(const char *f)
{
	const char *sep = strstr(f, "__");
	size_t i = 1;

	if (!sep || !ends_with(f, ".sql"))
		return 0;
	if (f[0] == 'R')
		return sep == f + 1;
	if (f[0] != 'V' && f[0] != 'U')
		return 0;
	if (!isdigit((unsigned char)f[1]))
		return 0;
	while (f + i < sep && (isdigit((unsigned char)f[i]) || f[i] == '.' ||
	    f[i] == '_'))
		i++;
	return f + i == sep;
}

/* Decide what one directory entry looks like. */
static int
classify(const char *dir, int dfd, struct layout_file *r, int read_markers,
    char *err, size_t errsz)
{
	const char *f = r->fname;
	char *p;

	r->vote = LAYOUT_AUTO;
	r->marked = 0;
	if (r->is_dir < 0)
		return errf(err, errsz, "%s/%s: not a regular file", dir, f);
	if (r->is_dir) {
		p = xasprintf("%s/%s/migration.sql", dir, f);
		if (file_exists(p)) {
			r->vote = LAYOUT_PRISMA;
			r->marked = 1;
		}
		free(p);
		if (r->vote != LAYOUT_AUTO)
			return 0;
		p = xasprintf("%s/%s/up.sql", dir, f);
		if (file_exists(p)) {
			r->vote = LAYOUT_DIESEL;
			r->marked = 1;
		}
		free(p);
		if (r->vote != LAYOUT_AUTO)
			return 0;
		return errf(err, errsz, "invalid migration folder \"%s/%s\": "
		    "it holds no up.sql (diesel) or migration.sql (Prisma)",
		    dir, f);
	}
	if (strcmp(f, "migration_lock.toml") == 0) {
		r->vote = LAYOUT_PRISMA;
		r->marked = 1;
		return 0;
	}
	if (flyway_name(f) || (ends_with(f, ".sql.conf") && f[0] == 'V')) {
		r->vote = LAYOUT_FLYWAY;
		r->marked = 1;
		return 0;
	}
	if (!ends_with(f, ".sql"))
		return 0;
	if (ends_with(f, ".up.sql") || ends_with(f, ".down.sql")) {
		r->vote = LAYOUT_GOLANG_MIGRATE;
		return 0;
	}
	if (!read_markers) {
		r->marked = 1;	/* the forced layout's reader judges */
		return 0;
	}
	/* Read whole, once: its bytes go on with the entry (layout.h). */
	if (slurp_at(dfd, f, 0, SQLFILE_MAX, &r->text, &r->len) < 0)
		return errf(err, errsz, "could not read migration file "
		    "\"%s/%s\": %s", dir, f, strerror(errno));
	r->vote = marker_vote(r->text, r->len < MARKER_HEAD ? r->len :
	    MARKER_HEAD, &r->marked);
	return 0;
}

/*
 * The folder's layout from its entries' votes.  dbmate (entrypoint's own)
 * takes golang-migrate pairs too, as it always has; a folder of pairs only
 * is golang-migrate (whose names may hold dots).
 */
static int
detect(const char *dir, struct layout_file *r, size_t n, enum layout_format *out,
    char *err, size_t errsz)
{
	const struct layout_file *first = NULL, *plain = NULL, *pair = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		enum layout_format v = r[i].vote;

		if (v == LAYOUT_AUTO || v == LAYOUT_DBMATE) {
			if (ends_with(r[i].fname, ".sql") && !plain)
				plain = &r[i];
			continue;
		}
		if (v == LAYOUT_GOLANG_MIGRATE) {
			if (!pair)
				pair = &r[i];
			continue;
		}
		if (first && first->vote != v)
			return errf(err, errsz, "mixed migration layouts in "
			    "\"%s\": \"%s\" is %s, \"%s\" is %s (set "
			    "[database] format to read one)", dir,
			    first->fname, layout_name(first->vote), r[i].fname,
			    layout_name(v));
		if (!first)
			first = &r[i];
	}
	if (first && (plain || pair)) {
		const struct layout_file *o = plain ? plain : pair;

		return errf(err, errsz, "mixed migration layouts in \"%s\": "
		    "\"%s\" is %s, \"%s\" is not (%s)", dir, first->fname,
		    layout_name(first->vote), o->fname,
		    o->vote == LAYOUT_GOLANG_MIGRATE ? "a golang-migrate "
		    "pair" : "no markers of that tool");
	}
	if (first)
		*out = first->vote;
	else if (pair && !plain)
		*out = LAYOUT_GOLANG_MIGRATE;
	else
		*out = LAYOUT_DBMATE;
	return 0;
}

static void
warn_other(struct layout *l, const char *dir, const char *f)
{
	strv_push_owned(&l->warnings, xasprintf("ignoring \"%s/%s\": not a "
	    "migration", dir, f));
}

static int
unusable(const char *dir, const char *f, enum layout_format fmt,
    const char *want, char *err, size_t errsz)
{
	return errf(err, errsz, "invalid migration file name \"%s/%s\" for "
	    "the %s layout (want %s)", dir, f, layout_name(fmt), want);
}

/*
 * dbmate (entrypoint's own): sqlfile_parse_name's rules, judged here;
 * migset.c lists the files (out->files), pairs them and judges versions.
 */
static int
list_dbmate(const char *dir, struct layout_file *r, size_t n,
    struct layout *l, char *err, size_t errsz)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		long long v;
		enum sqlfile_kind k;
		int rc;

		if (r[i].is_dir)
			return errf(err, errsz, "unexpected folder \"%s/%s\" in "
			    "a dbmate migrations folder", dir, r[i].fname);
		rc = sqlfile_parse_name(r[i].fname, &v, NULL, NULL, &k, err,
		    errsz);
		if (rc < 0) {
			bad = -1;	/* err: "invalid migration file name" */
			continue;
		}
		if (rc == 0) {
			if (!known_other(r[i].fname) && r[i].fname[0] != '.')
				return errf(err, errsz, "unrecognized file "
				    "\"%s/%s\" in the migrations folder (not "
				    "VERSION_name.sql)", dir, r[i].fname);
			warn_other(l, dir, r[i].fname);
		}
	}
	return bad;
}

/* golang-migrate: ^([0-9]+)_(.*)\.(up|down)\.sql$, dots allowed. */
static int
list_golang(const char *dir, struct layout_file *r, size_t n, struct layout *l,
    size_t *cap, char *err, size_t errsz)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *f = r[i].fname;
		size_t len = strlen(f), end;
		long long v = 0;
		int nd, down;
		struct layout_entry *e;

		if (r[i].is_dir || !(ends_with(f, ".up.sql") ||
		    ends_with(f, ".down.sql"))) {
			if (!r[i].is_dir && (known_other(f) || f[0] == '.')) {
				warn_other(l, dir, f);
				continue;
			}
			return unusable(dir, f, LAYOUT_GOLANG_MIGRATE,
			    "VERSION_name.up.sql / .down.sql", err, errsz);
		}
		down = ends_with(f, ".down.sql");
		end = len - (down ? 9 : 7);
		nd = lead_digits(f, end, &v);
		if (nd <= 0 || (size_t)nd >= end || f[nd] != '_')
			return unusable(dir, f, LAYOUT_GOLANG_MIGRATE,
			    nd < 0 ? "at most 18 digits" :
			    "VERSION_name.up.sql / .down.sql", err, errsz);
		e = entry_push(l, cap);
		e->version = v;
		e->version_str = xstrndup(f, (size_t)nd);
		e->name = xstrndup(f + nd + 1, end - (size_t)nd - 1);
		e->id = xasprintf("%lld", v);
		if (down)
			e->down_path = path_join(dir, f);
		else
			e->path = path_join(dir, f);
	}
	return 0;
}

/*
 * goose: VERSION_name.sql, VERSION the digits before the first '_',
 * at least 1.  sql-migrate: any name with a numeric prefix
 * ("1-init.sql", "20230101_x.sql"); its own table records the file name.
 */
static int
list_markers(const char *dir, struct layout_file *r, size_t n,
    enum layout_format fmt, struct layout *l, size_t *cap, char *err,
    size_t errsz)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *f = r[i].fname;
		size_t end = strlen(f) - 4, skip;
		long long v = 0;
		int nd;
		struct layout_entry *e;

		if (r[i].is_dir || !ends_with(f, ".sql")) {
			if (!r[i].is_dir && (known_other(f) || f[0] == '.')) {
				warn_other(l, dir, f);
				continue;
			}
			if (fmt == LAYOUT_GOOSE && ends_with(f, ".go"))
				return errf(err, errsz, "cannot apply goose Go "
				    "migration \"%s/%s\": only SQL migrations "
				    "are read", dir, f);
			return unusable(dir, f, fmt, fmt == LAYOUT_GOOSE ?
			    "VERSION_name.sql" : "VERSION-name.sql", err,
			    errsz);
		}
		nd = lead_digits(f, end, &v);
		if (nd <= 0 || (fmt == LAYOUT_GOOSE && (f[nd] != '_' ||
		    v < 1)))
			return unusable(dir, f, fmt, fmt == LAYOUT_GOOSE ?
			    "VERSION_name.sql, VERSION from 1, up to 18 digits" :
			    "a numeric prefix of up to 18 digits", err, errsz);
		if (!r[i].marked)
			return errf(err, errsz, "invalid migration file \"%s/%s\""
			    ": no \"-- +%s Up\" marker (%s layout)", dir, f,
			    fmt == LAYOUT_GOOSE ? "goose" : "migrate",
			    layout_name(fmt));
		skip = (size_t)nd;
		if (skip < end && (f[skip] == '_' || f[skip] == '-'))
			skip++;
		e = entry_push(l, cap);
		e->version = v;
		e->version_str = xstrndup(f, (size_t)nd);
		e->name = skip < end ? xstrndup(f + skip, end - skip) :
		    xstrdup(e->version_str);
		e->path = path_join(dir, f);
		e->text = r[i].text;
		e->len = r[i].len;
		r[i].text = NULL;
		e->id = fmt == LAYOUT_GOOSE ? xasprintf("%lld", v) :
		    xstrdup(f);
		/* sql-migrate's byId: the number, then the whole id */
		if (fmt == LAYOUT_SQL_MIGRATE)
			e->key = xasprintf("%020lld %s", v, f);
	}
	return 0;
}

int
layout_repeatable(long long version)
{
	return version >= LAYOUT_REPEATABLE;
}

/* A Flyway script's configuration file, FILE.sql.conf, when there is one. */
static void
conf_for(struct layout_entry *e)
{
	char *conf = xasprintf("%s.conf", e->path);

	if (file_exists(conf))
		e->conf_path = conf;
	else
		free(conf);
}

static int
desc_cmp(const void *a, const void *b)
{
	const struct layout_entry *x = *(struct layout_entry *const *)a;
	const struct layout_entry *y = *(struct layout_entry *const *)b;

	return strcmp(x->id, y->id);
}

/* Number the nrep repeatable entries of l in the order of descriptions. */
static void
number_repeatables(struct layout *l, size_t nrep)
{
	struct layout_entry **rep;
	size_t i, k = 0;

	if (nrep == 0)
		return;
	rep = xcalloc(nrep, sizeof(*rep));
	for (i = 0; i < l->n; i++)
		if (l->e[i].version == LAYOUT_REPEATABLE && l->e[i].id &&
		    strncmp(l->e[i].name, "R__", 3) == 0)
			rep[k++] = &l->e[i];
	qsort(rep, k, sizeof(*rep), desc_cmp);
	for (i = 0; i < k; i++) {
		rep[i]->version = LAYOUT_REPEATABLE + (long long)i;
		rep[i]->version_str = xasprintf("%lld", rep[i]->version);
		rep[i]->key = layout_sort_key(LAYOUT_FLYWAY, rep[i]->version,
		    NULL);
	}
	free(rep);
}

/*
 * Flyway: V<ver>__desc.sql, U<ver>__desc.sql (undo), R__desc.sql
 * (repeatable), and FILE.sql.conf beside a script.
 */
static int
list_flyway(const char *dir, struct layout_file *r, size_t n, struct layout *l,
    size_t *cap, char *err, size_t errsz)
{
	size_t i, nrep = 0;

	for (i = 0; i < n; i++) {
		const char *f = r[i].fname, *sep;
		long long v;
		struct layout_entry *e;

		if (r[i].is_dir || !(flyway_name(f) ||
		    ends_with(f, ".sql.conf"))) {
			if (!r[i].is_dir && (known_other(f) || f[0] == '.')) {
				warn_other(l, dir, f);
				continue;
			}
			return unusable(dir, f, LAYOUT_FLYWAY,
			    "V1.2__name.sql or U1.2__name.sql", err, errsz);
		}
		if (ends_with(f, ".sql.conf"))
			continue;	/* read with its migration */
		sep = strstr(f, "__");
		if (f[0] == 'R') {
			e = entry_push(l, cap);
			e->version = LAYOUT_REPEATABLE;	/* numbered below */
			e->id = xstrndup(sep + 2, strlen(sep + 2) - 4);
			e->name = xstrndup(f, strlen(f) - 4);
			e->path = path_join(dir, f);
			conf_for(e);
			nrep++;
			continue;
		}
		if (layout_flyway_version(f + 1, (size_t)(sep - f - 1), &v)
		    < 0)
			return errf(err, errsz, "invalid Flyway version in "
			    "\"%s/%s\" (want numbers separated by '.' or '_', "
			    "at most 999 digits each)", dir, f);
		e = entry_push(l, cap);
		e->version = v;
		e->key = layout_flyway_key(f + 1, (size_t)(sep - f - 1));
		e->version_str = xasprintf("%lld", v);
		e->id = xstrndup(f + 1, (size_t)(sep - f - 1));
		e->name = xstrndup(f, strlen(f) - 4);
		if (f[0] == 'U') {
			e->name[0] = 'V';
			e->down_path = path_join(dir, f);
		} else {
			e->path = path_join(dir, f);
			conf_for(e);
		}
	}
	number_repeatables(l, nrep);
	return 0;
}

/*
 * diesel: a folder "2019-02-26-002946_name" (version: the part before the
 * first '_' without its dashes) with up.sql, optional down.sql and
 * metadata.toml.  Prisma: "20230101120000_name/migration.sql".
 */
static int
list_folders(const char *dir, struct layout_file *r, size_t n,
    enum layout_format fmt, struct layout *l, size_t *cap, char *err,
    size_t errsz)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *f = r[i].fname, *us;
		char digits[64];
		size_t k, nd = 0;
		long long v = 0;
		struct layout_entry *e;
		char *p;

		if (!r[i].is_dir) {
			if (fmt == LAYOUT_PRISMA &&
			    strcmp(f, "migration_lock.toml") == 0)
				continue;	/* Prisma's provider lock */
			if (known_other(f) || f[0] == '.') {
				warn_other(l, dir, f);
				continue;
			}
			return unusable(dir, f, fmt, "a folder per migration",
			    err, errsz);
		}
		us = strchr(f, '_');
		if (!us)
			us = f + strlen(f);
		for (k = 0; f + k < us && nd < sizeof(digits) - 1; k++) {
			if (isdigit((unsigned char)f[k]))
				digits[nd++] = f[k];
			else if (f[k] != '-' || fmt == LAYOUT_PRISMA)
				break;
		}
		digits[nd] = '\0';
		if (nd == 0 || f + k != us || lead_digits(digits, nd, &v) < 0)
			return errf(err, errsz, "invalid migration folder name "
			    "\"%s/%s\" for the %s layout (want %s)", dir, f,
			    layout_name(fmt), fmt == LAYOUT_DIESEL ?
			    "YYYY-MM-DD-HHMMSS_name" : "TIMESTAMP_name");
		p = xasprintf("%s/%s/%s", dir, f, fmt == LAYOUT_DIESEL ?
		    "up.sql" : "migration.sql");
		if (!file_exists(p)) {
			errf(err, errsz, "invalid migration folder \"%s/%s\": "
			    "no %s", dir, f, fmt == LAYOUT_DIESEL ? "up.sql" :
			    "migration.sql");
			free(p);
			return -1;
		}
		e = entry_push(l, cap);
		e->path = p;
		e->version = v;
		e->version_str = xstrdup(digits);
		e->name = xstrdup(*us ? us + 1 : f);
		e->id = fmt == LAYOUT_DIESEL ? xstrdup(digits) : xstrdup(f);
		if (fmt == LAYOUT_PRISMA)
			e->key = xstrdup(f);	/* Prisma: by folder name */
		if (fmt == LAYOUT_DIESEL) {
			p = xasprintf("%s/%s/down.sql", dir, f);
			if (file_exists(p))
				e->down_path = p;
			else
				free(p);
			p = xasprintf("%s/%s/metadata.toml", dir, f);
			if (file_exists(p))
				e->conf_path = p;
			else
				free(p);
		}
	}
	return 0;
}

/*
 * Join the up and down files of one version (golang-migrate, dbmate pairs,
 * Flyway undo files) and refuse duplicate versions.
 */
static int
join_versions(struct layout *l, char *err, size_t errsz)
{
	size_t i, j = 0;

	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	/* Several migrations of one number, each its own (sql-migrate
	 * orders them by file name, Prisma by folder name: the key): the
	 * first keeps the number, the others are recorded under a hash of
	 * their id. */
	for (i = l->n; i-- > 1 && (l->format == LAYOUT_SQL_MIGRATE ||
	    l->format == LAYOUT_PRISMA);) {
		struct layout_entry *b = &l->e[i];

		if (b->version != l->e[i - 1].version)
			continue;
		free(b->version_str);
		b->version = hashed_version(b->id);
		b->version_str = xasprintf("%lld", b->version);
	}
	for (i = 0; i < l->n; i++) {
		struct layout_entry *a = &l->e[i];
		struct layout_entry *b = i + 1 < l->n ? &l->e[i + 1] : NULL;

		if (b && a->version == b->version) {
			/* the up file sorts first: one up and one down? */
			if (!a->path || b->path || a->down_path ||
			    (i + 2 < l->n && l->e[i + 2].version ==
			    a->version))
				return errf(err, errsz, "duplicate migration "
				    "version %s: \"%s\" and \"%s\"",
				    a->version_str, a->path ? a->path :
				    a->down_path, b->path ? b->path :
				    b->down_path);
			a->down_path = b->down_path;
			b->down_path = NULL;
			entry_release(b);
			l->e[j++] = *a;
			i++;
			continue;
		}
		if (!a->path)
			return errf(err, errsz, "invalid migration \"%s\": a down "
			    "file without its up file", a->down_path);
		l->e[j++] = *a;
	}
	l->n = j;
	return 0;
}

static int
raw_cmp(const void *a, const void *b)
{
	return strcmp(((const struct layout_file *)a)->fname,
	    ((const struct layout_file *)b)->fname);
}

/* A listing that failed: nothing kept but the layout once known. */
static int
fail(struct layout *l, int rc)
{
	enum layout_format f = l->format;

	layout_release(l);
	l->format = f;
	return rc;
}

int
layout_open(const char *dir, enum layout_format forced, struct layout *out,
    char *err, size_t errsz)
{
	return layout_open_at(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
	    dir, forced, out, err, errsz);
}

int
layout_open_at(int fd, const char *dir, enum layout_format forced,
    struct layout *out, char *err, size_t errsz)
{
	DIR *d = NULL;
	struct dirent *de;
	struct layout_file *r = NULL;
	size_t n = 0, rcap = 0;
	int rfd = -1;

	memset(out, 0, sizeof(*out));
	if (fd >= 0 && (rfd = dup(fd)) >= 0)
		d = fdopendir(rfd);
	if (!d) {
		int e = errno;

		if (rfd >= 0)
			close(rfd);
		if (fd >= 0)
			close(fd);
		errf(err, errsz, "could not open migrations directory \"%s\": "
		    "%s", dir, strerror(e));
		errno = e;
		return -2;
	}
	out->dir_fd = fd;
	out->dir_open = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.') {	/* .gitkeep, .git/, ... */
			warn_other(out, dir, de->d_name);
			continue;
		}
		if (n == rcap) {
			rcap = rcap ? 2 * rcap : 64;
			r = xrealloc(r, rcap * sizeof(*r));
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].fname = xstrdup(de->d_name);
		r[n].is_dir = kind_at(dir, de);
		n++;
	}
	closedir(d);
	if (n)
		msort(r, n, sizeof(*r), raw_cmp);
	out->files = r;
	out->nfiles = n;
	out->dir = dir;
	out->forced = forced;
	return 0;
}

int
layout_step(struct layout *l, size_t max, char *err, size_t errsz)
{
	size_t stop = l->nclassified + max;

	for (; l->nclassified < l->nfiles && l->nclassified < stop;
	    l->nclassified++)
		if (classify(l->dir, l->dir_fd, &l->files[l->nclassified],
		    l->forced == LAYOUT_AUTO, err, errsz) < 0)
			return fail(l, -1);
	return l->nclassified < l->nfiles;
}

int
layout_close(struct layout *l, char *err, size_t errsz)
{
	struct layout_file *r = l->files;
	const char *dir = l->dir;
	size_t n = l->nfiles, cap = 0;
	int rc = layout_step(l, n, err, errsz);

	if (rc < 0)
		return rc;
	close(l->dir_fd);	/* every file is read */
	l->dir_open = 0;
	l->format = l->forced;
	if (l->forced == LAYOUT_AUTO &&
	    detect(dir, r, n, &l->format, err, errsz) < 0)
		return fail(l, -1);
	switch (l->format) {
	case LAYOUT_GOLANG_MIGRATE:
		rc = list_golang(dir, r, n, l, &cap, err, errsz);
		break;
	case LAYOUT_GOOSE:
	case LAYOUT_SQL_MIGRATE:
		rc = list_markers(dir, r, n, l->format, l, &cap, err, errsz);
		break;
	case LAYOUT_FLYWAY:
		rc = list_flyway(dir, r, n, l, &cap, err, errsz);
		break;
	case LAYOUT_DIESEL:
	case LAYOUT_PRISMA:
		rc = list_folders(dir, r, n, l->format, l, &cap, err, errsz);
		break;
	default:
		l->format = LAYOUT_DBMATE;
		rc = list_dbmate(dir, r, n, l, err, errsz);
		break;
	}
	if (rc == 0 && l->format != LAYOUT_DBMATE)
		rc = join_versions(l, err, errsz);
	return rc < 0 ? fail(l, rc) : rc;
}

int
layout_list(const char *dir, enum layout_format forced, struct layout *out,
    char *err, size_t errsz)
{
	int rc = layout_open(dir, forced, out, err, errsz);

	return rc < 0 ? rc : layout_close(out, err, errsz);
}

/* ---- creating --------------------------------------------------------- */

const char *
layout_down_hint(enum layout_format fmt)
{
	switch (fmt) {
	case LAYOUT_GOLANG_MIGRATE:
		return "a VERSION_name.down.sql file";
	case LAYOUT_GOOSE:
		return "a -- +goose Down section";
	case LAYOUT_SQL_MIGRATE:
		return "a -- +migrate Down section";
	case LAYOUT_FLYWAY:
		return "a U<version>__name.sql undo file";
	case LAYOUT_DIESEL:
		return "a down.sql in its folder";
	case LAYOUT_PRISMA:
		return "Prisma migrations have none";
	default:
		return "a -- migrate:down section";
	}
}

/* Add one to the last run of digits in s (in place, room for one more). */
static void
increment_last_part(char *s)
{
	size_t end = strlen(s), k;

	while (end > 0 && !isdigit((unsigned char)s[end - 1]))
		end--;
	for (k = end; k > 0 && isdigit((unsigned char)s[k - 1]); k--) {
		if (s[k - 1] != '9') {
			s[k - 1]++;
			return;
		}
		s[k - 1] = '0';
	}
	memmove(s + k + 1, s + k, strlen(s + k) + 1);	/* 9 -> 10 */
	s[k] = '1';
}

void
layout_next_version(const char *last, time_t now, char *ver, size_t size)
{
	struct tm tm;
	size_t n = last ? strlen(last) : 0;
	long long v = 0;

	gmtime_r(&now, &tm);
	strftime(ver, size, "%Y%m%d%H%M%S", &tm);
	if (n == 0)
		return;
	if (strspn(last, "0123456789") != n) {	/* Flyway's 1.2, 2_0_1 */
		if (n + 2 <= size) {
			memcpy(ver, last, n + 1);
			increment_last_part(ver);
		}
		return;
	}
	if (lead_digits(last, n, &v) < 0)
		return;		/* more than 18 digits: the timestamp */
	if (n != 14)
		snprintf(ver, size, "%0*lld", (int)n, v + 1);
	else if (strtoll(ver, NULL, 10) <= v)
		snprintf(ver, size, "%lld", v + 1);
}

/* Make path with body; never over an existing file. */
static int
write_new(const char *path, const char *body, char *err, size_t errsz)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || write_all(fd, body, strlen(body)) < 0 || close(fd) < 0) {
		int e = errno;

		errf(err, errsz, "could not create migration file \"%s\": %s",
		    path, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

/* The version of l's newest migration as written, or NULL. */
static const char *
newest_version(enum layout_format fmt, const struct layout *l)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (fmt != LAYOUT_FLYWAY)
			return l->e[i].version_str;
		if (!layout_repeatable(l->e[i].version))
			return l->e[i].id;	/* as written */
	}
	return NULL;
}

/* diesel's folder version: YYYY-MM-DD-HHMMSS for a timestamp. */
static void
diesel_version(const char *v, char *out, size_t size)
{
	if (strlen(v) == 14)
		snprintf(out, size, "%.4s-%.2s-%.2s-%.6s", v, v + 4, v + 6,
		    v + 8);
	else
		snprintf(out, size, "%s", v);
}

int
layout_create(enum layout_format fmt, const struct layout *l,
    const char *dir, const char *name, time_t now, struct strv *made,
    char *err, size_t errsz)
{
	static const char goose_body[] = "-- +goose Up\n\n-- +goose Down\n";
	static const char sqlm_body[] = "-- +migrate Up\n\n-- +migrate Down\n";
	char ver[64], dv[64];
	char *p = NULL, *sub = NULL;
	int rc = 0;

	layout_next_version(newest_version(fmt, l), now, ver, sizeof(ver));
	switch (fmt) {
	case LAYOUT_GOOSE:
		p = xasprintf("%s/%s_%s.sql", dir, ver, name);
		rc = write_new(p, goose_body, err, errsz);
		break;
	case LAYOUT_SQL_MIGRATE:
		p = xasprintf("%s/%s-%s.sql", dir, ver, name);
		rc = write_new(p, sqlm_body, err, errsz);
		break;
	case LAYOUT_GOLANG_MIGRATE:
		p = xasprintf("%s/%s_%s.up.sql", dir, ver, name);
		rc = write_new(p, "", err, errsz);
		if (rc == 0) {
			strv_push_owned(made, p);
			p = xasprintf("%s/%s_%s.down.sql", dir, ver, name);
			rc = write_new(p, "", err, errsz);
		}
		break;
	case LAYOUT_FLYWAY:
		p = xasprintf("%s/V%s__%s.sql", dir, ver, name);
		rc = write_new(p, "-- the change\n", err, errsz);
		break;
	case LAYOUT_DIESEL:
	case LAYOUT_PRISMA:
		if (fmt == LAYOUT_DIESEL)
			diesel_version(ver, dv, sizeof(dv));
		else
			snprintf(dv, sizeof(dv), "%s", ver);
		sub = xasprintf("%s/%s_%s", dir, dv, name);
		if (mkdir(sub, 0755) < 0) {
			rc = errf(err, errsz, "could not create migration "
			    "folder \"%s\": %s", sub, strerror(errno));
			break;
		}
		/* a comment, not nothing: diesel refuses an empty file */
		p = xasprintf("%s/%s", sub, fmt == LAYOUT_DIESEL ? "up.sql" :
		    "migration.sql");
		rc = write_new(p, "-- the change\n", err, errsz);
		if (rc == 0 && fmt == LAYOUT_DIESEL) {
			strv_push_owned(made, p);
			p = xasprintf("%s/down.sql", sub);
			rc = write_new(p, "-- what undoes up.sql\n", err, errsz);
		}
		break;
	default:
		rc = errf(err, errsz, "layout_create: not for the %s layout",
		    layout_name(fmt));
		break;
	}
	if (rc == 0 && p)
		strv_push_owned(made, p);
	else
		free(p);
	free(sub);
	return rc;
}

/* ---- loading ---------------------------------------------------------- */

/* One line of text: [p, nl), and the next line's start. */
struct lines {
	const char *p, *end, *nl;
	int line;
};

static int
lines_next(struct lines *ls)
{
	if (ls->nl) {
		ls->p = ls->nl < ls->end ? ls->nl + 1 : ls->end;
		ls->line++;
	}
	if (ls->p >= ls->end)
		return 0;
	ls->nl = memchr(ls->p, '\n', (size_t)(ls->end - ls->p));
	if (!ls->nl)
		ls->nl = ls->end;
	return 1;
}

/*
 * A "-- +TOOL" annotation line: return the words after "+TOOL" (in *w,
 * up to the end of the line in *wend), or NULL when the line is none.
 */
static const char *
annotation(const char *p, const char *nl, const char *tool, int nocase,
    const char **wend)
{
	size_t tl = strlen(tool);

	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	if (nl - p < 3 || p[0] != '-' || p[1] != '-')
		return NULL;
	p += 2;
	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(nl - p) < tl || (nocase ? strncasecmp(p, tool, tl) :
	    strncmp(p, tool, tl)) != 0)
		return NULL;
	p += tl;
	if (p < nl && !isspace((unsigned char)*p))
		return NULL;
	while (p < nl && isspace((unsigned char)*p))
		p++;
	*wend = nl;
	while (*wend > p && isspace((unsigned char)(*wend)[-1]))
		(*wend)--;
	return p;
}

static int
word_eq(const char *w, const char *wend, const char *want)
{
	size_t n = strlen(want);

	return (size_t)(wend - w) == n && strncasecmp(w, want, n) == 0;
}

static void
section_start(struct sql_section *sec, const struct lines *ls)
{
	sec->present = 1;
	sec->text = ls->nl < ls->end ? ls->nl + 1 : ls->end;
	sec->line = ls->line + 1;
}

static void
section_end(struct sql_section *sec, const char *at)
{
	if (sec && sec->present && sec->text && at >= sec->text)
		sec->len = (size_t)(at - sec->text);
}

/*
 * goose ENVSUB: ${NAME}, ${NAME:-default}, ${NAME-default} and $NAME from
 * the environment, an unset name giving "" (as goose's envsubst does).
 */
static int
envsub(struct strbuf *sb, const char *p, const char *end, const char *path,
    int line, char *err, size_t errsz)
{
	while (p < end) {
		const char *n0, *n1, *dflt = NULL, *dend = NULL, *val;
		char *name;
		int colon = 0;

		if (*p != '$' || p + 1 >= end) {
			strbuf_addch(sb, *p++);
			continue;
		}
		if (p[1] == '{') {
			n0 = p + 2;
			n1 = n0;
			while (n1 < end && (isalnum((unsigned char)*n1) ||
			    *n1 == '_'))
				n1++;
			dend = n1;
			if (n1 < end && (*n1 == '-' || (*n1 == ':' &&
			    n1 + 1 < end && n1[1] == '-'))) {
				colon = *n1 == ':';
				dflt = n1 + 1 + colon;
				dend = dflt;
				while (dend < end && *dend != '}')
					dend++;
			}
			if (dend >= end || *dend != '}' || n1 == n0)
				return errf(err, errsz, "%s:%d: invalid "
				    "ENVSUB reference (want ${NAME} or "
				    "${NAME:-default})", path, line);
			name = xstrndup(n0, (size_t)(n1 - n0));
			val = getenv(name);
			free(name);
			if (dflt && (!val || (colon && !*val)))
				strbuf_add(sb, dflt, (size_t)(dend - dflt));
			else if (val)
				strbuf_addstr(sb, val);
			p = dend + 1;
			continue;
		}
		if (isalpha((unsigned char)p[1]) || p[1] == '_') {
			n0 = p + 1;
			n1 = n0;
			while (n1 < end && (isalnum((unsigned char)*n1) ||
			    *n1 == '_'))
				n1++;
			name = xstrndup(n0, (size_t)(n1 - n0));
			val = getenv(name);
			free(name);
			if (val)
				strbuf_addstr(sb, val);
			p = n1;
			continue;
		}
		strbuf_addch(sb, *p++);
	}
	return 0;
}

/*
 * goose: "-- +goose Up" starts the up section, "-- +goose Down" the down
 * one; StatementBegin/StatementEnd enclose one statement (the splitter
 * finds the same statement: a function body is quoted); "NO TRANSACTION"
 * anywhere makes both directions non-transactional.  Annotations are
 * matched without regard to case, as goose does.  *down_at is where the
 * Down line starts (or the length), *env whether ENVSUB is ever on.
 */
static int
goose_sections(struct sqlfile *sf, size_t *down_at, int *env, char *err,
    size_t errsz)
{
	struct lines ls;
	struct sql_section *cur = NULL;
	const char *w, *wend;
	int in_stmt = 0, notx = 0;

	*down_at = sf->len;
	*env = 0;
	memset(&sf->up, 0, sizeof(sf->up));
	memset(&sf->down, 0, sizeof(sf->down));
	memset(&ls, 0, sizeof(ls));
	ls.p = sf->text;
	ls.end = sf->text + sf->len;
	ls.line = 1;
	while (lines_next(&ls)) {
		w = annotation(ls.p, ls.nl, "+goose", 1, &wend);
		if (!w)
			continue;
		if (word_eq(w, wend, "up")) {
			if (cur)
				return errf(err, errsz, "%s:%d: duplicate \"-- "
				    "+goose Up\"", sf->path, ls.line);
			cur = &sf->up;
			section_start(cur, &ls);
		} else if (word_eq(w, wend, "down")) {
			if (cur != &sf->up || in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +goose "
				    "Down\" out of place", sf->path, ls.line);
			section_end(cur, ls.p);
			*down_at = (size_t)(ls.p - sf->text);
			cur = &sf->down;
			section_start(cur, &ls);
		} else if (word_eq(w, wend, "statementbegin")) {
			if (!cur || in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +goose "
				    "StatementBegin\" out of place", sf->path,
				    ls.line);
			in_stmt = 1;
		} else if (word_eq(w, wend, "statementend")) {
			if (!in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +goose "
				    "StatementEnd\" without StatementBegin",
				    sf->path, ls.line);
			in_stmt = 0;
		} else if (word_eq(w, wend, "no transaction")) {
			notx = 1;
		} else if (word_eq(w, wend, "envsub on") ||
		    word_eq(w, wend, "envsubst on")) {
			*env = 1;
		} else if (!word_eq(w, wend, "envsub off") &&
		    !word_eq(w, wend, "envsubst off")) {
			return errf(err, errsz, "%s:%d: unrecognized goose "
			    "annotation \"%.*s\"", sf->path, ls.line,
			    (int)(wend - w), w);
		}
	}
	if (!cur)
		return errf(err, errsz, "%s: no \"-- +goose Up\" annotation",
		    sf->path);
	if (in_stmt)
		return errf(err, errsz, "%s: \"-- +goose StatementBegin\" "
		    "without StatementEnd", sf->path);
	section_end(cur, ls.end);
	sf->up.no_transaction = sf->down.no_transaction = notx;
	return 0;
}

/*
 * The text with ENVSUB applied between "-- +goose ENVSUB ON" and "OFF";
 * annotation lines stay as they are, so the sections are found again.
 */
static char *
goose_envsub(const struct sqlfile *sf, size_t *len, char *err, size_t errsz)
{
	struct strbuf sb = { 0 };
	struct lines ls;
	const char *w, *wend;
	int on = 0;

	memset(&ls, 0, sizeof(ls));
	ls.p = sf->text;
	ls.end = sf->text + sf->len;
	ls.line = 1;
	strbuf_add(&sb, "", 0);
	while (lines_next(&ls)) {
		const char *stop = ls.nl < ls.end ? ls.nl + 1 : ls.end;

		w = annotation(ls.p, ls.nl, "+goose", 1, &wend);
		if (w && (word_eq(w, wend, "envsub on") ||
		    word_eq(w, wend, "envsubst on")))
			on = 1;
		else if (w && (word_eq(w, wend, "envsub off") ||
		    word_eq(w, wend, "envsubst off")))
			on = 0;
		if (on && !w) {
			if (envsub(&sb, ls.p, stop, sf->path, ls.line, err,
			    errsz) < 0) {
				strbuf_release(&sb);
				return NULL;
			}
		} else {
			strbuf_add(&sb, ls.p, (size_t)(stop - ls.p));
		}
	}
	*len = sb.len;
	return strbuf_detach(&sb);
}

static int
load_goose(struct sqlfile *sf, char *err, size_t errsz)
{
	size_t down_at, len;
	int env;
	char *nt;

	if (goose_sections(sf, &down_at, &env, err, errsz) < 0)
		return -1;
	sqlfile_sha256(sf->text, down_at, sf->checksum);
	if (env) {
		nt = goose_envsub(sf, &len, err, errsz);
		if (!nt)
			return -1;
		free(sf->text);
		sf->text = nt;
		sf->len = len;
		if (goose_sections(sf, &down_at, &env, err, errsz) < 0)
			return -1;
	}
	sf->sections_set = 1;
	return 0;
}

/*
 * sql-migrate: "-- +migrate Up" and "-- +migrate Down", each optionally
 * followed by "notransaction"; StatementBegin/StatementEnd enclose one
 * statement.  Commands are matched with their case, as sql-migrate does.
 */
static int
load_sql_migrate(struct sqlfile *sf, char *err, size_t errsz)
{
	struct lines ls;
	struct sql_section *cur = NULL, *sec;
	const char *w, *wend, *x;
	int in_stmt = 0;
	size_t down_at = sf->len;

	memset(&ls, 0, sizeof(ls));
	ls.p = sf->text;
	ls.end = sf->text + sf->len;
	ls.line = 1;
	while (lines_next(&ls)) {
		w = annotation(ls.p, ls.nl, "+migrate", 0, &wend);
		if (!w)
			continue;
		x = w;
		while (x < wend && !isspace((unsigned char)*x))
			x++;
		if ((x - w == 2 && strncmp(w, "Up", 2) == 0) ||
		    (x - w == 4 && strncmp(w, "Down", 4) == 0)) {
			sec = *w == 'U' ? &sf->up : &sf->down;
			if (sec->present || in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +migrate "
				    "%.*s\" out of place", sf->path, ls.line,
				    (int)(x - w), w);
			section_end(cur, ls.p);
			if (sec == &sf->down)
				down_at = (size_t)(ls.p - sf->text);
			cur = sec;
			section_start(cur, &ls);
			while (x < wend) {
				const char *o;

				while (x < wend && isspace((unsigned char)*x))
					x++;
				o = x;
				while (x < wend && !isspace((unsigned char)*x))
					x++;
				if (x - o == 13 &&
				    strncmp(o, "notransaction", 13) == 0)
					cur->no_transaction = 1;
				else if (x > o)
					return errf(err, errsz, "%s:%d: "
					    "unrecognized option \"%.*s\" (only "
					    "notransaction)", sf->path, ls.line,
					    (int)(x - o), o);
			}
		} else if (x - w == 14 && strncmp(w, "StatementBegin", 14) ==
		    0) {
			if (!cur || in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +migrate "
				    "StatementBegin\" out of place", sf->path,
				    ls.line);
			in_stmt = 1;
		} else if (x - w == 12 && strncmp(w, "StatementEnd", 12) ==
		    0) {
			if (!in_stmt)
				return errf(err, errsz, "%s:%d: \"-- +migrate "
				    "StatementEnd\" without StatementBegin",
				    sf->path, ls.line);
			in_stmt = 0;
		} else {
			return errf(err, errsz, "%s:%d: unrecognized "
			    "sql-migrate command \"%.*s\"", sf->path, ls.line,
			    (int)(x - w), w);
		}
	}
	if (!sf->up.present)
		return errf(err, errsz, "%s: no \"-- +migrate Up\" command",
		    sf->path);
	if (in_stmt)
		return errf(err, errsz, "%s: \"-- +migrate StatementBegin\" "
		    "without StatementEnd", sf->path);
	section_end(cur, ls.end);
	/* The checksum covers the up part: everything but the down section
	 * when Down comes last (the usual order), else the whole file. */
	if (!(sf->down.present && sf->down.text > sf->up.text))
		down_at = sf->len;
	sqlfile_sha256(sf->text, down_at, sf->checksum);
	sf->sections_set = 1;
	return 0;
}

/*
 * A "key = value" line of a small TOML or properties file: return 1 when
 * key is set to "false".
 */
static int
conf_false(const char *path, const char *key, int *out, char *err,
    size_t errsz)
{
	size_t len, kl = strlen(key);
	char *text;
	struct lines ls;

	if (regular_file(path, err, errsz) < 0)
		return -1;
	text = read_file(path, 1L << 20, &len);

	*out = 0;
	if (!text)
		return errf(err, errsz, "could not read \"%s\": %s", path,
		    strerror(errno));
	memset(&ls, 0, sizeof(ls));
	ls.p = text;
	ls.end = text + len;
	ls.line = 1;
	while (lines_next(&ls)) {
		const char *p = ls.p, *e = ls.nl;

		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) <= kl || strncmp(p, key, kl) != 0)
			continue;
		p += kl;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= e || *p != '=')
			continue;
		p++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(e - p) == 5 && strncmp(p, "false", 5) == 0)
			*out = 1;
		else if (!((size_t)(e - p) == 4 && strncmp(p, "true", 4) == 0)) {
			errf(err, errsz, "%s:%d: invalid value for %s (want "
			    "true or false)", path, ls.line, key);
			free(text);
			return -1;
		}
	}
	free(text);
	return 0;
}

static int
word_at(const char *s, const char *w)
{
	size_t n = strlen(w);

	while (isspace((unsigned char)*s))
		s++;
	return strncasecmp(s, w, n) == 0 && !isalnum((unsigned char)s[n]) &&
	    s[n] != '_';
}

static const char *
skip_word(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	while (*s && !isspace((unsigned char)*s))
		s++;
	return s;
}

/*
 * Flyway runs a PostgreSQL migration outside a transaction when one of
 * its statements cannot run inside one: CREATE/DROP INDEX CONCURRENTLY,
 * REINDEX ... CONCURRENTLY, VACUUM, CREATE/DROP DATABASE or TABLESPACE,
 * ALTER SYSTEM.
 */
static int
flyway_needs_no_tx(const struct sql_section *sec)
{
	size_t i;

	for (i = 0; i < sec->n; i++) {
		const char *s = sec->stmts[i].sql, *t;

		if (word_at(s, "create") || word_at(s, "drop")) {
			t = skip_word(s);
			if (word_at(t, "database") || word_at(t, "tablespace"))
				return 1;
			if (word_at(t, "unique"))
				t = skip_word(t);
			if (word_at(t, "index") &&
			    word_at(skip_word(t), "concurrently"))
				return 1;
		}
		if (word_at(s, "vacuum") ||
		    (word_at(s, "alter") && word_at(skip_word(s), "system")))
			return 1;
		if (word_at(s, "reindex") && strcasestr(s, "concurrently"))
			return 1;
	}
	return 0;
}

/*
 * A query string of one statement runs outside a transaction block: a
 * file that is one CREATE INDEX CONCURRENTLY (or the like) applies with
 * the tools that send a whole file at once.  Several statements in one
 * string are one implicit transaction, where it fails as it would there.
 */
static int
lone_no_tx(const struct sql_section *sec)
{
	return sec->n == 1 && flyway_needs_no_tx(sec);
}

int
layout_load(enum layout_format fmt, const struct layout_entry *e,
    struct sqlfile *sf, char *err, size_t errsz)
{
	int notx = 0;

	sf->version = e->version;
	if (!sf->version_str)
		sf->version_str = xstrdup(e->version_str);
	if (!sf->name)
		sf->name = xstrdup(e->name);
	if (sqlfile_read(sf, e->path, e->down_path, err, errsz) < 0)
		return -1;
	switch (fmt) {
	case LAYOUT_GOLANG_MIGRATE:
		/* golang-migrate sends a file as one query string: a lone
		 * CREATE INDEX CONCURRENTLY runs outside a transaction. */
		if (sqlfile_parse(sf, err, errsz) < 0)
			return -1;
		sf->up.no_transaction = lone_no_tx(&sf->up);
		sf->down.no_transaction = lone_no_tx(&sf->down);
		return 0;
	case LAYOUT_GOOSE:
		return load_goose(sf, err, errsz);
	case LAYOUT_SQL_MIGRATE:
		return load_sql_migrate(sf, err, errsz);
	case LAYOUT_FLYWAY:
	case LAYOUT_DIESEL:
	case LAYOUT_PRISMA:
		break;
	default:
		return 0;	/* sqlfile_parse() finds the sections */
	}
	/* A whole up file, and a whole down file when there is one. */
	sf->up.present = 1;
	sf->up.text = sf->text;
	sf->up.len = sf->len;
	sf->up.line = 1;
	if (sf->down_text) {
		sf->down.present = 1;
		sf->down.text = sf->down_text;
		sf->down.len = sf->down_len;
		sf->down.line = 1;
	}
	sqlfile_sha256(sf->text, sf->len, sf->checksum);
	sf->sections_set = 1;
	if (e->conf_path && conf_false(e->conf_path, fmt == LAYOUT_DIESEL ?
	    "run_in_transaction" : "executeInTransaction", &notx, err,
	    errsz) < 0)
		return -1;
	if (fmt == LAYOUT_FLYWAY && !notx) {
		if (sqlfile_parse(sf, err, errsz) < 0)
			return -1;
		notx = flyway_needs_no_tx(&sf->up);
		sf->down.no_transaction = flyway_needs_no_tx(&sf->down);
	}
	if (fmt == LAYOUT_PRISMA) {
		/* Prisma too sends the whole script as one query string */
		if (sqlfile_parse(sf, err, errsz) < 0)
			return -1;
		notx = lone_no_tx(&sf->up);
	}
	sf->up.no_transaction = notx;
	if (fmt != LAYOUT_FLYWAY || e->conf_path)
		sf->down.no_transaction = notx;
	return 0;
}
