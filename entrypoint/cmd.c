/*
 * cmd.c - the commands that start a child: web, worker and any
 * [process.NAME]; run; shell; task; and the ones that print: tasks, env,
 * check, version, help.
 *
 * Every command that starts a child goes through run_child(): one place
 * computes the child's environment (child_env()), resolves the command,
 * writes the audit row, gives the terminal, spawns and supervises.  So
 * `docker exec app entrypoint shell` sees exactly what `web` sees.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cmd.h"
#include "exitcode.h"
#include "log.h"
#include "mask.h"
#include "migrate.h"
#include "spawn.h"
#include "supervise.h"
#include "util.h"

/* What run_child() needs to know about one run. */
struct child_opts {
	const char *process;		/* ENTRYPOINT_PROCESS */
	const struct task_conf *task;	/* tasks only */
	char **argv;			/* NULL-terminated, not owned */
	int oneoff;			/* audit it (task, shell, run) */
	int dry_run;
	int stop_signal;
	long stop_timeout_ms;
	long timeout_ms;		/* 0: none */
	const char *on_exit;		/* command after a one-off run */
};

static const struct {
	const char *name, *args, *help;
} usages[] = {
	{ "web", "[ARGS...]", "supervise [process.web] (any [process.NAME] "
	    "works the same way)" },
	{ "worker", "[ARGS...]", "supervise [process.worker]" },
	{ "migrate", "[up|status|plan|down|create|baseline|resolve] ...",
	    "apply or inspect SQL migrations ('migrate --help')" },
	{ "task", "NAME [--dry-run] [--yes] [-- ARGS...]",
	    "run a configured one-off task" },
	{ "tasks", "", "list the tasks with their descriptions and flags" },
	{ "shell", "[ARGS...]", "interactive console ([shell] command, "
	    "default /bin/sh) with the app's environment" },
	{ "run", "CMD [ARGS...]", "run any command with the app's "
	    "environment" },
	{ "history", "[-n N] [--task NAME] [--json]",
	    "the audit trail of one-off runs" },
	{ "check", "", "validate config, required env, migrations, "
	    "database" },
	{ "env", "", "print the environment every process gets, secrets "
	    "masked" },
	{ "version", "", "print the version" },
	{ "help", "[COMMAND]", "this help, or one command's" },
};

static const struct {
	int code;
	const char *meaning;
} exit_codes[] = {
	{ EXIT_USAGE, "usage: unknown command or task, bad flags, "
	    "unsupported --dry-run" },
	{ EXIT_DATAERR, "a migration is invalid, changed, or its SQL "
	    "failed" },
	{ EXIT_UNAVAILABLE, "database unreachable within wait (retry)" },
	{ EXIT_SOFTWARE, "internal error" },
	{ EXIT_OSERR, "a system call failed (fork, pipe, ...)" },
	{ EXIT_TEMPFAIL, "busy: lock held elsewhere past its timeout "
	    "(retry)" },
	{ EXIT_NOPERM, "refused: no confirmation, authentication or "
	    "permission" },
	{ EXIT_CONFIG, "config: bad INI, missing required env, X and "
	    "X_FILE both set" },
	{ EXIT_TIMEOUT, "the task's own timeout fired" },
	{ EXIT_NOEXEC, "command not executable" },
	{ EXIT_NOTFOUND, "command not found" },
};

int
cmd_wants_help(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0);
}

void
cmd_usage(const char *name, void *stream)
{
	FILE *f = stream;
	size_t i;

	if (name) {
		for (i = 0; i < ARRAY_LEN(usages); i++) {
			if (strcmp(usages[i].name, name) != 0)
				continue;
			fprintf(f, "usage: entrypoint [-c FILE] %s %s\n\n%s\n",
			    usages[i].name, usages[i].args, usages[i].help);
			return;
		}
	}
	fprintf(f, "usage: entrypoint [-c FILE] COMMAND [ARGS...]\n\n"
	    "commands:\n");
	for (i = 0; i < ARRAY_LEN(usages); i++)
		fprintf(f, "  %-8s %s\n", usages[i].name, usages[i].help);
	fprintf(f, "\nconfig: -c FILE, else $ENTRYPOINT_CONFIG, else "
	    "./entrypoint.ini\n\nexit codes:\n"
	    "  0..255   the command's own; 128+N when it died of signal N\n");
	for (i = 0; i < ARRAY_LEN(exit_codes); i++)
		fprintf(f, "  %-8d %s\n", exit_codes[i].code,
		    exit_codes[i].meaning);
}

