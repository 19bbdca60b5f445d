/*
 * util.c - small helpers; see util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "util.h"

static void
oom(void)
{
	log_die(EXIT_OSERR, "out of memory");
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

int
errf(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || *s == ' ' || *s == '+') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Copy the decimal digits that begin s into num (cap bytes with the NUL) and
 * set *nlen to their count.  EINVAL when s is NULL, empty or starts with no
 * digit; ERANGE when the digits do not fit.
 */
static int
lead_digits(const char *s, char *num, size_t cap, size_t *nlen)
{
	size_t n;

	if (!s || !*s) {
		errno = EINVAL;
		return -1;
	}
	n = strspn(s, "0123456789");
	if (n == 0 || n >= cap) {
		errno = n ? ERANGE : EINVAL;
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	*nlen = n;
	return 0;
}

int
parse_duration(const char *s, long *ms)
{
	static const struct {
		const char *suffix;
		long mult;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	char num[32];
	size_t len, i, nlen;
	long v;

	if (lead_digits(s, num, sizeof(num), &nlen) < 0)
		return -1;
	len = strlen(s);
	if (parse_long(num, 0, LONG_MAX, &v) < 0)
		return -1;
	if (nlen == len) {
		i = 1;		/* seconds */
	} else {
		for (i = 0; i < ARRAY_LEN(units); i++)
			if (strcmp(s + nlen, units[i].suffix) == 0)
				break;
		if (i == ARRAY_LEN(units)) {
			errno = EINVAL;
			return -1;
		}
	}
	if (v > LONG_MAX / units[i].mult || v * units[i].mult > 1000L *
	    86400 * 365) {
		errno = ERANGE;
		return -1;
	}
	*ms = v * units[i].mult;
	return 0;
}

int
parse_size(const char *s, long *bytes)
{
	char num[32];
	size_t nlen;
	long v, mult = 1;

	if (lead_digits(s, num, sizeof(num), &nlen) < 0)
		return -1;
	if (s[nlen] == 'k' || s[nlen] == 'K')
		mult = 1024L;
	else if (s[nlen] == 'm' || s[nlen] == 'M')
		mult = 1024L * 1024;
	else if (s[nlen] == 'g' || s[nlen] == 'G')
		mult = 1024L * 1024 * 1024;
	else if (s[nlen]) {
		errno = EINVAL;
		return -1;
	}
	if (mult > 1 && s[nlen + 1] && strcmp(s + nlen + 1, "B") != 0 &&
	    strcmp(s + nlen + 1, "iB") != 0) {
		errno = EINVAL;
		return -1;
	}
	if (parse_long(num, 0, SIZE_LIMIT / mult, &v) < 0)
		return -1;
	*bytes = v * mult;
	return 0;
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
strbuf_grow(struct strbuf *sb, size_t n)
{
	if (sb->len + n + 1 <= sb->cap)
		return;
	sb->cap = (sb->len + n + 1) * 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void
strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addch(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void
strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *
strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void
strv_push_owned(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void
strv_push(struct strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

void
strv_release(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void
strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char *
read_file(const char *path, size_t max, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	return read_fd(fd, max, lenp);
}

char *
read_fd(int fd, size_t max, size_t *lenp)
{
	struct strbuf sb = { NULL, 0, 0 };
	char buf[8192];
	ssize_t n;
	int saved;

	for (;;) {
		n = read_nointr(fd, buf, sizeof(buf));
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			errno = EFBIG;
			goto fail;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (lenp)
		*lenp = sb.len;
	return strbuf_detach(&sb);
fail:
	saved = errno;
	close(fd);
	strbuf_release(&sb);
	errno = saved;
	return NULL;
}

/* slurp() of a file longer than its first read: head, then the rest. */
static int
slurp_rest(int fd, const char *head, size_t hlen, size_t max, char **text,
    size_t *len)
{
	char *rest;
	size_t rlen = 0;

	if (hlen > max) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	rest = read_fd(fd, max - hlen, &rlen);
	if (!rest)
		return -1;
	*text = xmalloc(hlen + rlen + 1);
	memcpy(*text, head, hlen);
	memcpy(*text + hlen, rest, rlen + 1);
	*len = hlen + rlen;
	free(rest);
	return 0;
}

/*
 * A migration is usually small: one read(2) into a buffer on the stack,
 * and a short read of a regular file is its end, so openat/read/close
 * (and fstat when asked) are the only system calls; bigger files go on
 * through read_fd().  openat(2), not open(2): musl's open() follows
 * O_CLOEXEC with an fcntl(2) of its own, one more system call per file.
 * O_NONBLOCK: a FIFO or a device is refused at once, never waited on (it
 * means nothing to a regular file).
 */
int
slurp(const char *path, int check_regular, size_t max, char **text,
    size_t *len)
{
	return slurp_at(AT_FDCWD, path, check_regular, max, text, len);
}

int
slurp_at(int dirfd, const char *name, int check_regular, size_t max,
    char **text, size_t *len)
{
	char buf[16384];
	struct stat st;
	ssize_t n;
	int fd, saved;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (check_regular && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	n = read_nointr(fd, buf, sizeof(buf));
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		close(fd);
		if ((size_t)n > max) {
			errno = EFBIG;
			return -1;
		}
		*text = xmalloc((size_t)n + 1);
		memcpy(*text, buf, (size_t)n);
		(*text)[n] = '\0';
		*len = (size_t)n;
		return 0;
	}
	if (n < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return slurp_rest(fd, buf, sizeof(buf), max, text, len);
}

/* Sort b[0..n) into place, with t (n elements) to merge through. */
static void
msort_with(char *b, size_t n, size_t size,
    int (*cmp)(const void *, const void *), char *t)
{
	size_t n1 = n / 2, n2 = n - n1;
	char *b1 = b, *b2 = b + n1 * size, *out = t;

	if (n < 2)
		return;
	msort_with(b1, n1, size, cmp, t);
	msort_with(b2, n2, size, cmp, t);
	if (cmp(b2 - size, b2) <= 0)
		return;		/* already in order */
	while (n1 > 0 && n2 > 0) {
		if (cmp(b1, b2) <= 0) {
			memcpy(out, b1, size);
			b1 += size;
			n1--;
		} else {
			memcpy(out, b2, size);
			b2 += size;
			n2--;
		}
		out += size;
	}
	if (n1 > 0)
		memcpy(out, b1, n1 * size);
	memcpy(b, t, (n - n2) * size);
}

void
msort(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	char *t;

	if (n < 2)
		return;
	t = xmalloc(n * size);
	msort_with(base, n, size, cmp, t);
	free(t);
}

char *
path_join(const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);
	char *p = xmalloc(d + n + 2);

	memcpy(p, dir, d + 1);
	p[d] = '/';
	memcpy(p + d + 1, name, n + 1);
	return p;
}

ssize_t
read_nointr(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = write(fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

pid_t
waitpid_nointr(pid_t pid, int *status, int flags)
{
	pid_t r;

	do
		r = waitpid(pid, status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, tmp, best;
	size_t row[64];

	if (lb >= ARRAY_LEN(row))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
closest_name(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd = (size_t)-1, limit;

	limit = strlen(s) / 2 + 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		if (starts_with(names[i], s) && *s && strlen(s) >= 2)
			return names[i];
		d = edit_distance(s, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

int
signal_from_name(const char *s)
{
	size_t i;
	long v;

	if (parse_long(s, 1, 64, &v) == 0)
		return (int)v;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < ARRAY_LEN(signals); i++)
		if (strcmp(s, signals[i].name) == 0)
			return signals[i].sig;
	return -1;
}

const char *
signal_name(int sig)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < ARRAY_LEN(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}


