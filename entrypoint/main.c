/*
 * main.c - entrypoint: the ENTRYPOINT and PID 1 of an application's image.
 *
 * Top to bottom: block signals, read global options, find the command, load
 * the config when the command needs it, dispatch, exit with its code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "history.h"
#include "cmd.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "mask.h"
#include "migrate.h"
#include "sig.h"
#include "supervise.h"
#include "util.h"

extern char **environ;

enum cmd_needs {
	NEEDS_CONFIG = 1 << 0,	/* load entrypoint.ini first */
	NEEDS_ENV = 1 << 1	/* and require_env must be met */
};

struct cmd_struct {
	const char *name;
	int (*fn)(struct config *cfg, int argc, char **argv);
	unsigned needs;
};

static const struct cmd_struct commands[] = {
	{ "web", cmd_process, NEEDS_CONFIG | NEEDS_ENV },
	{ "worker", cmd_process, NEEDS_CONFIG | NEEDS_ENV },
	{ "migrate", cmd_migrate, NEEDS_CONFIG | NEEDS_ENV },
	{ "task", cmd_task, NEEDS_CONFIG | NEEDS_ENV },
	{ "tasks", cmd_tasks, NEEDS_CONFIG },
	{ "shell", cmd_shell, NEEDS_CONFIG | NEEDS_ENV },
	{ "run", cmd_run, NEEDS_CONFIG | NEEDS_ENV },
	{ "history", cmd_history, NEEDS_CONFIG | NEEDS_ENV },
	{ "check", cmd_check, NEEDS_CONFIG },
	{ "env", cmd_env, NEEDS_CONFIG },
	{ "completion", cmd_completion, NEEDS_CONFIG },
	{ "version", cmd_version, 0 },
	{ "help", cmd_help, 0 },
};

static const struct cmd_struct *
get_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * An unknown first argument: name the closest command or process and exit
 * 64.  cfg may be NULL when the config could not be read.
 */
static int
unknown_command(const char *name, const struct config *cfg)
{
	const char *names[ARRAY_LEN(commands) + 64];
	const char *best;
	size_t n = 0, i;

	for (i = 0; i < ARRAY_LEN(commands); i++)
		names[n++] = commands[i].name;
	for (i = 0; cfg && i < cfg->nprocs && n < ARRAY_LEN(names); i++)
		names[n++] = cfg->procs[i].name;
	best = closest_name(name, names, n);
	log_set_command(NULL);
	if (best)
		log_error("unrecognized command \"%s\"; did you mean \"%s\"? "
		    "(see 'entrypoint help'; 'entrypoint run CMD' runs any "
		    "command)", mask_show(name), best);
	else
		log_error("unrecognized command \"%s\" (see 'entrypoint "
		    "help'; 'entrypoint run CMD' runs any command)",
		    mask_show(name));
	return EXIT_USAGE;
}

/*
 * A [process.NAME] named like a built-in command (other than web and
 * worker, which are processes) could never be started: say so at once
 * rather than run the built-in when the user meant the process.
 */
static int
check_process_names(const struct config *cfg)
{
	const struct cmd_struct *c;
	size_t i;

	for (i = 0; i < cfg->nprocs; i++) {
		c = get_command(cfg->procs[i].name);
		if (c && c->fn != cmd_process)
			return log_error("%s:%d: invalid section "
			    "[process.%s]: \"%s\" is a built-in command",
			    cfg->path ? cfg->path : "entrypoint.ini",
			    cfg->procs[i].line, cfg->procs[i].name,
			    cfg->procs[i].name);
	}
	return 0;
}

/*
 * Our own libpq connections see what the children see: PGPASSWORD from
 * PGPASSWORD_FILE, PGHOST from env_file or [env].  config_load() only ever
 * fills what is unset, so this adds and never overrides.
 */
static void
export_env(const struct env *env)
{
	char *const *v;
	char *name;
	const char *eq;

	for (v = env_envp(env); *v; v++) {
		eq = strchr(*v, '=');
		if (!eq)
			continue;
		name = xstrndup(*v, (size_t)(eq - *v));
		if (!getenv(name) && setenv(name, eq + 1, 0) < 0)
			log_warn_errno("could not set \"%s\"", name);
		free(name);
	}
}