/* Flush stdout and report a write error (a full disk, a closed pipe). */
static int
finish_output(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_errno("could not write to standard output");
		return EXIT_OSERR;
	}
	return code;
}

int
cmd_help(struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	cmd_usage(argc > 1 ? argv[1] : NULL, stdout);
	return finish_output(EXIT_OK);
}

int
cmd_version(struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	if (argc > 1) {
		log_error("unrecognized argument \"%s\"", mask_show(argv[1]));
		return EXIT_USAGE;
	}
	printf("entrypoint %s (%s)\n", EP_VERSION, EP_COMMIT);
	return finish_output(EXIT_OK);
}

/*
 * The environment of one child: the config's (inherited, env_file,
 * *_FILE, [env]) plus the per-run ENTRYPOINT_* variables.  The one
 * function every command uses, `env` included.
 */
static void
child_env(const struct config *cfg, struct env *out, const char *process,
    const char *task, const char *run_id, int dry_run)
{
	env_copy(out, &cfg->env);
	env_set(out, "ENTRYPOINT_RELEASE", cfg->app.release);
	if (process)
		env_set(out, "ENTRYPOINT_PROCESS", process);
	if (task)
		env_set(out, "ENTRYPOINT_TASK", task);
	if (run_id)
		env_set(out, "ENTRYPOINT_RUN_ID", run_id);
	if (dry_run)
		env_set(out, "DRY_RUN", "1");
}

/* Split a configured command; log "what: reason" on error. */
static char **
split_command(const char *what, const char *command)
{
	const char *err = NULL;
	char **argv = NULL;

	if (config_split_argv(command, &argv, &err) < 0) {
		log_error("invalid command for %s: %s", what,
		    err ? err : "cannot split");
		return NULL;
	}
	return argv;
}

/* argv followed by extra[0..n) (copied); caller frees with strv_free. */
static char **
argv_concat(char *const *argv, char *const *extra, int n)
{
	struct strv sv = { NULL, 0, 0 };
	int i;

	for (i = 0; argv && argv[i]; i++)
		strv_push(&sv, argv[i]);
	for (i = 0; i < n; i++)
		strv_push(&sv, extra[i]);
	return sv.v;
}

/*
 * Is our stdin the controlling terminal, with us in its foreground group?
 * Then the child gets the foreground (Ctrl-C reaches it, never us).
 */
static int
own_terminal(void)
{
	pid_t fg;

	if (!isatty(STDIN_FILENO))
		return 0;
	fg = tcgetpgrp(STDIN_FILENO);
	return fg > 0 && fg == getpgrp();
}

/*
 * Run on_exit after a one-off run (e.g. stop a sidecar in a Kubernetes
 * Job).  Its failure is logged and never changes the run's exit code.
 */
static void
run_on_exit(const struct config *cfg, const char *command, struct env *env)
{
	struct spawn_opts so;
	struct supervise_result res;
	struct supervise_opts sup;
	char **argv;
	int exec_failed;
	pid_t pid;

	argv = split_command("on_exit", command);
	if (!argv)
		return;
	memset(&so, 0, sizeof(so));
	so.argv = argv;
	so.envp = env_envp(env);
	so.flags = SPAWN_SETPGID;
	so.tty_fd = -1;
	pid = spawn_start(&so, &exec_failed);
	if (pid < 0) {
		log_warn_errno("could not %s on_exit command \"%s\"",
		    exec_failed ? "run" : "start", argv[0]);
		strv_free(argv);
		return;
	}
	memset(&sup, 0, sizeof(sup));
	sup.pid = pid;
	sup.stop_signal = SIGTERM;
	sup.stop_timeout_ms = cfg->app.stop_timeout_ms;
	sup.timeout_ms = 60000;
	sup.tty_fd = -1;
	if (supervise_run(&sup, &res) == 0 && res.exit_code != 0)
		log_warn("on_exit command \"%s\" exited %d", argv[0],
		    res.exit_code);
	strv_free(argv);
}

/*
 * [app] user: fill so to switch to that user in the child.  An image that
 * already runs as that user (USER app in the Dockerfile) needs no switch;
 * any other user can only be reached from root.  Return 0 or an exit code.
 */
static int
drop_privileges(const char *user, struct spawn_opts *so)
{
	if (spawn_resolve_user(user, so) < 0)
		return EXIT_CONFIG;
	if (so->uid == geteuid() && so->gid == getegid()) {
		so->flags &= ~(unsigned)SPAWN_SETUID;
		return 0;
	}
	if (geteuid() != 0) {
		log_error("cannot switch to user \"%s\" (uid %ld): running as "
		    "uid %ld, not root", user, (long)so->uid, (long)geteuid());
		spawn_release_user(so);
		return EXIT_NOPERM;
	}
	return 0;
}

