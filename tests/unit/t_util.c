/*
 * t_util.c - parse_long, parse_duration, closest_name, strbuf, strv,
 * signal names, slurp and path_join, msort.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "util.h"

static void
test_parse_long(void)
{
	long v = 0;

	ok(parse_long("42", 0, 100, &v) == 0 && v == 42, "parse_long 42");
	ok(parse_long("-5", -10, 10, &v) == 0 && v == -5, "negative");
	ok(parse_long("0", 0, 0, &v) == 0 && v == 0, "0 in [0, 0]");
	errno = 0;
	ok(parse_long("", 0, 10, &v) == -1 && errno == EINVAL, "empty");
	errno = 0;
	ok(parse_long("12x", 0, 100, &v) == -1 && errno == EINVAL, "junk");
	errno = 0;
	ok(parse_long(" 1", 0, 100, &v) == -1 && errno == EINVAL,
	    "leading blank");
	errno = 0;
	ok(parse_long("+1", 0, 100, &v) == -1 && errno == EINVAL, "plus");
	errno = 0;
	ok(parse_long("101", 0, 100, &v) == -1 && errno == ERANGE, "max");
	errno = 0;
	ok(parse_long("-1", 0, 100, &v) == -1 && errno == ERANGE, "min");
	errno = 0;
	ok(parse_long("99999999999999999999999", 0, LONG_MAX, &v) == -1 &&
	    errno == ERANGE, "overflow");
	ok(parse_long(NULL, 0, 1, &v) == -1, "NULL");
}

static void
test_parse_duration(void)
{
	static const struct {
		const char *in;
		long ms;
	} good[] = {
		{ "0", 0 }, { "10", 10000 }, { "10s", 10000 }, { "250ms", 250 },
		{ "5m", 300000 }, { "2h", 7200000 }, { "0ms", 0 },
	};
	static const char *const bad[] = {
		"", "s", "10x", "1.5s", "-1", "10 s", " 10", "10S", "1d",
		"99999999999999999999", "100000000h",
	};
	size_t i;
	long ms;
	char name[64];

	for (i = 0; i < ARRAY_LEN(good); i++) {
		ms = -1;
		snprintf(name, sizeof(name), "duration %s", good[i].in);
		ok(parse_duration(good[i].in, &ms) == 0 && ms == good[i].ms,
		    name);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		ms = 77;
		snprintf(name, sizeof(name), "duration \"%s\" is refused",
		    bad[i]);
		ok(parse_duration(bad[i], &ms) == -1 && ms == 77, name);
	}
}

static void
test_closest(void)
{
	static const char *const cmds[] = { "web", "worker", "migrate",
	    "task", "tasks", "shell", "run", "history", "check", "env" };
	size_t n = ARRAY_LEN(cmds);

	is_str(closest_name("wbe", cmds, n), "web", "transposition");
	is_str(closest_name("migrat", cmds, n), "migrate", "prefix");
	is_str(closest_name("shel", cmds, n), "shell", "one letter short");
	is_str(closest_name("histroy", cmds, n), "history", "typo");
	ok(closest_name("zzzzzzzz", cmds, n) == NULL, "nothing close");
	ok(closest_name("x", cmds, 0) == NULL, "no names");
}

static void
test_strbuf(void)
{
	struct strbuf sb = { NULL, 0, 0 };
	struct strv sv = { NULL, 0, 0 };
	char *s;
	int i;

	s = strbuf_detach(&sb);
	is_str(s, "", "detach of an empty strbuf is \"\"");
	free(s);
	strbuf_addstr(&sb, "a");
	strbuf_addch(&sb, 'b');
	strbuf_add(&sb, "cdef", 2);
	strbuf_addf(&sb, "-%d-%s", 42, "x");
	is_str(sb.buf, "abcd-42-x", "add, addch, addf");
	is_int(sb.len, 9, "len");
	for (i = 0; i < 1000; i++)
		strbuf_addstr(&sb, "0123456789");
	is_int(sb.len, 10009, "grows");
	ok(sb.buf[sb.len] == '\0', "NUL-terminated");
	s = strbuf_detach(&sb);
	ok(sb.buf == NULL && sb.len == 0, "detach empties");
	free(s);
	strbuf_release(&sb);

	for (i = 0; i < 20; i++)
		strv_push(&sv, "x");
	strv_push_owned(&sv, xstrdup("last"));
	is_int(sv.n, 21, "strv grows");
	is_int(strv_len(sv.v), 21, "strv_len");
	ok(sv.v[21] == NULL, "strv is NULL-terminated");
	strv_release(&sv);
	is_int(strv_len(NULL), 0, "strv_len(NULL)");
}

static void
test_signals(void)
{
	is_int(signal_from_name("TERM"), SIGTERM, "TERM");
	is_int(signal_from_name("SIGQUIT"), SIGQUIT, "SIGQUIT");
	is_int(signal_from_name("9"), 9, "9");
	is_int(signal_from_name("WINCH"), SIGWINCH, "WINCH");
	is_int(signal_from_name("NOPE"), -1, "NOPE");
	is_int(signal_from_name("0"), -1, "0");
	is_int(signal_from_name("65"), -1, "65");
	is_str(signal_name(SIGTERM), "TERM", "signal_name TERM");
	is_str(signal_name(SIGRTMIN + 1), "35", "a realtime signal by number");
}

/*
 * slurp() of files around its one-read buffer (16 KiB): every byte back,
 * in order, NUL-terminated; max enforced; a FIFO refused when asked.
 */
