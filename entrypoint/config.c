/* config.c - placeholder until the config work lands: defaults only. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

static char *empty_list[] = { NULL };

static void
defaults(struct config *cfg, char *const *envp)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->app.name = xstrdup("app");
	cfg->app.release = xstrdup("");
	cfg->app.require_env = empty_list;
	cfg->app.secret_env = empty_list;
	cfg->app.stop_timeout_ms = 10000;
	cfg->database.wait_ms = 60000;
	cfg->database.migrations = xstrdup("migrations");
	cfg->database.schema = xstrdup("entrypoint");
	cfg->database.lock_timeout_ms = 300000;
	cfg->database.ddl_lock_timeout_ms = 10000;
	cfg->shell.command = xstrdup("/bin/sh");
	env_init_from(&cfg->env, envp);
}

int
config_load(struct config *cfg, const char *path, char *const *envp)
{
	(void)path;
	defaults(cfg, envp);
	return 0;
}

int
config_load_string(struct config *cfg, const char *text, const char *name,
    char *const *envp)
{
	(void)text;
	(void)name;
	defaults(cfg, envp);
	return 0;
}

void
config_release(struct config *cfg)
{
	env_release(&cfg->env);
}

const struct process_conf *
config_process(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nprocs; i++)
		if (strcmp(cfg->procs[i].name, name) == 0)
			return &cfg->procs[i];
	return NULL;
}

const struct task_conf *
config_task(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ntasks; i++)
		if (strcmp(cfg->tasks[i].name, name) == 0)
			return &cfg->tasks[i];
	return NULL;
}

int
config_split_argv(const char *cmd, char ***argv, const char **err)
{
	struct strv sv = { NULL, 0, 0 };

	(void)err;
	strv_push(&sv, cmd);
	*argv = sv.v;
	return 0;
}

char *
config_expand(const char *s, const struct env *env, const char **err)
{
	(void)env;
	(void)err;
	return xstrdup(s);
}

void
config_dump(const struct config *cfg)
{
	(void)cfg;
}