static int
usage_error(const char *what, const char *arg)
{
	log_error("%s \"%s\"", what, mask_show(arg));
	fprintf(stderr, "usage: entrypoint [-c FILE] COMMAND [ARGS...]  "
	    "(see 'entrypoint help')\n");
	return EXIT_USAGE;
}

/*
 * Multi-call: started as "shell" (a link to the binary, in any directory)
 * we are `entrypoint shell`, every argument the shell's.
 */
static int
called_as_shell(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	return base && strcmp(base, "shell") == 0;
}

/* Does this run of cmd need the config?  Completion scripts do not. */
static int
needs_config(const struct cmd_struct *cmd, int argc, char **argv)
{
	if (cmd->fn == cmd_completion)
		return argc > 1 && (strcmp(argv[1], "tasks") == 0 ||
		    strcmp(argv[1], "processes") == 0);
	return (cmd->needs & NEEDS_CONFIG) != 0;
}

/* task NAME --help shows the config only: no secrets needed. */
static int
needs_env(const struct cmd_struct *cmd, int argc, char **argv)
{
	int i;

	if (!(cmd->needs & NEEDS_ENV))
		return 0;
	for (i = 1; cmd->fn == cmd_task && i < argc &&
	    strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	static char shell_name[] = "shell";
	const struct cmd_struct *cmd;
	const struct help_cmd *help;
	struct config cfg;
	const char *config_path = NULL, *debug;
	int i = 1, code;

	if (sig_init() < 0) {
		log_errno("could not set up signal handling");
		return EXIT_OSERR;
	}
	debug = getenv("ENTRYPOINT_DEBUG");
	log_set_debug(debug && *debug && strcmp(debug, "0") != 0);

	if (argc > 0 && called_as_shell(argv[0])) {
		argv[0] = shell_name;
		i = 0;
	}
	while (i > 0 && i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return usage_error("missing file name after "
				    "option", argv[i]);
			config_path = argv[i + 1];
			i += 2;
		} else if (starts_with(argv[i], "--config=")) {
			config_path = argv[i] + strlen("--config=");
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			return cmd_help(NULL, 1, argv + i);
		} else if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			return cmd_version(NULL, 1, argv + i);
		} else {
			return usage_error("unrecognized option",
			    argv[i]);
		}
	}
	if (i >= argc) {
		cmd_usage(NULL, stderr);
		return EXIT_USAGE;
	}
	argc -= i;
	argv += i;

	cmd = get_command(argv[0]);
	help = cmd ? cmd_help_for(argc, argv) : NULL;
	if (help)
		return cmd_help_print(help);
	log_set_command(argv[0]);
	if (cmd && !needs_config(cmd, argc, argv))
		return cmd->fn(NULL, argc, argv);

	code = config_load(&cfg, config_path, environ);
	if (code == -2)
		return EXIT_OSERR;
	if (code < 0)
		return cmd ? EXIT_CONFIG : unknown_command(argv[0], NULL);
	if (check_process_names(&cfg) < 0) {
		config_release(&cfg);
		return EXIT_CONFIG;
	}
	log_set_format(cfg.app.log_json ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	mask_set_names(cfg.app.secret_env);
	if (!cmd) {
		if (!config_process(&cfg, argv[0])) {
			code = unknown_command(argv[0], &cfg);
			config_release(&cfg);
			return code;
		}
		help = cmd_help_for(argc, argv);
		if (help) {
			config_release(&cfg);
			return cmd_help_print(help);
		}
		cmd = get_command("web");
	}
	if (needs_env(cmd, argc, argv) && config_require_env(&cfg) < 0) {
		config_release(&cfg);
		return EXIT_CONFIG;
	}
	export_env(&cfg.env);
	if (supervise_init() < 0)
		log_warn_errno("could not become a child subreaper");
	code = cmd->fn(&cfg, argc, argv);
	config_release(&cfg);
	return code;
}