static void
test_slurp(void)
{
	static const size_t sizes[] = { 0, 1, 16383, 16384, 16385, 40000 };
	char dir[] = "/tmp/t_util.XXXXXX", path[64], what[64], *text, *want;
	size_t i, k, len;
	FILE *f;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		want = malloc(sizes[i] + 1);
		for (k = 0; k < sizes[i]; k++)
			want[k] = (char)('a' + (k * 7 + k / 16384) % 26);
		f = fopen(path, "w");
		if (!want || !f || fwrite(want, 1, sizes[i], f) != sizes[i] ||
		    fclose(f) != 0) {
			ok(0, "write the fixture");
			free(want);
			continue;
		}
		text = NULL;
		len = 99;
		snprintf(what, sizeof(what), "slurp of %zu bytes", sizes[i]);
		ok(slurp(path, 1, 1 << 20, &text, &len) == 0 && len == sizes[i] &&
		    memcmp(text, want, sizes[i]) == 0 && text[len] == '\0',
		    what);
		free(text);
		if (sizes[i] > 0) {
			snprintf(what, sizeof(what), "%zu bytes over max %zu: "
			    "EFBIG", sizes[i], sizes[i] - 1);
			text = NULL;
			errno = 0;
			ok(slurp(path, 0, sizes[i] - 1, &text, &len) < 0 &&
			    errno == EFBIG && !text, what);
		}
		free(want);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	text = NULL;
	ok(mkfifo(path, 0600) == 0 && slurp(path, 1, 100, &text, &len) == 1 &&
	    !text, "a FIFO: not a regular file, never read");
	unlink(path);
	errno = 0;
	ok(slurp("/nonexistent/x", 1, 100, &text, &len) < 0 &&
	    errno == ENOENT, "a missing file: ENOENT");
	rmdir(dir);
	text = path_join("migrations", "0001_a.sql");
	is_str(text, "migrations/0001_a.sql", "path_join");
	free(text);
}

struct kv {
	int k, seq;
};

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	return (x->k > y->k) - (x->k < y->k);
}

/* msort: in order, stable (equal keys keep their order), any n. */
static void
test_msort(void)
{
	static const size_t ns[] = { 0, 1, 2, 3, 17, 1000 };
	struct kv *v;
	size_t i, j;
	unsigned r = 12345;
	int bad;
	char what[64];

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		v = calloc(ns[i] + 1, sizeof(*v));
		for (j = 0; j < ns[i]; j++) {
			r = r * 1103515245u + 12345u;
			v[j].k = (int)((r >> 16) % 50);	/* many equal */
			v[j].seq = (int)j;
		}
		msort(v, ns[i], sizeof(*v), kv_cmp);
		bad = 0;
		for (j = 1; j < ns[i]; j++)
			if (v[j - 1].k > v[j].k || (v[j - 1].k == v[j].k &&
			    v[j - 1].seq > v[j].seq))
				bad = 1;
		snprintf(what, sizeof(what), "msort of %zu: sorted, stable",
		    ns[i]);
		ok(!bad, what);
		msort(v, ns[i], sizeof(*v), kv_cmp);	/* sorted input */
		for (j = 1; j < ns[i]; j++)
			if (v[j - 1].k > v[j].k)
				bad = 1;
		snprintf(what, sizeof(what), "msort of %zu sorted: unchanged",
		    ns[i]);
		ok(!bad, what);
		free(v);
	}
}

int
main(void)
{
	test_parse_long();
	test_parse_duration();
	test_closest();
	test_strbuf();
	test_signals();
	test_slurp();
	test_msort();
	return done_testing();
}
