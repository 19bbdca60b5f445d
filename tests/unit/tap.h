/*
 * tap.h - a tiny TAP producer for the C unit tests (run by prove).
 *
 *	ok(cond, "name");  is_str(got, want, "name");  is_int(got, want, "n");
 *	return done_testing();
 */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int
ok_at(int cond, const char *name, const char *file, int line)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static int
is_str_at(const char *got, const char *want, const char *name,
    const char *file, int line)
{
	int same = (got == NULL && want == NULL) ||
	    (got && want && strcmp(got, want) == 0);

	if (!ok_at(same, name, file, line))
		printf("#   got:  %s%s%s\n#   want: %s%s%s\n",
		    got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		    want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
	return same;
}

static int
is_int_at(long got, long want, const char *name, const char *file, int line)
{
	if (!ok_at(got == want, name, file, line))
		printf("#   got:  %ld\n#   want: %ld\n", got, want);
	return got == want;
}

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define ok(c, name) ok_at((c), (name), __FILE__, __LINE__)
#define is_str(g, w, name) is_str_at((g), (w), (name), __FILE__, __LINE__)
#define is_int(g, w, name) is_int_at((long)(g), (long)(w), (name), \
	__FILE__, __LINE__)

#endif