/*
 * Start the child described by o and supervise it to the end.  Return its
 * exit code (or ours when it could not start).  Audit rows are written
 * before the spawn and after the loop, never inside it.
 */
static int
run_child(const struct config *cfg, const struct child_opts *o)
{
	struct audit_run ar;
	struct spawn_opts so;
	struct supervise_opts sup;
	struct supervise_result res;
	struct env env = { { NULL, 0, 0 } };
	char *path = NULL;
	int code, exec_failed, tty = own_terminal();
	pid_t pid;

	memset(&ar, 0, sizeof(ar));
	memset(&so, 0, sizeof(so));
	memset(&res, 0, sizeof(res));
	so.tty_fd = -1;
	if (cfg->app.user && (code = drop_privileges(cfg->app.user, &so)) != 0)
		return code;
	if (o->oneoff) {
		ar.command = o->process;
		ar.task = o->task ? o->task->name : NULL;
		ar.argv = o->argv;
		ar.dry_run = o->dry_run;
		ar.exclusive = o->task ? o->task->exclusive : 0;
		ar.exclusive_wait_ms = o->task ?
		    o->task->exclusive_wait_ms : 0;
		code = audit_begin(cfg, &ar);
		if (code != 0)
			goto out;
	}
	child_env(cfg, &env, o->process, o->task ? o->task->name : NULL,
	    o->oneoff ? ar.id : NULL, o->dry_run);

	path = spawn_resolve(o->argv[0], env_envp(&env));
	if (!path) {
		code = spawn_exit_code(errno);
		log_error("could not run \"%s\": %s", mask_show(o->argv[0]),
		    code == EXIT_NOTFOUND ? "command not found" :
		    strerror(errno));
		goto done;
	}
	so.argv = o->argv;
	so.path = path;
	so.envp = env_envp(&env);
	so.flags |= SPAWN_SETPGID;
	if (tty) {
		so.flags |= SPAWN_FOREGROUND;
		so.tty_fd = STDIN_FILENO;
	}
	fflush(NULL);
	pid = spawn_start(&so, &exec_failed);
	if (pid < 0 && !exec_failed) {
		code = EXIT_OSERR;
		log_errno("could not start \"%s\"", mask_show(o->argv[0]));
		goto done;
	}
	if (pid < 0) {
		code = spawn_exit_code(errno);
		log_error("could not run \"%s\": %s", mask_show(o->argv[0]),
		    errno == ENOENT ? "command not found" : strerror(errno));
		goto done;
	}
	memset(&sup, 0, sizeof(sup));
	sup.pid = pid;
	sup.stop_signal = o->stop_signal;
	sup.stop_timeout_ms = o->stop_timeout_ms;
	sup.timeout_ms = o->timeout_ms;
	sup.tty_fd = so.tty_fd;
	if (supervise_run(&sup, &res) < 0)
		log_warn("supervision ended with an internal error");
	code = res.exit_code;
	/* Take the terminal back so our last lines and the shell's prompt
	 * are not written from a background group. */
	if (tty)
		(void)tcsetpgrp(STDIN_FILENO, getpgrp());
	if (res.timed_out)
		log_error("timed out after %ld ms; exit %d", o->timeout_ms,
		    code);
done:
	if (o->oneoff) {
		audit_end(cfg, &ar, code, res.signal, res.timed_out,
		    res.interrupted);
		if (o->on_exit)
			run_on_exit(cfg, o->on_exit, &env);
	}
out:
	free(path);
	spawn_release_user(&so);
	env_release(&env);
	return code;
}

int
cmd_process(struct config *cfg, int argc, char **argv)
{
	const struct process_conf *p;
	struct child_opts o;
	char **base, **full;
	int code;

	p = config_process(cfg, argv[0]);
	if (!p) {
		log_error("no [process.%s] section in %s", argv[0],
		    cfg->path ? cfg->path : "the config (no entrypoint.ini "
		    "found)");
		return EXIT_CONFIG;
	}
	base = split_command(argv[0], p->command);
	if (!base)
		return EXIT_CONFIG;
	code = migrate_gate(cfg, p->require_migrations, p->name);
	if (code != 0) {
		strv_free(base);
		return code;
	}
	full = argv_concat(base, argv + 1, argc - 1);
	strv_free(base);
	memset(&o, 0, sizeof(o));
	o.process = p->name;
	o.argv = full;
	o.stop_signal = p->stop_signal;
	o.stop_timeout_ms = p->stop_timeout_ms >= 0 ? p->stop_timeout_ms :
	    cfg->app.stop_timeout_ms;
	code = run_child(cfg, &o);
	strv_free(full);
	return code;
}

