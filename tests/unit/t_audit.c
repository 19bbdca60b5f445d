/*
 * t_audit.c - the parts of audit.c that need no database: run ids, status
 * names, argv masking and its text[] literal, durations.  The rows, locks
 * and history are tested on a real PostgreSQL in tests/pg/t4*.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "mask.h"
#include "tap.h"
#include "util.h"

static int
is_uuid_v4(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", s[i])) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void
test_ids(void)
{
	char a[40], b[40], small[20];
	int i, all = 1;

	ok(audit_make_id(a, sizeof(a)) == 0, "make an id");
	ok(is_uuid_v4(a), "it is a lower-case UUID v4");
	for (i = 0; i < 200; i++) {
		if (audit_make_id(b, sizeof(b)) < 0 || !is_uuid_v4(b) ||
		    strcmp(a, b) == 0)
			all = 0;
	}
	ok(all, "200 more ids are UUID v4 and differ from the first");
	ok(audit_make_id(small, sizeof(small)) < 0,
	    "a buffer too small is refused");
}

static void
test_status(void)
{
	is_str(audit_status(0, 0, 0), "succeeded", "exit 0 succeeded");
	is_str(audit_status(3, 0, 0), "failed", "exit 3 failed");
	is_str(audit_status(137, 0, 0), "failed", "killed from inside failed");
	is_str(audit_status(124, 1, 0), "timed_out", "timeout wins");
	is_str(audit_status(124, 1, 1), "timed_out",
	    "timeout wins over an interrupt during the grace");
	is_str(audit_status(143, 0, 1), "interrupted", "TERM from outside");
	is_str(audit_status(0, 0, 1), "interrupted",
	    "interrupted even when the child then exits 0");
}

/* A NULL-terminated copy of the n strings in list (-Wwrite-strings). */
static char **
vec(const char *const *list, size_t n)
{
	struct strv sv = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < n; i++)
		strv_push(&sv, list[i]);
	return sv.v ? sv.v : xcalloc(1, sizeof(char *));
}

static void
test_array(void)
{
	static const char *const l1[] = { "echo", "a b", "q\"uote",
		"back\\slash", "{,}" };
	char **v1 = vec(l1, ARRAY_LEN(l1)), **v0 = vec(NULL, 0);
	char *s;

	s = audit_pg_array(v1);
	is_str(s, "{\"echo\",\"a b\",\"q\\\"uote\",\"back\\\\slash\","
	    "\"{,}\"}", "text[] literal quotes and escapes every element");
	free(s);
	s = audit_pg_array(v0);
	is_str(s, "{}", "empty argv is an empty array");
	free(s);
	strv_free(v1);
	strv_free(v0);
}

static void
test_mask(void)
{
	struct env env = { { NULL, 0, 0 } };
	static const char *const l[] = { "task.sh", "--user=bob",
		"hunter2secret", "x=hunter2secret;y", "plain", "abc" };
	char **argv = vec(l, ARRAY_LEN(l)), **m;

	env_set(&env, "SECRET_TOKEN", "hunter2secret");
	env_set(&env, "SHORT_SECRET", "abc");
	env_set(&env, "GREETING", "plain");
	m = audit_mask_argv(argv, &env);
	is_int(strv_len(m), 6, "same number of arguments");
	is_str(m[0], "task.sh", "ordinary argument kept");
	is_str(m[1], "--user=bob", "ordinary option kept");
	is_str(m[2], MASK, "a secret variable's value is masked");
	is_str(m[3], "x=" MASK ";y", "also inside an argument");
	is_str(m[4], "plain", "value of a non-secret variable kept");
	is_str(m[5], "abc", "secret values under 4 bytes are not searched");
	strv_free(m);
	m = audit_mask_argv(NULL, &env);
	ok(m && m[0] == NULL, "no argv gives an empty vector");
	strv_free(m);
	strv_free(argv);
	env_release(&env);
}

static void
test_duration(void)
{
	char b[32];

	audit_format_duration(0, b, sizeof(b));
	is_str(b, "0ms", "0");
	audit_format_duration(850, b, sizeof(b));
	is_str(b, "850ms", "ms");
	audit_format_duration(12345, b, sizeof(b));
	is_str(b, "12.3s", "seconds with a tenth");
	audit_format_duration(245000, b, sizeof(b));
	is_str(b, "4m05s", "minutes");
	audit_format_duration(7380000, b, sizeof(b));
	is_str(b, "2h03m", "hours");
	audit_format_duration(-5, b, sizeof(b));
	is_str(b, "0ms", "a negative duration (clock) is 0");
}

int
main(void)
{
	test_ids();
	test_status();
	test_array();
	test_mask();
	test_duration();
	return done_testing();
}
