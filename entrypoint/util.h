/*
 * util.h - small helpers shared by every module.
 *
 * The x* wrappers exit(EXIT_OSERR) on failure and are for start-up code
 * only (before any child exists).  The *_nointr wrappers retry on EINTR and
 * otherwise behave as the system call: 0/-1 or a count, errno intact.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int streq(const char *a, const char *b);
int starts_with(const char *s, const char *prefix);

/*
 * Parse a whole decimal number in [min, max].  Return 0, or -1 with errno
 * EINVAL (junk, empty) or ERANGE.
 */
int parse_long(const char *s, long min, long max, long *out);

/*
 * Parse a duration: a number with an optional unit ms, s (default), m, h;
 * "0" disables.  Store milliseconds.  Return 0 or -1 (EINVAL/ERANGE).
 */
int parse_duration(const char *s, long *ms);

/* The largest size parse_size() accepts: 1 GiB. */
#define SIZE_LIMIT (1024L * 1024 * 1024)
/*
 * Parse a size in bytes: a number with an optional unit k, M or G (powers
 * of 1024, case-insensitive, "kB"/"KiB" spelled out too), at most
 * SIZE_LIMIT.  Return 0 or -1 (EINVAL/ERANGE).
 */
int parse_size(const char *s, long *bytes);

/* Milliseconds of CLOCK_MONOTONIC. */
long long now_ms(void);

/* A growable string; buf is always NUL-terminated once used. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_release(struct strbuf *sb);
/* Return the buffer (never NULL) and leave sb empty; caller frees. */
char *strbuf_detach(struct strbuf *sb);

/* A NULL-terminated vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *sv, const char *s);	/* copies s */
void strv_push_owned(struct strv *sv, char *s);	/* takes s */
void strv_release(struct strv *sv);
size_t strv_len(char *const *v);
void strv_free(char **v);

/*
 * Read a whole file (at most max bytes) into a NUL-terminated buffer.
 * Return it, or NULL with errno set (EFBIG when larger than max).
 */
char *read_file(const char *path, size_t max, size_t *len);
/* The same from an open fd, which it closes in every case. */
char *read_fd(int fd, size_t max, size_t *len);
/*
 * Read a whole file the way a migration is read (see slurp in util.c).
 * check_regular: refuse what is not a regular file (return 1, nothing
 * read); 0 when the caller already knows it is one.  Return 0 with *text
 * (malloc'd, NUL-terminated) and *len, or -1 with errno set (EFBIG past
 * max).
 */
int slurp(const char *path, int check_regular, size_t max, char **text,
    size_t *len);
/* slurp() of name in the directory open as dirfd (openat(2)'s rule). */
int slurp_at(int dirfd, const char *name, int check_regular, size_t max,
    char **text, size_t *len);

/*
 * Sort n elements of size bytes at base, stably, with cmp: a merge sort
 * (as git's msort), for the arrays of names a migrations folder lists.
 * musl's qsort is a smoothsort that moves elements through memcpy a few
 * bytes at a time, several times slower on them.
 */
void msort(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *));

/* "dir/name", malloc'd: no printf for what is called once per file. */
char *path_join(const char *dir, const char *name);

ssize_t read_nointr(int fd, void *buf, size_t n);
ssize_t write_all(int fd, const void *buf, size_t n);
pid_t waitpid_nointr(pid_t pid, int *status, int flags);

/* Edit distance, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);
/* The closest of names[0..n) to s, or NULL when none is close enough. */
const char *closest_name(const char *s, const char *const *names, size_t n);

/* Signal number for "TERM", "SIGTERM" or "15"; -1 when not a signal. */
int signal_from_name(const char *s);
/* "TERM" for SIGTERM; a static buffer with the number for others. */
const char *signal_name(int sig);

/*
 * Format a message into the caller's error buffer err[errsz] and return -1:
 * how the file readers (sqlfile, layout, takeover) say what is wrong, as in
 * "return errf(err, errsz, "...", ...);".
 */
int errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
