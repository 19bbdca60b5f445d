/*
 * migset.c - files on disk joined with the rows recorded; see migset.h.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "migset.h"
#include "util.h"

static const char *const state_name[] = { "pending", "applied", "changed",
	"missing", "failed", "running", "baseline" };

const char *
mig_state_name(enum mig_state s)
{
	return state_name[s];
}

enum mig_state
mig_state(const struct mig *m)
{
	if (!m->has_row)
		return ST_PENDING;
	if (strcmp(m->status, "failed") == 0)
		return ST_FAILED;
	if (strcmp(m->status, "running") == 0)
		return ST_RUNNING;
	if (!m->row_checksum)
		return ST_BASELINE;	/* a marker: no file expected */
	if (!m->has_file)
		return ST_MISSING;
	if (strcmp(m->row_checksum, m->f.checksum) != 0)	/* a repeatable
		   one (layout.h) runs again when it changed */
		return layout_repeatable(m->f.version) ? ST_PENDING :
		    ST_CHANGED;
	return strcmp(m->status, "baseline") == 0 ? ST_BASELINE : ST_APPLIED;
}

const char *
mig_label(const struct mig *m)
{
	static char buf[2][256];
	static int k;

	k ^= 1;
	if (m->has_file)
		snprintf(buf[k], sizeof(buf[k]), "%s_%s", m->f.version_str,
		    m->f.name);
	else
		snprintf(buf[k], sizeof(buf[k]), "%lld_%s", m->f.version,
		    m->row_name ? m->row_name : "");
	return buf[k];
}

void
migset_init(struct migset *s, const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
}

void
migset_release(struct migset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		sqlfile_release(&s->m[i].f);
		free(s->m[i].key);
	}
	layout_release(&s->lay);
	if (s->have_fd)
		close(s->dir_fd);
	s->have_fd = 0;
	free(s->m);
	s->m = NULL;
	s->n = s->cap = s->nsorted = 0;
}

/* Room for n more entries in s->m (one allocation when n is known). */
static void
mig_reserve(struct migset *s, size_t n)
{
	if (s->cap - s->n >= n)
		return;
	s->cap = s->n + n;
	s->m = xrealloc(s->m, s->cap * sizeof(*s->m));
}

/* A new zeroed entry at the end of s->m (grown geometrically). */
static struct mig *
mig_push(struct migset *s)
{
	struct mig *m;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->m = xrealloc(s->m, s->cap * sizeof(*s->m));
	}
	m = &s->m[s->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

int
migset_cmp(const struct mig *x, const struct mig *y)
{
	if (x->key && y->key)
		return strcmp(x->key, y->key);
	return x->f.version < y->f.version ? -1 :
	    x->f.version > y->f.version;
}

static int
mig_cmp(const void *a, const void *b)
{
	return migset_cmp(a, b);
}

static int
version_cmp(const void *a, const void *b)
{
	const struct mig *x = a, *y = b;

	return x->f.version < y->f.version ? -1 :
	    x->f.version > y->f.version;
}

struct mig *
migset_find(struct migset *s, long long version)
{
	struct mig key;
	size_t i;

	if (layout_keyed(s->lay.format)) {	/* ordered by key */
		for (i = 0; i < s->n; i++)
			if (s->m[i].f.version == version)
				return &s->m[i];
		return NULL;
	}
	memset(&key, 0, sizeof(key));
	key.f.version = version;
	return bsearch(&key, s->m, s->nsorted, sizeof(*s->m), version_cmp);
}

/* A version as digits only (at most 18), or -1. */
static long long
digits_value(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	return strtoll(s, NULL, 10);
}

struct mig *
migset_find_arg(struct migset *s, const char *arg)
{
	long long v = digits_value(arg);
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct mig *m = &s->m[i];

		if (strcmp(mig_label(m), arg) == 0 || (m->has_file &&
		    m->f.version_str && strcmp(m->f.version_str, arg) == 0))
			return m;
		if (m->has_file && i < s->lay.n && s->lay.e[i].id &&
		    strcmp(s->lay.e[i].id, arg) == 0)
			return m;
	}
	for (i = 0; v >= 0 && i < s->n; i++)
		if (s->m[i].f.version == v)
			return &s->m[i];
	return NULL;
}

