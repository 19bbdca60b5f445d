/*
 * t_env.c - the environment list: order, replace in place, defaults,
 * unset (duplicates too), names.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "env.h"
#include "util.h"

#define V(s) ((char[]){ s })

int
main(void)
{
	char *envp[] = { V("A=1"), V("B=two=2"), V("NOEQUALS"), V("A=dup"),
	    V("AB=x"), NULL };
	struct env e = { { NULL, 0, 0 } }, c = { { NULL, 0, 0 } };
	char *const *v;

	env_init_from(&e, envp);
	is_int(e.vars.n, 5, "every inherited entry is kept");
	is_str(env_get(&e, "A"), "1", "the first of duplicates wins (getenv)");
	is_str(env_get(&e, "B"), "two=2", "the value runs past a second =");
	ok(env_get(&e, "NOEQUALS") == NULL, "an entry without = has no "
	    "value");
	ok(env_get(&e, "") == NULL, "empty name");
	is_str(env_get(&e, "AB"), "x", "AB is not A");
	ok(env_get(&e, "C") == NULL, "unset");

	env_set(&e, "B", "new");
	is_str(e.vars.v[1], "B=new", "env_set replaces in place");
	env_set(&e, "C", "3");
	is_str(e.vars.v[e.vars.n - 1], "C=3", "a new variable goes last");
	is_int(env_set_default(&e, "C", "other"), 0, "set_default keeps a set "
	    "variable");
	is_str(env_get(&e, "C"), "3", "unchanged");
	is_int(env_set_default(&e, "D", ""), 1, "set_default fills unset");
	is_str(env_get(&e, "D"), "", "an empty value is a value");
	is_int(env_set_default(&e, "D", "x"), 0, "and counts as set");

	env_unset(&e, "A");
	ok(env_get(&e, "A") == NULL, "unset removes every duplicate");
	is_str(e.vars.v[0], "B=new", "and keeps the others in order");
	ok(e.vars.v[e.vars.n] == NULL, "still NULL-terminated");
	env_unset(&e, "nope");

	env_copy(&c, &e);
	is_int(c.vars.n, e.vars.n, "copy has every entry");
	env_set(&c, "B", "changed");
	is_str(env_get(&e, "B"), "new", "a copy is independent");
	v = env_envp(&c);
	ok(v == c.vars.v && v[c.vars.n] == NULL, "env_envp is the list");
	env_release(&c);
	env_release(&e);
	v = env_envp(&e);
	ok(v && v[0] == NULL, "env_envp of an empty env is an empty list");

	ok(env_valid_name("A") && env_valid_name("_x1") &&
	    env_valid_name("DATABASE_URL"), "valid names");
	ok(!env_valid_name("") && !env_valid_name("1A") &&
	    !env_valid_name("A-B") && !env_valid_name("A B") &&
	    !env_valid_name("A=") && !env_valid_name(NULL), "invalid names");
	return done_testing();
}
