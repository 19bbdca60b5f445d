/*
 * config.h - entrypoint.ini: load, validate, expand; the child environment.
 *
 * Keys are declared once in config.def.  config_load() parses the file with
 * inih, rejects unknown sections and keys (file:line, key, reason), computes
 * the environment every child gets (inherited, then env_file, *_FILE, then
 * [env], each only filling what is unset) into cfg->env, expands ${VAR} and
 * ${VAR:-default} in every value against that environment, notes unmet
 * require_env (config_require_env()), and validates ranges and names.  On error it logs one line
 * and returns -1; the caller exits EXIT_CONFIG (78).
 *
 * Commands are kept as strings; config_split_argv() turns one into argv
 * (quotes respected, no shell).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "env.h"

/* Section names longer than this are silently truncated by inih. */
#define CONFIG_NAME_MAX 49

enum dry_run_mode {
	DRY_RUN_UNSUPPORTED,	/* --dry-run is refused (64) */
	DRY_RUN_ENV,		/* the child gets DRY_RUN=1 only */
	DRY_RUN_FLAG		/* DRY_RUN=1 and dry_run_flag appended */
};

enum require_migrations {
	REQUIRE_MIGRATIONS_OFF,
	REQUIRE_MIGRATIONS_WARN,
	REQUIRE_MIGRATIONS_WAIT,
	REQUIRE_MIGRATIONS_FAIL
};

enum audit_mode { AUDIT_BEST_EFFORT, AUDIT_REQUIRED, AUDIT_OFF };

/* [shell] record: sessions under a terminal go through a recorded pty. */
enum record_mode { RECORD_YES, RECORD_REQUIRED, RECORD_NO };

/* [process.NAME]; web and worker are ordinary processes. */
struct process_conf {
	char *name;
	char *command;			/* required */
	enum require_migrations require_migrations;	/* default off */
	int stop_signal;		/* what a TERM from outside becomes */
	long stop_timeout_ms;		/* -1: [app] stop_timeout */
	int line;
};

/* [task.NAME] */
struct task_conf {
	char *name;
	char *command;			/* required */
	char *description;		/* "" when not set */
	enum dry_run_mode dry_run;	/* default unsupported */
	char *dry_run_flag;		/* DRY_RUN_FLAG: e.g. "--dry-run" */
	int confirm;			/* yes/no, default no */
	long timeout_ms;		/* 0: none (default) */
	int exclusive;			/* yes/no, default no */
	long exclusive_wait_ms;		/* 0: fail at once (default) */
	char *on_exit;			/* NULL: [app] on_exit */
	int line;
};

struct config {
	char *path;			/* NULL when no file was read */
	struct {
		char *name;		/* default "app" */
		char *release;		/* release, else release_file's text,
					   else "" */
		char *user;		/* NULL: keep our uid */
		char *env_file;		/* NULL: none */
		char **require_env;	/* NULL-terminated, may be empty */
		char **secret_env;	/* NULL-terminated, may be empty */
		long stop_timeout_ms;	/* default 10s */
		int log_json;		/* log_format = json */
		char *on_exit;		/* NULL: none */
		long keep_output;	/* bytes of task/run output kept;
					   default 64k, 0: none */
	} app;
	struct {
		char *url;		/* NULL when not set */
		long wait_ms;		/* default 60s */
		char *migrations;	/* default "migrations" */
		char *format;		/* layout of the folder (layout.h) */
		char *schema;		/* default "entrypoint" */
		long lock_timeout_ms;	/* default 5m */
		long ddl_lock_timeout_ms;	/* default 10s */
		long lock_retries;	/* default 5 */
		enum audit_mode audit;	/* default best-effort */
	} database;
	struct {
		char *command;		/* default "/bin/sh" */
		enum record_mode record;	/* default yes */
		long record_max;	/* bytes of a recording; default 8M */
	} shell;
	struct process_conf *procs;
	size_t nprocs;
	struct task_conf *tasks;
	size_t ntasks;
	struct env env;			/* what every child gets */
	char *missing_env;		/* require_env not met: the message */
};

/*
 * Find and load the config.  path is -c FILE, or NULL for
 * $ENTRYPOINT_CONFIG, else ./entrypoint.ini.  A missing file is an error
 * when it was named (-c or $ENTRYPOINT_CONFIG); a missing ./entrypoint.ini
 * gives the defaults, with no processes and no tasks.  envp is the inherited
 * environment.  Return 0, or -1 after logging (exit EXIT_CONFIG), or -2
 * after logging when the file could not be read for a reason that is not
 * the config's (EMFILE, ENOMEM, EIO: exit EXIT_OSERR).
 */
int config_load(struct config *cfg, const char *path, char *const *envp);

/* As config_load() from a string; name is used in messages (unit tests). */
int config_load_string(struct config *cfg, const char *text,
    const char *name, char *const *envp);

void config_release(struct config *cfg);

/*
 * require_env: return 0 when every required variable is set and non-empty,
 * else log which are missing (file:line) and return -1 (exit EXIT_CONFIG).
 * config_load() does not fail for them, so that `tasks`, `env` and `help`
 * work without the app's secrets; commands that start something call this.
 */
int config_require_env(const struct config *cfg);

/*
 * The database URL: [database] url, else DATABASE_URL of the child
 * environment (so migrate, the audit trail and the app use one database),
 * else NULL.
 */
const char *config_database_url(const struct config *cfg);

/* The [process.NAME] or [task.NAME] entry, or NULL. */
const struct process_conf *config_process(const struct config *cfg,
    const char *name);
const struct task_conf *config_task(const struct config *cfg,
    const char *name);

/*
 * Split a command string into a NULL-terminated argv: words separated by
 * blanks, '...' literal, "..." with \" \\ escapes, backslash escapes the next
 * character outside quotes.  Return 0 and *argv (caller frees with
 * strv_free), or -1 with a reason in *err (static string): unterminated
 * quote, empty command.
 */
int config_split_argv(const char *cmd, char ***argv, const char **err);

/*
 * Expand ${VAR} and ${VAR:-default} (default may itself be empty; $$ is a
 * literal $) against env.  Return a new string, or NULL with a reason in
 * *err (unterminated ${, invalid name).  An unset ${VAR} expands to "".
 */
char *config_expand(const char *s, const struct env *env, const char **err);

/* Print every key with its effective value (secrets masked) to stdout. */
void config_dump(const struct config *cfg);

#endif
