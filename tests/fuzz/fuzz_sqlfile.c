/*
 * fuzz_sqlfile.c - libFuzzer target: the migration file reader (sections
 * and markers, the psql-like statement splitter, COPY ... FROM stdin rows,
 * file names).
 *
 * The input is one migration file.  When it contains a line
 * "--@down.sql", the bytes before it are a VERSION_name.up.sql and those
 * after it the matching .down.sql; else it is a single VERSION_name.sql.
 * The bytes go into memfds that sqlfile_read() reads by their
 * /proc/self/fd path, the way migrate reads a file (NUL bytes and all);
 * nothing is written to disk.  The input's first line (as a directory
 * entry's name, at most 255 bytes) also goes through sqlfile_parse_name().
 *
 * Besides the sanitizers, the documented contract is checked (abort() on
 * failure): an error names the file; statements are in file order within
 * their section; COPY rows are present only for COPY ... FROM stdin.  (A
 * last row cut by the end of the file has no '\n': psql sends it so too.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sqlfile.h"
#include "util.h"

#define DOWN_MARK "\n--@down.sql\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	int up_fd, down_fd;
	char up_path[64], down_path[64];
} fz;

static void
die(const char *what)
{
	perror(what);
	abort();
}

static int
new_memfd(const char *name, char *path, size_t pathsz)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create");
	snprintf(path, pathsz, "/proc/self/fd/%d", fd);
	return fd;
}

static void
set_memfd(int fd, const uint8_t *buf, size_t len)
{
	if (ftruncate(fd, 0) < 0 ||
	    (len && pwrite(fd, buf, len, 0) != (ssize_t)len))
		die("memfd write");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz.up_fd = new_memfd("up.sql", fz.up_path, sizeof(fz.up_path));
	fz.down_fd = new_memfd("down.sql", fz.down_path, sizeof(fz.down_path));
	return 0;
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	char fname[256], *vs = NULL, *name = NULL, err[512];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;
	long long version = -1;
	enum sqlfile_kind kind;
	int r;

	if (n > sizeof(fname) - 1)
		n = sizeof(fname) - 1;
	memcpy(fname, data, n);
	fname[n] = '\0';
	err[0] = '\0';
	r = sqlfile_parse_name(fname, &version, &vs, &name, &kind, err,
	    sizeof(err));
	if (r == 1 && (!vs || !name || version < 0 || !*vs ||
	    strlen(vs) > strlen(fname)))
		abort();
	if (r != 1 && (vs || name))
		abort();
	if (r < 0 && !*err)
		abort();
	free(vs);
	free(name);
}

static void
check_section(const struct sql_section *sec)
{
	size_t i;
	int last = 0;

	for (i = 0; i < sec->n; i++) {
		const struct sql_stmt *st = &sec->stmts[i];

		if (!st->sql || st->line < sec->line || st->line < last)
			abort();
		last = st->line;
		if ((st->copy_data || st->copy_len) && !st->copy_in)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sqlfile sf;
	const uint8_t *mark = memmem(data, size, DOWN_MARK,
	    strlen(DOWN_MARK));
	const char *path = fz.up_path;
	char err[1024];
	size_t up_len = size, off;

	fuzz_name(data, size);
	if (mark) {
		up_len = (size_t)(mark - data) + 1;
		off = up_len + strlen(DOWN_MARK) - 1;
		set_memfd(fz.down_fd, data + off, size - off);
	}
	set_memfd(fz.up_fd, data, up_len);

	memset(&sf, 0, sizeof(sf));
	err[0] = '\0';
	if (sqlfile_read(&sf, path, mark ? fz.down_path : NULL, err,
	    sizeof(err)) < 0)
		abort();	/* a memfd is always readable */
	if (strlen(sf.checksum) != SQLFILE_CHECKSUM_LEN)
		abort();
	if (sqlfile_parse(&sf, err, sizeof(err)) == 0) {
		check_section(&sf.up);
		check_section(&sf.down);
		/* a second parse is a no-op */
		if (sqlfile_parse(&sf, err, sizeof(err)) != 0)
			abort();
	} else if (!strstr(err, "/proc/self/fd/")) {
		abort();
	}
	sqlfile_release(&sf);
	return 0;
}