struct entry {
	long long version;
	char *version_str, *name, *fname;
	enum sqlfile_kind kind;
	char *text;		/* read while listing (layout.h), or NULL */
	size_t len;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static void
entries_free(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].version_str);
		free(e[i].name);
		free(e[i].fname);
		free(e[i].text);
	}
	free(e);
}

/*
 * A directory entry named like a migration must be a regular file (or a
 * link to one): a directory cannot be read, and opening a FIFO would wait
 * for a writer forever.  Return 1, or 0 with the reason in err.
 */
static int
usable(const char *dir, const struct dirent *de, char *err, size_t errsz)
{
	struct stat st;
	char *path;
	int r;

	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK) {
		snprintf(err, errsz, "not a regular file");
		return 0;
	}
	path = path_join(dir, de->d_name);
	r = stat(path, &st);
	free(path);
	if (r < 0)
		snprintf(err, errsz, "could not stat migration file: %s",
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(err, errsz, "not a regular file");
	return r == 0 && S_ISREG(st.st_mode);
}

/* The entries being listed: grown geometrically. */
struct entries {
	struct entry *e;
	size_t n, cap;
	int code;
};

/*
 * One directory entry: a migration file goes into es, a name that does
 * not parse or an entry that is no regular file is logged (EXIT_DATAERR),
 * anything else is skipped (layout_list() judged it).  unusable: why the
 * entry is no regular file, or NULL; f: the listing's entry (its text is
 * taken), or NULL.
 */
static void
list_one(struct entries *es, const char *dir, const char *fname,
    const char *unusable, struct layout_file *f)
{
	struct entry x;
	char err[512];
	int r;

	memset(&x, 0, sizeof(x));
	r = sqlfile_parse_name(fname, &x.version, &x.version_str, &x.name,
	    &x.kind, err, sizeof(err));
	if (r == 0)
		return;
	if (r > 0 && unusable) {
		snprintf(err, sizeof(err), "%s", unusable);
		free(x.version_str);
		free(x.name);
		r = -1;
	}
	if (r < 0) {
		log_error("%s/%s: %s", dir, fname, err);
		es->code = EXIT_DATAERR;
		return;
	}
	x.fname = xstrdup(fname);
	if (f) {
		x.text = f->text;
		x.len = f->len;
		f->text = NULL;
	}
	if (es->n == es->cap) {
		es->cap = es->cap ? 2 * es->cap : 64;
		es->e = xrealloc(es->e, es->cap * sizeof(*es->e));
	}
	es->e[es->n++] = x;
}

/*
 * List the migration files of dir, sorted: from the listing layout_list()
 * made (lay, its texts taken), or else from the directory.  Return 0,
 * EXIT_CONFIG (no such directory) or EXIT_DATAERR (a name that does not
 * parse), after logging.
 */
static int
list_dir(const char *dir, struct layout *lay, struct entry **out,
    size_t *nout)
{
	struct entries es;
	struct dirent *de;
	char why[256];
	DIR *d;
	size_t i;
	int r;

	memset(&es, 0, sizeof(es));
	*out = NULL;
	*nout = 0;
	if (lay && lay->files) {
		for (i = 0; i < lay->nfiles; i++)
			list_one(&es, dir, lay->files[i].fname,
			    lay->files[i].is_dir == 0 ? NULL :
			    "not a regular file", &lay->files[i]);
	} else if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			list_one(&es, dir, de->d_name, usable(dir, de, why,
			    sizeof(why)) ? NULL : why, NULL);
		closedir(d);
	} else {
		r = errno;
		log_errno("cannot open migrations directory \"%s\"", dir);
		/* out of descriptors or memory is the system's, not config */
		return r == EMFILE || r == ENFILE || r == ENOMEM ? EXIT_OSERR :
		    EXIT_CONFIG;
	}
	msort(es.e, es.n, sizeof(*es.e), entry_cmp);	/* names in order:
							   one pass */
	*out = es.e;
	*nout = es.n;
	return es.code;
}

