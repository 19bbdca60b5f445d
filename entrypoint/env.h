/*
 * env.h - an environment as a list of "NAME=VALUE" strings.
 *
 * The environment every child gets is computed once, by config_load(), into
 * config.env (inherited, then env_file, *_FILE and [env] filling only what is
 * unset); cmd.c adds the ENTRYPOINT_* variables.  Order is kept: inherited
 * variables first, in the order they came.
 */
#ifndef ENV_H
#define ENV_H

#include "util.h"

struct env {
	struct strv vars;	/* "NAME=VALUE", owned */
};

/* Fill e from envp (e.g. environ).  e must be zeroed or released. */
void env_init_from(struct env *e, char *const *envp);
void env_copy(struct env *dst, const struct env *src);
void env_release(struct env *e);

/* The value of name, or NULL. */
const char *env_get(const struct env *e, const char *name);
/* Set name, replacing any value. */
void env_set(struct env *e, const char *name, const char *value);
/* Set name only when unset.  Return 1 when set, 0 when it was there. */
int env_set_default(struct env *e, const char *name, const char *value);
void env_unset(struct env *e, const char *name);
/* The NULL-terminated envp for execve; valid until e changes. */
char *const *env_envp(const struct env *e);

/* 1 when s is a valid variable name ([A-Za-z_][A-Za-z0-9_]*). */
int env_valid_name(const char *s);

#endif