/* The options every one-off command shares. */
static void
oneoff_opts(const struct config *cfg, struct child_opts *o,
    const char *process, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->process = process;
	o->argv = argv;
	o->oneoff = 1;
	o->stop_signal = SIGTERM;
	o->stop_timeout_ms = cfg->app.stop_timeout_ms;
	o->on_exit = cfg->app.on_exit;
}

int
cmd_run(struct config *cfg, int argc, char **argv)
{
	struct child_opts o;
	int first = 1;

	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (argc <= first) {
		log_error("missing command to run");
		cmd_usage("run", stderr);
		return EXIT_USAGE;
	}
	oneoff_opts(cfg, &o, "run", argv + first);
	return run_child(cfg, &o);
}

int
cmd_shell(struct config *cfg, int argc, char **argv)
{
	struct child_opts o;
	char **base, **full;
	int code;

	base = split_command("shell", cfg->shell.command);
	if (!base)
		return EXIT_CONFIG;
	full = argv_concat(base, argv + 1, argc - 1);
	strv_free(base);
	oneoff_opts(cfg, &o, "shell", full);
	code = run_child(cfg, &o);
	strv_free(full);
	return code;
}

/*
 * Ask on the terminal whether to go on.  Return 1 for yes.  Only called
 * when stdin is a terminal.
 */
static int
confirm(const struct config *cfg, const struct task_conf *t)
{
	char line[64];

	fprintf(stderr, "entrypoint: run task \"%s\" of %s%s%s? [y/N] ",
	    t->name, cfg->app.name, *cfg->app.release ? " release " : "",
	    cfg->app.release);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
	    strcmp(line, "yes") == 0 || strcmp(line, "YES") == 0;
}

static const char **
task_names(const struct config *cfg)
{
	const char **names = xcalloc(cfg->ntasks + 1, sizeof(*names));
	size_t i;

	for (i = 0; i < cfg->ntasks; i++)
		names[i] = cfg->tasks[i].name;
	return names;
}

static int
unknown_task(const struct config *cfg, const char *name)
{
	const char **names = task_names(cfg);
	const char *best = closest_name(name, names, cfg->ntasks);

	if (best)
		log_error("unrecognized task \"%s\"; did you mean \"%s\"? "
		    "(see 'entrypoint tasks')", mask_show(name), best);
	else
		log_error("unrecognized task \"%s\" (see 'entrypoint tasks')",
		    mask_show(name));
	free(names);
	return EXIT_USAGE;
}

int
cmd_task(struct config *cfg, int argc, char **argv)
{
	const struct task_conf *t;
	const char *name = NULL;
	struct child_opts o;
	struct strv extra = { NULL, 0, 0 };
	char **base, **full;
	int i, dry_run = 0, yes = 0, code;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = 1;
		} else if (strcmp(argv[i], "--yes") == 0 ||
		    strcmp(argv[i], "-y") == 0) {
			yes = 1;
		} else if (argv[i][0] == '-') {
			log_error("unrecognized option \"%s\"", mask_show(argv[i]));
			cmd_usage("task", stderr);
			return EXIT_USAGE;
		} else if (!name) {
			name = argv[i];
		} else {
			log_error("unexpected argument \"%s\" (task arguments "
			    "go after \"--\")", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		log_error("missing task name (see 'entrypoint tasks')");
		return EXIT_USAGE;
	}
	t = config_task(cfg, name);
	if (!t)
		return unknown_task(cfg, name);
	if (dry_run && t->dry_run == DRY_RUN_UNSUPPORTED) {
		log_error("task \"%s\" does not support --dry-run (dry_run = "
		    "unsupported); nothing was run", t->name);
		return EXIT_USAGE;
	}
	/* A dry run changes nothing, so it needs no confirmation. */
	if (t->confirm && !dry_run && !yes) {
		if (!isatty(STDIN_FILENO)) {
			log_error("task \"%s\" needs confirmation: pass --yes "
			    "or run it from a terminal; nothing was run",
			    t->name);
			return EXIT_NOPERM;
		}
		if (!confirm(cfg, t)) {
			log_error("task \"%s\" not confirmed; nothing was run",
			    t->name);
			return EXIT_NOPERM;
		}
	}
	base = split_command(t->name, t->command);
	if (!base)
		return EXIT_CONFIG;
	if (dry_run && t->dry_run == DRY_RUN_FLAG)
		strv_push(&extra, t->dry_run_flag);
	for (; i < argc; i++)
		strv_push(&extra, argv[i]);
	full = argv_concat(base, extra.v, (int)extra.n);
	strv_free(base);
	strv_release(&extra);
	oneoff_opts(cfg, &o, "task", full);
	o.task = t;
	o.dry_run = dry_run;
	o.timeout_ms = t->timeout_ms;
	if (t->on_exit)
		o.on_exit = t->on_exit;
	code = run_child(cfg, &o);
	strv_free(full);
	return code;
}