/*
 * A folder in another tool's layout: one migration per layout entry, in
 * that tool's order.  Return 0 or EXIT_DATAERR after logging.
 */
static int
list_layout(struct migset *s)
{
	size_t i;

	mig_reserve(s, s->lay.n);
	for (i = 0; i < s->lay.n; i++) {
		struct layout_entry *e = &s->lay.e[i];
		struct mig *m = mig_push(s);

		m->has_file = 1;
		m->f.version = e->version;
		m->key = e->key ? xstrdup(e->key) : NULL;
		m->f.version_str = xstrdup(e->version_str);
		m->f.name = xstrdup(e->name);
		m->f.path = xstrdup(e->path);
		m->f.down_path = e->down_path ? xstrdup(e->down_path) : NULL;
		m->f.text = e->text;	/* read while listing, or NULL */
		m->f.len = e->len;
		e->text = NULL;
	}
	s->nfiles = s->nsorted = s->n;
	return 0;
}

/*
 * Start the layout's listing (names only).  Return 0, or an exit code
 * after logging.  Without the directory, list_dir() says why later.
 */
static int
layout_begin(struct migset *s)
{
	enum layout_format want = LAYOUT_AUTO;
	char err[1024];

	if (s->format && *s->format && layout_from_name(s->format, &want) < 0) {
		log_error("invalid [database] format \"%s\" (want auto, "
		    "dbmate, golang-migrate, goose, sql-migrate, flyway, diesel "
		    "or prisma)", s->format);
		return EXIT_CONFIG;
	}
	if (layout_open_at(s->have_fd ? s->dir_fd : open(s->dir, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC), s->dir, want, &s->lay, err,
	    sizeof(err)) < 0)
		s->no_dir = 1;	/* list_dir() says why */
	s->have_fd = 0;		/* the layout has it */
	return 0;
}

