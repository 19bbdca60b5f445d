/*
 * env.c - an environment as an ordered list of "NAME=VALUE" strings; see
 * env.h.
 *
 * Lists are short (a container's environment is a few dozen variables), so
 * every lookup is a linear scan; that keeps the order the variables came in,
 * which `entrypoint env` shows and the child sees.
 */
#include <stdlib.h>
#include <string.h>

#include "env.h"

/* Index of name in e, or -1.  An entry without '=' never matches. */
static long
env_find(const struct env *e, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < e->vars.n; i++)
		if (strncmp(e->vars.v[i], name, n) == 0 &&
		    e->vars.v[i][n] == '=')
			return (long)i;
	return -1;
}

void
env_init_from(struct env *e, char *const *envp)
{
	size_t i;

	for (i = 0; envp && envp[i]; i++)
		strv_push(&e->vars, envp[i]);
}

void
env_copy(struct env *dst, const struct env *src)
{
	env_init_from(dst, src->vars.v);
}

void
env_release(struct env *e)
{
	strv_release(&e->vars);
}

const char *
env_get(const struct env *e, const char *name)
{
	long i = env_find(e, name);

	return i < 0 ? NULL : e->vars.v[i] + strlen(name) + 1;
}

/* Replacing keeps the variable where it was, so the order stays stable. */
void
env_set(struct env *e, const char *name, const char *value)
{
	long i = env_find(e, name);
	char *entry = xasprintf("%s=%s", name, value);

	if (i < 0) {
		strv_push_owned(&e->vars, entry);
		return;
	}
	free(e->vars.v[i]);
	e->vars.v[i] = entry;
}

int
env_set_default(struct env *e, const char *name, const char *value)
{
	if (env_find(e, name) >= 0)
		return 0;
	env_set(e, name, value);
	return 1;
}

/* Remove every entry for name (an inherited envp may hold duplicates). */
void
env_unset(struct env *e, const char *name)
{
	long i;

	while ((i = env_find(e, name)) >= 0) {
		free(e->vars.v[i]);
		memmove(&e->vars.v[i], &e->vars.v[i + 1],
		    (e->vars.n - (size_t)i) * sizeof(*e->vars.v));
		e->vars.n--;
	}
}

char *const *
env_envp(const struct env *e)
{
	static char *empty[] = { NULL };

	return e->vars.v ? e->vars.v : empty;
}

int
env_valid_name(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	    *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}