int
cmd_tasks(struct config *cfg, int argc, char **argv)
{
	struct strbuf flags = { NULL, 0, 0 };
	size_t i, width = 0;
	const struct task_conf *t;

	if (argc > 1) {
		log_error("unrecognized argument \"%s\"", mask_show(argv[1]));
		return EXIT_USAGE;
	}
	for (i = 0; i < cfg->ntasks; i++)
		if (strlen(cfg->tasks[i].name) > width)
			width = strlen(cfg->tasks[i].name);
	for (i = 0; i < cfg->ntasks; i++) {
		t = &cfg->tasks[i];
		strbuf_release(&flags);
		if (t->dry_run != DRY_RUN_UNSUPPORTED)
			strbuf_addstr(&flags, ", --dry-run");
		if (t->confirm)
			strbuf_addstr(&flags, ", confirm");
		if (t->exclusive)
			strbuf_addstr(&flags, ", exclusive");
		if (t->timeout_ms)
			strbuf_addf(&flags, ", timeout %lds",
			    (t->timeout_ms + 999) / 1000);
		printf("%-*s  %s%s%s%s\n", (int)width, t->name,
		    t->description, flags.len ? "  [" : "",
		    flags.len ? flags.buf + 2 : "", flags.len ? "]" : "");
	}
	strbuf_release(&flags);
	return finish_output(EXIT_OK);
}

int
cmd_env(struct config *cfg, int argc, char **argv)
{
	struct env env = { { NULL, 0, 0 } };
	char *const *v;
	char *line;

	if (argc > 1) {
		log_error("unrecognized argument \"%s\"", mask_show(argv[1]));
		return EXIT_USAGE;
	}
	child_env(cfg, &env, NULL, NULL, NULL, 0);
	for (v = env_envp(&env); *v; v++) {
		line = mask_env_entry(*v);
		printf("%s\n", line);
		free(line);
	}
	env_release(&env);
	return finish_output(EXIT_OK);
}

/* One "ok"/"error" line of `check`; return 1 when it is an error. */
static int
check_command(const struct config *cfg, const char *what,
    const char *command)
{
	char **argv = split_command(what, command);
	char *path;

	if (!argv)
		return 1;
	path = spawn_resolve(argv[0], env_envp(&cfg->env));
	if (!path) {
		log_error("%s: could not find \"%s\": %s", what, argv[0],
		    errno == ENOENT ? "command not found" : strerror(errno));
		strv_free(argv);
		return 1;
	}
	printf("ok  %-24s %s\n", what, path);
	free(path);
	strv_free(argv);
	return 0;
}

int
cmd_check(struct config *cfg, int argc, char **argv)
{
	char what[80];
	size_t i;
	int bad = 0, code;

	if (argc > 1) {
		log_error("unrecognized argument \"%s\"", mask_show(argv[1]));
		return EXIT_USAGE;
	}
	printf("ok  %-24s %s\n", "config", cfg->path ? cfg->path :
	    "(none: defaults)");
	for (i = 0; i < cfg->nprocs; i++) {
		snprintf(what, sizeof(what), "process %s", cfg->procs[i].name);
		bad |= check_command(cfg, what, cfg->procs[i].command);
	}
	for (i = 0; i < cfg->ntasks; i++) {
		snprintf(what, sizeof(what), "task %s", cfg->tasks[i].name);
		bad |= check_command(cfg, what, cfg->tasks[i].command);
	}
	bad |= check_command(cfg, "shell", cfg->shell.command);
	code = finish_output(bad ? EXIT_CONFIG : EXIT_OK);
	if (code != EXIT_OK)
		return code;
	if (cfg->database.url && *cfg->database.url)
		code = migrate_check(cfg);
	return finish_output(code);
}