int
migset_open(struct migset *s)
{
	enum layout_format want;

	if (s->opened || s->have_fd || s->listed)
		return s->code;
	if ((s->format && *s->format && layout_from_name(s->format, &want) <
	    0) || (s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return migset_list(s);	/* says why, as it would later */
	s->have_fd = 1;
	return 0;
}

/*
 * Detect the layout once every file is read; log what it ignores.
 * Return 0 for entrypoint's own (dbmate) layout, 1 for another tool's
 * (listed in s->lay), or an exit code after logging.
 */
static int
layout_end(struct migset *s)
{
	char err[1024];
	size_t i;
	int r;

	if (s->no_dir)
		return 0;	/* list_dir() says why */
	r = layout_close(&s->lay, err, sizeof(err));
	if (r < 0 && s->lay.format == LAYOUT_DBMATE &&
	    strstr(err, "invalid migration file name"))
		return 0;	/* list_dir() names every bad file */
	if (r < 0) {
		log_error("%s", err);
		return EXIT_DATAERR;
	}
	for (i = 0; i < s->lay.warnings.n; i++)
		log_warn("%s", s->lay.warnings.v[i]);
	if (s->lay.format == LAYOUT_DBMATE)
		return 0;	/* list_dir() goes on from s->lay.files */
	log_debug("migrations in %s/ read in the %s layout", s->dir,
	    layout_name(s->lay.format));
	return 1;
}

/* Files the listing reads per step (migset_step()). */
#define STEP_FILES 16

/* One step of listing: 1 while the layout still reads files, else done
 * (0, or an exit code after logging, also in s->code). */
static int
list_step(struct migset *s)
{
	char err[1024];
	int r;

	if (!s->opened) {
		s->opened = 1;
		r = layout_begin(s);
		if (r)
			return s->code = r;
		if (!s->no_dir)
			return 1;
	} else if (s->lay.nclassified < s->lay.nfiles) {
		r = layout_step(&s->lay, STEP_FILES, err, sizeof(err));
		if (r >= 0)
			return 1;
		log_error("%s", err);
		return s->code = EXIT_DATAERR;
	}
	return migset_list(s);
}

/* See migset.h: a migration is a single file or an .up/.down pair. */
int
migset_list(struct migset *s)
{
	struct entry *e;
	size_t ne, i, j;
	struct mig *m;
	int code = 0;

	if (s->code) {		/* a step failed (list_step()) */
		s->listed = 1;
		return s->code;
	}
	if (!s->opened) {
		s->opened = 1;
		code = layout_begin(s);
	}
	if (!code)
		code = layout_end(s);
	s->listed = 1;
	if (code == 1)
		return s->code = list_layout(s);
	if (code)
		return s->code = code;
	code = list_dir(s->dir, &s->lay, &e, &ne);
	layout_release(&s->lay);
	s->lay.format = LAYOUT_DBMATE;
	mig_reserve(s, ne);
	for (i = 0; i < ne; i = j) {
		j = i + 1;
		while (j < ne && e[j].version == e[i].version)
			j++;
		if (j - i > 2 || (j - i == 2 && (e[i].kind != SQLFILE_UP ||
		    e[i + 1].kind != SQLFILE_DOWN ||
		    strcmp(e[i].name, e[i + 1].name) != 0 ||
		    strcmp(e[i].version_str, e[i + 1].version_str) != 0))) {
			log_error("duplicate migration version %lld: \"%s/%s\" "
			    "and \"%s/%s\"", e[i].version, s->dir,
			    e[i].fname, s->dir, e[i + 1].fname);
			code = EXIT_DATAERR;
			continue;
		}
		if (e[i].kind == SQLFILE_DOWN) {
			log_error("\"%s/%s\" has no matching .up.sql file",
			    s->dir, e[i].fname);
			code = EXIT_DATAERR;
			continue;
		}
		if (code)
			continue;
		m = mig_push(s);
		m->has_file = 1;
		m->f.version = e[i].version;
		m->f.version_str = e[i].version_str;
		m->f.name = e[i].name;
		m->f.text = e[i].text;
		m->f.len = e[i].len;
		e[i].version_str = e[i].name = e[i].text = NULL;
		m->f.path = path_join(s->dir, e[i].fname);
		if (j - i == 2) {
			m->f.down_path = path_join(s->dir, e[i + 1].fname);
			m->f.down_text = e[i + 1].text;
			m->f.down_len = e[i + 1].len;
			e[i + 1].text = NULL;
		}
	}
	entries_free(e, ne);
	s->nfiles = s->nsorted = s->n;
	s->code = code;
	return code;
}

int
migset_step(void *arg)
{
	struct migset *s = arg;
	char err[512];
	size_t stop = s->nread + STEP_FILES;
	int r;

	if (!s->listed) {
		r = s->code ? s->code : list_step(s);
		if (s->listed)
			return r ? -1 : s->nfiles > 0;
		return r == 1 ? 1 : -1;
	}

	for (; s->nread < s->nfiles && s->nread < stop; s->nread++) {
		struct sqlfile *f = &s->m[s->nread].f;

		if (s->lay.format > LAYOUT_DBMATE)
			r = layout_load(s->lay.format, &s->lay.e[s->nread], f,
			    err, sizeof(err));
		else
			r = sqlfile_read(f, f->path, f->down_path, err,
			    sizeof(err));
		if (r < 0) {
			int e = errno;

			log_error("%s", err);
			/* Out of descriptors or memory: the system's fault
			 * (71, retry), and the next files would say the
			 * same; stop at the first. */
			if (e == EMFILE || e == ENFILE || e == ENOMEM ||
			    e == EIO) {
				s->code = EXIT_OSERR;
				s->nread = s->nfiles;
				return 0;
			}
			s->code = EXIT_DATAERR;
		}
	}
	return s->nread < s->nfiles;
}

int
migset_finish(struct migset *s)
{
	if (!s->listed && migset_list(s))
		return s->code;
	while (migset_step(s) > 0)
		;
	return s->code;
}


int
migset_add_row(struct migset *s, const struct migrow *r)
{
	struct mig *m;
	long v;

	/* hashed versions (layout.h) are negative */
	if (parse_long(r->version, layout_keyed(s->lay.format) ? LONG_MIN :
	    0, LONG_MAX, &v) < 0)
		return log_error("invalid version \"%s\" in the migrations "
		    "table", r->version);
	m = migset_find(s, v);
	if (!m) {
		m = mig_push(s);
		m->f.version = v;
		if (layout_keyed(s->lay.format))
			m->key = layout_sort_key(s->lay.format, v, r->name);
	}
	m->has_row = 1;
	m->row_name = r->name;
	m->row_checksum = r->checksum;
	m->status = r->status;
	m->applied_at = r->applied_at;
	m->release = r->release;
	m->error = r->error;
	return 0;
}

void
migset_rows_done(struct migset *s)
{
	if (s->n > s->nsorted)
		qsort(s->m, s->n, sizeof(*s->m), mig_cmp);
	s->nsorted = s->n;
}

void
migset_forget_rows(struct migset *s)
{
	size_t i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (!s->m[i].has_file) {
			sqlfile_release(&s->m[i].f);
			free(s->m[i].key);
			continue;
		}
		s->m[i].row_name = s->m[i].row_checksum = s->m[i].status =
		    s->m[i].applied_at = s->m[i].release = s->m[i].error =
		    NULL;
		s->m[i].has_row = 0;
		s->m[k++] = s->m[i];
	}
	s->n = s->nsorted = k;
}

const struct mig *
migset_top(const struct migset *s)
{
	size_t i;

	for (i = s->n; i-- > 0;)
		if (s->m[i].has_row && !layout_repeatable(s->m[i].f.version))
			return &s->m[i];
	return NULL;
}

size_t
migset_pending(const struct migset *s, size_t **out)
{
	size_t i, n = 0;

	*out = xcalloc(s->n + 1, sizeof(**out));
	for (i = 0; i < s->n; i++)
		if (s->m[i].has_file && mig_state(&s->m[i]) == ST_PENDING)
			(*out)[n++] = i;
	return n;
}

void
migset_count(const struct migset *s, struct migcount *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < s->n; i++) {
		enum mig_state st = mig_state(&s->m[i]);

		if (st == ST_PENDING || st == ST_FAILED || st == ST_RUNNING)
			c->pending++;
		else if (st == ST_MISSING)
			c->missing++;
		else if (st == ST_CHANGED)
			c->changed++;
	}
}

