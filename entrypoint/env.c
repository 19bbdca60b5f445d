/* env.c - placeholder until the config work lands. */
#include <string.h>

#include "env.h"

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
	size_t i, n = strlen(name);

	for (i = 0; i < e->vars.n; i++)
		if (strncmp(e->vars.v[i], name, n) == 0 &&
		    e->vars.v[i][n] == '=')
			return e->vars.v[i] + n + 1;
	return NULL;
}

void
env_set(struct env *e, const char *name, const char *value)
{
	env_unset(e, name);
	strv_push_owned(&e->vars, xasprintf("%s=%s", name, value));
}

int
env_set_default(struct env *e, const char *name, const char *value)
{
	if (env_get(e, name))
		return 0;
	env_set(e, name, value);
	return 1;
}

void
env_unset(struct env *e, const char *name)
{
	(void)e;
	(void)name;
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
	return s && *s;
}
