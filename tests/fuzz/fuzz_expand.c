/*
 * fuzz_expand.c - libFuzzer target: config_expand() (${VAR}, ${VAR:-def},
 * $$) on any value, against a fixed environment.
 *
 * Values are C strings, so the input is cut at its first NUL byte.  Besides
 * the sanitizers, these properties are checked (abort() on failure):
 *  - failure gives a reason in *err;
 *  - a value without '$' expands to itself;
 *  - "$$" doubled back from a result expands to that result again (every
 *    '$' of the result written as "$$" is a literal).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "env.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct env fuzz_env;

static char e_home[] = "HOME=/home/app";
static char e_port[] = "PORT=8080";
static char e_empty[] = "EMPTY=";
static char e_dollar[] = "DOLLAR=a$b${PORT}";
static char e_url[] = "DATABASE_URL=postgres://app:pw@db/app";
static char e_a[] = "A=1";
static char e_ab[] = "AB=12";
static char e_under[] = "_=underscore";
static char *const fuzz_envp[] = {
	e_home, e_port, e_empty, e_dollar, e_url, e_a, e_ab, e_under, NULL
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	env_init_from(&fuzz_env, fuzz_envp);
	return 0;
}

/* s with every '$' doubled. */
static char *
escape_dollars(const char *s)
{
	struct strbuf sb = { NULL, 0, 0 };

	for (; *s; s++) {
		if (*s == '$')
			strbuf_addch(&sb, '$');
		strbuf_addch(&sb, *s);
	}
	return strbuf_detach(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *out, *esc, *again;
	const char *err = NULL;

	out = config_expand(s, &fuzz_env, &err);
	if (!out) {
		if (!err || !*err)
			abort();
		free(s);
		return 0;
	}
	if (!strchr(s, '$') && strcmp(s, out) != 0)
		abort();
	esc = escape_dollars(out);
	err = NULL;
	again = config_expand(esc, &fuzz_env, &err);
	if (!again || strcmp(again, out) != 0)
		abort();
	free(again);
	free(esc);
	free(out);
	free(s);
	return 0;
}
