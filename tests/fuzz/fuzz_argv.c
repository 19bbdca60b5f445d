/*
 * fuzz_argv.c - libFuzzer target: config_split_argv() on any command.
 *
 * A command comes from a config value, a C string, so the input is cut at
 * its first NUL byte.  Besides the sanitizers, two properties are checked
 * (abort() on failure):
 *  - success gives at least one word and no *err; failure gives *err and
 *    no argv;
 *  - round trip: each word quoted back ('...' with '\'' for a quote) and
 *    joined with blanks splits into the same words.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* argv as one command string that config_split_argv() turns back. */
static char *
requote(char **argv)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *p;
	size_t i;

	for (i = 0; argv[i]; i++) {
		if (i)
			strbuf_addch(&sb, ' ');
		strbuf_addch(&sb, '\'');
		for (p = argv[i]; *p; p++) {
			if (*p == '\'')
				strbuf_addstr(&sb, "'\\''");
			else
				strbuf_addch(&sb, *p);
		}
		strbuf_addch(&sb, '\'');
	}
	return strbuf_detach(&sb);
}

static void
check_round_trip(char **argv)
{
	char *cmd = requote(argv), **again = NULL;
	const char *err = NULL;
	size_t i;

	if (config_split_argv(cmd, &again, &err) < 0)
		abort();
	for (i = 0; argv[i] && again[i]; i++)
		if (strcmp(argv[i], again[i]) != 0)
			abort();
	if (argv[i] || again[i])
		abort();
	strv_free(again);
	free(cmd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd = xstrndup((const char *)data, size), **argv = NULL;
	const char *err = NULL;

	if (config_split_argv(cmd, &argv, &err) == 0) {
		if (!argv || !argv[0] || err)
			abort();
		check_round_trip(argv);
		strv_free(argv);
	} else if (argv || !err || !*err) {
		abort();
	}
	free(cmd);
	return 0;
}