int
migset_check_history(const struct migset *s)
{
	size_t i;
	int bad = 0;
	const struct mig *m;

	for (i = 0; i < s->n; i++) {
		m = &s->m[i];
		switch (mig_state(m)) {
		case ST_CHANGED:
			log_error("migration \"%s\" was changed after it was "
			    "applied (checksum %.12s, applied %.12s): restore "
			    "the file and put the change in a new migration",
			    m->f.path, m->f.checksum, m->row_checksum);
			bad = 1;
			break;
		case ST_MISSING:
			log_error("applied migration %s has no file in \"%s\": "
			    "the database is ahead of this image, or the file "
			    "was deleted", mig_label(m), s->dir);
			bad = 1;
			break;
		case ST_FAILED:
		case ST_RUNNING:
			log_error("migration %s ran outside a transaction and "
			    "is recorded as %s%s%s: it may be partly applied. "
			    "Check the database, then run 'entrypoint migrate "
			    "resolve %lld --applied' if it took effect, or "
			    "undo what it did and run 'entrypoint migrate "
			    "resolve %lld --rolled-back' to run it again",
			    mig_label(m), m->status, m->error ? " (" : "",
			    m->error ? m->error : "", m->f.version,
			    m->f.version);
			if (m->error)
				log_error("(%s)", m->error);
			bad = 1;
			break;
		default:
			break;
		}
	}
	return bad ? EXIT_DATAERR : 0;
}

int
mig_parse(struct mig *m)
{
	char err[512];

	if (sqlfile_parse(&m->f, err, sizeof(err)) < 0)
		return log_error("%s", err);
	return 0;
}

int
migset_next_version(const char *dir, time_t now, char *ver, size_t size)
{
	struct entry *e = NULL;
	size_t ne = 0;
	int code = list_dir(dir, NULL, &e, &ne);

	if (!code)
		layout_next_version(ne ? e[ne - 1].version_str : NULL, now, ver,
		    size);
	entries_free(e, ne);
	return code;
}
