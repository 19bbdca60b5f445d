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
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cmd.h"
#include "exitcode.h"
#include "help.h"
#include "log.h"
#include "mask.h"
#include "migrate.h"
#include "pty.h"
#include "record.h"
#include "sig.h"
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
	int not_run;			/* refused before the start: its code */
	int not_run_signal;		/* ... because of this signal */
};

static int
is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

const struct help_cmd *
cmd_help_for(int argc, char **argv)
{
	char *words[2];
	char web[] = "web";
	int i, n = 0;

	if (argc < 2)
		return NULL;
	/* Arguments after the first belong to the child: only
	 * "web --help" is ours, "run CMD --help" is CMD's. */
	if (!help_find(argv, 1) || strcmp(argv[0], "run") == 0 ||
	    strcmp(argv[0], "shell") == 0 || strcmp(argv[0], "web") == 0 ||
	    strcmp(argv[0], "worker") == 0) {
		if (!is_help(argv[1]))
			return NULL;
		words[0] = help_find(argv, 1) ? argv[0] : web;
		return help_find(words, 1);
	}
	/* task NAME --help is that task's help (cmd_task) */
	if (strcmp(argv[0], "task") == 0 && argv[1][0] != '-')
		return NULL;
	words[n++] = argv[0];
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (is_help(argv[i]))
			return help_find(words, n);
		if (argv[i][0] != '-' && n < 2)
			words[n++] = argv[i];
	}
	return NULL;
}

void
cmd_usage(const char *name, void *stream)
{
	char *words[2] = { NULL, NULL };
	char *copy = name ? xstrdup(name) : NULL, *sp;
	int n = 0;

	if (copy) {
		words[n++] = copy;
		sp = strchr(copy, ' ');
		if (sp) {
			*sp = '\0';
			words[n++] = sp + 1;
		}
	}
	help_print(n ? help_find(words, n) : NULL, stream);
	free(copy);
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

/*
 * help [COMMAND [SUBCOMMAND]] [--man]: the list, one command's help, or
 * the man page.  An unknown command is a usage error, with a suggestion.
 */
/* How many words c names (1 or 2). */
static int
help_words(const struct help_cmd *c)
{
	return strchr(c->name, ' ') ? 2 : 1;
}

int
cmd_help(struct config *cfg, int argc, char **argv)
{
	const struct help_cmd *c = NULL, *h;
	const char *names[64];
	size_t n = 0;

	(void)cfg;
	if (argc == 2 && strcmp(argv[1], "--man") == 0) {
		help_man(stdout);
		return finish_output(EXIT_OK);
	}
	if (argc > 1)
		c = help_find(argv + 1, argc - 1);
	if (argc > 1 && (!c || help_words(c) != argc - 1)) {
		for (h = help_all(); h->name && n < ARRAY_LEN(names); h++)
			if (!strchr(h->name, ' '))
				names[n++] = h->name;
		if (argc == 2 && closest_name(argv[1], names, n))
			log_error("no help for \"%s\"; did you mean \"%s\"?",
			    argv[1], closest_name(argv[1], names, n));
		else
			log_error("no help for \"%s%s%s\" (see 'entrypoint "
			    "help')", argv[1], argc > 2 ? " " : "",
			    argc > 2 ? argv[2] : "");
		return EXIT_USAGE;
	}
	help_print(c, stdout);
	return finish_output(EXIT_OK);
}

int
cmd_help_print(const struct help_cmd *c)
{
	help_print(c, stdout);
	return finish_output(EXIT_OK);
}

/*
 * completion bash|zsh: the script.  completion tasks|processes: the
 * configured names, one a line (what the script asks while completing).
 */
int
cmd_completion(struct config *cfg, int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		log_error(argc < 2 ? "missing shell (bash or zsh)" :
		    "unexpected argument \"%s\"", argv[argc < 2 ? 0 : 2]);
		cmd_usage("completion", stderr);
		return EXIT_USAGE;
	}
	if (cfg && strcmp(argv[1], "tasks") == 0) {
		for (i = 0; i < cfg->ntasks; i++)
			printf("%s\n", cfg->tasks[i].name);
	} else if (cfg && strcmp(argv[1], "processes") == 0) {
		for (i = 0; i < cfg->nprocs; i++)
			printf("%s\n", cfg->procs[i].name);
	} else if (help_completion(argv[1], stdout) < 0) {
		log_error("unsupported shell \"%s\" (bash or zsh)", argv[1]);
		return EXIT_USAGE;
	}
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
	/* A DRY_RUN=1 from outside must not turn a real run into a dry one
	 * (or a tool into believing it is one): only --dry-run sets it. */
	if (dry_run)
		env_set(out, "DRY_RUN", "1");
	else
		env_unset(out, "DRY_RUN");
}

/*
 * [app] user: the child gets that user's HOME, USER and LOGNAME, not ours
 * (as su-exec and gosu set HOME).  A uid without a passwd entry gets
 * HOME=/ and no USER or LOGNAME.
 */
static void
user_env(struct env *env, const struct spawn_opts *so)
{
	if (!so->user_home)
		return;
	env_set(env, "HOME", so->user_home);
	if (so->user_name) {
		env_set(env, "USER", so->user_name);
		env_set(env, "LOGNAME", so->user_name);
	} else {
		env_unset(env, "USER");
		env_unset(env, "LOGNAME");
	}
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
	/*
	 * As PID 1 of a PID namespace whose session leader is outside it
	 * (unshare --pid --fork from a shell), both our group and the
	 * terminal's foreground group have no number in our namespace: both
	 * read as 0.  That is still our terminal.
	 */
	fg = tcgetpgrp(STDIN_FILENO);
	return fg >= 0 && fg == getpgrp();
}

/*
 * Run on_exit after a one-off run however it ended (e.g. stop a sidecar in
 * a Kubernetes Job, which would otherwise never finish), as the run's user
 * (user's uid, gid, groups: the flags and ids of run), with the run's
 * environment plus its outcome: ENTRYPOINT_EXIT_CODE and ENTRYPOINT_STATUS
 * (succeeded, failed, timed_out, interrupted, refused).  Its failure is
 * logged and never changes the run's exit code.
 */
struct on_exit_result {
	int code;		/* its exit code, -1 when it did not start */
	int signal;		/* the signal that ended it, or 0 */
	const char *status;	/* succeeded, failed, timed_out, not_started */
};

static void
run_on_exit(const struct config *cfg, const char *command,
    const struct env *run_env, const struct spawn_opts *user,
    int code, const char *status, struct on_exit_result *out)
{
	struct spawn_opts so;
	struct supervise_result res;
	struct supervise_opts sup;
	struct env env = { { NULL, 0, 0 } };
	char **argv, buf[16];
	int exec_failed;
	pid_t pid;

	out->code = -1;
	out->signal = 0;
	out->status = "not_started";
	argv = split_command("on_exit", command);
	if (!argv)
		return;
	env_copy(&env, run_env);
	snprintf(buf, sizeof(buf), "%d", code);
	env_set(&env, "ENTRYPOINT_EXIT_CODE", buf);
	env_set(&env, "ENTRYPOINT_STATUS", status);
	memset(&so, 0, sizeof(so));
	so.argv = argv;
	so.envp = env_envp(&env);
	so.flags = SPAWN_SETPGID | (user->flags & (SPAWN_SETUID |
	    SPAWN_PDEATHSIG));
	so.uid = user->uid;
	so.gid = user->gid;
	so.groups = user->groups;
	so.ngroups = user->ngroups;
	so.tty_fd = -1;
	pid = spawn_start(&so, &exec_failed);
	if (pid < 0) {
		log_warn_errno("could not %s on_exit command \"%s\"",
		    exec_failed ? "run" : "start", argv[0]);
		strv_free(argv);
		env_release(&env);
		return;
	}
	memset(&sup, 0, sizeof(sup));
	sup.pid = pid;
	sup.stop_signal = SIGTERM;
	sup.stop_timeout_ms = cfg->app.stop_timeout_ms;
	sup.timeout_ms = 60000;
	sup.tty_fd = -1;
	if (supervise_run(&sup, &res) == 0) {
		out->code = res.exit_code;
		out->signal = res.signal;
		out->status = audit_status(res.exit_code, res.timed_out, 0);
		if (res.exit_code != 0)
			log_warn("on_exit command \"%s\" exited %d", argv[0],
			    res.exit_code);
	}
	strv_free(argv);
	env_release(&env);
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

/* What a one-off run keeps of its output (issue 13). */
struct capture {
	struct pty io;
	struct record_tail tail;
	struct record_cast cast;
	int tail_on, cast_on;
	char *output, *recording;
};

/*
 * Decide what run keeps and open the pty or pipes for it.  web and worker
 * (not one-off) and runs with nowhere to store it keep nothing and pay
 * nothing.  A console (shell, run) under a terminal is recorded; the output
 * of the others is kept.  Return 0, or an exit code to stop with.  After
 * audit_begin(), before the spawn.
 */
static int
capture_open(const struct config *cfg, const struct child_opts *o,
    const struct audit_run *ar, int tty, struct capture *c)
{
	int stored, console, w, h;
	enum pty_mode mode = PTY_NONE;

	memset(c, 0, sizeof(*c));
	(void)pty_open(&c->io, PTY_NONE, -1, NULL, NULL);
	if (!o->oneoff)
		return 0;
	stored = config_database_url(cfg) && cfg->database.audit != AUDIT_OFF;
	console = tty && (strcmp(o->process, "shell") == 0 ||
	    strcmp(o->process, "run") == 0);
	if (console && cfg->shell.record != RECORD_NO &&
	    cfg->shell.record_max > 0) {
		if (stored && audit_recorded(ar)) {
			c->cast_on = 1;
		} else if (cfg->shell.record == RECORD_REQUIRED) {
			log_error("[shell] record = required: not starting, "
			    "the recording cannot be stored (%s)",
			    !config_database_url(cfg) ? "no [database] url "
			    "nor DATABASE_URL" : cfg->database.audit ==
			    AUDIT_OFF ? "[database] audit = off" :
			    "the audit row could not be written");
			return config_database_url(cfg) ? EXIT_UNAVAILABLE :
			    EXIT_CONFIG;
		} else if (stored) {
			log_warn("this session is not recorded: its audit row "
			    "could not be written");
		}
	}
	c->tail_on = stored && cfg->app.keep_output > 0 &&
	    !(console && strcmp(o->process, "shell") == 0);
	if (tty && (c->cast_on || c->tail_on))
		mode = PTY_PTY;
	else if (c->tail_on)
		mode = PTY_PIPES;
	if (mode == PTY_NONE)
		return 0;
	record_tail_init(&c->tail, c->tail_on ?
	    (size_t)cfg->app.keep_output : 0);
	if (c->cast_on) {
		pty_size(STDIN_FILENO, &w, &h);
		record_cast_init(&c->cast, (size_t)cfg->shell.record_max, w,
		    h);
	}
	if (pty_open(&c->io, mode, STDIN_FILENO,
	    c->tail_on ? &c->tail : NULL, c->cast_on ? &c->cast : NULL) < 0) {
		log_errno("could not start \"%s\"", o->argv[0]);
		c->tail_on = c->cast_on = 0;
		return EXIT_OSERR;
	}
	if (c->cast_on)
		log_info("this session is recorded as run %s (replay: "
		    "entrypoint history replay %.8s)", ar->id, ar->id);
	return 0;
}

/* Hand the masked output and recording to ar for audit_end(). */
static void
capture_close(const struct config *cfg, const struct env *env,
    const struct child_opts *o, struct capture *c, struct audit_run *ar)
{
	char **secrets, *bytes, *title;
	size_t n;

	pty_finish(&c->io);
	if (!c->tail_on && !c->cast_on)
		return;
	secrets = record_secrets(env);
	if (c->tail_on) {
		bytes = record_tail_bytes(&c->tail, &n);
		c->output = record_mask(bytes, n, secrets, &ar->output_len);
		free(bytes);
		ar->output = c->output;
		ar->output_total = c->tail.total;
	}
	if (c->cast_on) {
		title = xasprintf("%s %s (run %s)", cfg->app.name, o->process,
		    ar->id);
		c->recording = record_cast_text(&c->cast, secrets, title,
		    env_get(env, "TERM"));
		free(title);
		ar->recording = c->recording;
		ar->recording_total = c->cast.total;
	}
	strv_free(secrets);
}

static void
capture_release(struct capture *c)
{
	record_tail_release(&c->tail);
	record_cast_release(&c->cast);
	free(c->output);
	free(c->recording);
}

/*
 * Why path could not be executed, errno err: "command not found", "is a
 * directory", or for a script whose #! interpreter is missing, that
 * interpreter (execve says ENOENT for both, bash says "required file not
 * found"; the exit code stays 127 as bash's).  buf holds the message when
 * it is built.
 */
static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *
exec_reason(const char *path, int err, char *buf, size_t size)
{
	char head[256], *p, *end;
	struct stat st;
	ssize_t n;
	int fd;

	if (!path || stat(path, &st) < 0)
		return err == ENOENT ? "command not found" : strerror(err);
	if (S_ISDIR(st.st_mode))
		return "is a directory";
	if (err != ENOENT && err != ENOEXEC)
		return strerror(err);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	n = fd < 0 ? -1 : read_nointr(fd, head, sizeof(head) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return err == ENOENT ? "command not found" : strerror(err);
	head[n] = '\0';
	for (p = head + 2; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strcspn(p, " \t\r\n");
	*end = '\0';
	if (!*p)
		snprintf(buf, size, "its #! line names no interpreter");
	else
		snprintf(buf, size, "its interpreter \"%s\" (the #! line) "
		    "was not found", p);
	return buf;
}

/*
 * The status of a one-off run for on_exit: what audit_status() says of a
 * run that started; of one that did not, "interrupted" (a signal while it
 * waited), "refused" (not confirmed, exclusive lock busy) or "failed".
 */
static const char *
outcome_status(int started, int code, const struct supervise_result *res)
{
	if (started)
		return audit_status(code, res->timed_out, res->interrupted);
	if (code > EXIT_SIGNAL_BASE)
		return "interrupted";
	if (code == EXIT_NOPERM || code == EXIT_TEMPFAIL)
		return "refused";
	return "failed";
}

/*
 * Start the child described by o and supervise it to the end.  Return its
 * exit code (or ours when it could not start).  Audit rows are written
 * before the spawn and after the loop, never inside it.  A one-off run
 * that was refused before it started (o->not_run) comes here too: a
 * signal at the confirmation prompt is recorded, and on_exit runs however
 * the run ended.
 */
static int
run_child(const struct config *cfg, const struct child_opts *o)
{
	struct audit_run ar;
	struct spawn_opts so;
	struct supervise_opts sup;
	struct supervise_result res;
	struct capture cap;
	struct on_exit_result oe;
	struct env env = { { NULL, 0, 0 } };
	char *path = NULL, why[PATH_MAX + 64];
	int code, err, user_code = 0, begun = 0, started = 0, exec_failed;
	int tty = own_terminal();
	pid_t pid;

	memset(&ar, 0, sizeof(ar));
	memset(&so, 0, sizeof(so));
	memset(&res, 0, sizeof(res));
	memset(&cap, 0, sizeof(cap));
	(void)pty_open(&cap.io, PTY_NONE, -1, NULL, NULL);
	so.tty_fd = -1;
	if (cfg->app.user)
		user_code = drop_privileges(cfg->app.user, &so);
	if (o->oneoff) {
		ar.command = o->process;
		ar.task = o->task ? o->task->name : NULL;
		ar.argv = o->argv;
		ar.dry_run = o->dry_run;
		ar.exclusive = o->task ? o->task->exclusive : 0;
		ar.exclusive_wait_ms = o->task ?
		    o->task->exclusive_wait_ms : 0;
	}
	if (o->not_run) {
		code = o->not_run;
		/* Interrupted at the prompt: on the record, with no lock. */
		ar.exclusive = 0;
		ar.never_started = 1;
		if (o->not_run_signal && audit_begin(cfg, &ar) == 0) {
			res.interrupted = 1;
			audit_end(cfg, &ar, code, 0, 0, 1);
		}
		goto done;
	}
	if (user_code) {
		code = user_code;
		goto done;
	}
	if (o->oneoff) {
		code = audit_begin(cfg, &ar);
		if (code != 0)
			goto done;
		begun = 1;
	}
	child_env(cfg, &env, o->process, o->task ? o->task->name : NULL,
	    o->oneoff ? ar.id : NULL, o->dry_run);
	user_env(&env, &so);

	path = spawn_resolve(o->argv[0], env_envp(&env));
	if (!path) {
		code = spawn_exit_code(errno);
		log_error("could not run \"%s\": %s", mask_show(o->argv[0]),
		    code == EXIT_NOTFOUND ? "command not found" :
		    strerror(errno));
		goto done;
	}
	if (is_dir(path)) {
		code = EXIT_NOEXEC;
		log_error("could not run \"%s\": is a directory", o->argv[0]);
		goto done;
	}
	code = capture_open(cfg, o, &ar, tty, &cap);
	if (code != 0)
		goto done;
	so.argv = o->argv;
	so.path = path;
	so.envp = env_envp(&env);
	if (cap.io.mode == PTY_PTY) {
		/* The child's terminal is the pty, in a session of its own. */
		so.flags |= SPAWN_SETSID | SPAWN_STDIO;
		memcpy(so.stdio, cap.io.child_fd, sizeof(so.stdio));
		tty = 0;
	} else {
		so.flags |= SPAWN_SETPGID;
		if (cap.io.mode == PTY_PIPES) {
			so.flags |= SPAWN_STDIO;
			memcpy(so.stdio, cap.io.child_fd, sizeof(so.stdio));
		}
	}
	/* Not PID 1, we can be killed with -9 (docker exec, kubectl exec):
	 * a one-off child must not outlive its lock and audit row. */
	if (o->oneoff && !supervise_is_pid1())
		so.flags |= SPAWN_PDEATHSIG;
	if (tty) {
		so.flags |= SPAWN_FOREGROUND;
		so.tty_fd = STDIN_FILENO;
	}
	fflush(NULL);
	pid = spawn_start(&so, &exec_failed);
	pty_started(&cap.io);
	if (pid < 0 && !exec_failed) {
		code = EXIT_OSERR;
		log_errno("could not start \"%s\"", mask_show(o->argv[0]));
		goto done;
	}
	if (pid < 0) {
		err = errno;
		code = spawn_exit_code(err);
		log_error("could not run \"%s\": %s", mask_show(o->argv[0]),
		    exec_reason(path, err, why, sizeof(why)));
		goto done;
	}
	started = 1;
	memset(&sup, 0, sizeof(sup));
	sup.pid = pid;
	sup.stop_signal = o->stop_signal;
	sup.stop_timeout_ms = o->stop_timeout_ms;
	sup.timeout_ms = o->timeout_ms;
	sup.tty_fd = so.tty_fd;
	sup.io = cap.io.mode != PTY_NONE ? &cap.io : NULL;
	if (supervise_run(&sup, &res) < 0)
		log_warn("supervision ended with an internal error");
	code = res.exit_code;
	/* Take the terminal back so our last lines and the shell's prompt
	 * are not written from a background group. */
	if (tty)
		(void)tcsetpgrp(STDIN_FILENO, getpgrp());
	capture_close(cfg, &env, o, &cap, &ar);
	if (res.timed_out)
		log_error("timed out after %ld ms; exit %d", o->timeout_ms,
		    code);
done:
	pty_finish(&cap.io);
	if (begun)
		audit_end(cfg, &ar, code, res.signal, res.timed_out,
		    res.interrupted);
	if (o->oneoff && o->on_exit && user_code) {
		log_warn("on_exit command not run: it runs as user \"%s\"",
		    cfg->app.user);
	} else if (o->oneoff && o->on_exit) {
		if (!env.vars.v) {
			child_env(cfg, &env, o->process, o->task ?
			    o->task->name : NULL, ar.id[0] ? ar.id : NULL,
			    o->dry_run);
			user_env(&env, &so);
		}
		if (!supervise_is_pid1())
			so.flags |= SPAWN_PDEATHSIG;
		run_on_exit(cfg, o->on_exit, &env, &so, code,
		    outcome_status(started, code, &res), &oe);
		/* on the record after the run's own end: best-effort */
		audit_on_exit(cfg, &ar, oe.code, oe.signal, oe.status);
	}
	capture_release(&cap);
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
 * Ask on the terminal whether to go on.  Return 1 for yes, 0 for no, or
 * -N when signal N (TERM, INT, HUP or QUIT) came first.  Signals are
 * blocked and wait in the signalfd, so the answer is read with a poll on
 * both: otherwise a Ctrl-C here would wait in the queue and kill the task
 * the moment the user answered y.  Only called when stdin is a terminal.
 */
static int
confirm(const struct config *cfg, const struct task_conf *t)
{
	struct pollfd pfd[2];
	char line[64] = "";
	size_t len = 0;
	ssize_t n;
	int sig, i;

	fprintf(stderr, "entrypoint: run task \"%s\" of %s%s%s? [y/N] ",
	    t->name, cfg->app.name, *cfg->app.release ? " release " : "",
	    cfg->app.release);
	fflush(stderr);
	pfd[0].fd = STDIN_FILENO;
	pfd[0].events = POLLIN;
	pfd[1].fd = sig_fd();
	pfd[1].events = POLLIN;
	while (len < sizeof(line) - 1 && !memchr(line, '\n', len)) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		/* Bounded: a flood of other signals must not starve stdin. */
		for (i = 0; i < 64 && pfd[1].revents & POLLIN; i++) {
			sig = sig_read(NULL);
			if (sig <= 0)
				break;
			if (sig == SIGINT || sig == SIGTERM ||
			    sig == SIGHUP || sig == SIGQUIT) {
				fputc('\n', stderr);
				return -sig;
			}
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read_nointr(STDIN_FILENO, line + len,
		    sizeof(line) - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
	}
	line[len] = '\0';
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

/* A duration in the unit it was most likely written in: 10m, 90s, 1500ms. */
static void
put_duration(long ms)
{
	if (ms % 3600000 == 0)
		printf("%ldh", ms / 3600000);
	else if (ms % 60000 == 0)
		printf("%ldm", ms / 60000);
	else if (ms % 1000 == 0)
		printf("%lds", ms / 1000);
	else
		printf("%ldms", ms);
}

/*
 * task NAME --help: what the config says about that task, and how to run
 * it.
 */
static int
task_help(const struct config *cfg, const struct task_conf *t)
{
	printf("usage: entrypoint [-c FILE] task %s%s [--yes] [-- ARGS...]\n\n"
	    "%s\n\n", t->name, t->dry_run == DRY_RUN_UNSUPPORTED ? "" :
	    " [--dry-run]", *t->description ? t->description :
	    "(no description)");
	printf("  command:    %s\n", t->command);
	printf("  dry run:    ");
	if (t->dry_run == DRY_RUN_FLAG)
		printf("--dry-run appends \"%s\" and sets DRY_RUN=1 "
		    "(dry_run = flag:%s)\n", t->dry_run_flag, t->dry_run_flag);
	else if (t->dry_run == DRY_RUN_ENV)
		printf("--dry-run sets DRY_RUN=1 (dry_run = env)\n");
	else
		printf("not supported: --dry-run is refused, exit 64 "
		    "(dry_run = unsupported)\n");
	printf("  confirm:    %s\n", t->confirm ? "yes: asks on a terminal; "
	    "without one, pass --yes (else exit 77)" : "no");
	printf("  timeout:    ");
	if (t->timeout_ms) {
		put_duration(t->timeout_ms);
		printf(": then TERM, KILL after the grace, exit 124\n");
	} else {
		printf("none\n");
	}
	printf("  exclusive:  %s\n", t->exclusive ? "yes: one run at a time "
	    "across all machines; another run exits 75" : "no");
	printf("  config:     [task.%s] in %s:%d\n\nrun it:\n", t->name,
	    cfg->path ? cfg->path : "entrypoint.ini", t->line);
	if (t->dry_run != DRY_RUN_UNSUPPORTED)
		printf("  entrypoint task %s --dry-run\n", t->name);
	printf("  entrypoint task %s%s\n", t->name, t->confirm ? " --yes" :
	    "");
	return finish_output(EXIT_OK);
}

int
cmd_task(struct config *cfg, int argc, char **argv)
{
	const struct task_conf *t;
	const char *name = NULL;
	struct child_opts o;
	struct strv extra = { NULL, 0, 0 };
	char **base, **full;
	int i, dry_run = 0, yes = 0, help = 0, code, not_run = 0;
	int not_run_signal = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (is_help(argv[i])) {
			help = 1;
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
	if (help)
		return task_help(cfg, t);
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
			not_run = EXIT_NOPERM;
		} else if ((code = confirm(cfg, t)) < 0) {
			not_run_signal = -code;
			not_run = EXIT_SIGNAL_BASE + not_run_signal;
			log_error("task \"%s\" interrupted by SIG%s at the "
			    "confirmation prompt; nothing was run", t->name,
			    signal_name(not_run_signal));
		} else if (code == 0) {
			log_error("task \"%s\" not confirmed; nothing was run",
			    t->name);
			not_run = EXIT_NOPERM;
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
	o.not_run = not_run;
	o.not_run_signal = not_run_signal;
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
	struct spawn_opts so;
	char *const *v;
	char *line;

	if (argc > 1) {
		log_error("unrecognized argument \"%s\"", mask_show(argv[1]));
		return EXIT_USAGE;
	}
	child_env(cfg, &env, NULL, NULL, NULL, 0);
	/* What the child sees: with user =, that user's HOME, USER, LOGNAME. */
	memset(&so, 0, sizeof(so));
	if (cfg->app.user && spawn_resolve_user(cfg->app.user, &so) == 0)
		user_env(&env, &so);
	spawn_release_user(&so);
	for (v = env_envp(&env); *v; v++) {
		line = mask_env_entry(*v);
		printf("%s\n", line);
		free(line);
	}
	env_release(&env);
	return finish_output(EXIT_OK);
}

/* ---- check ---------------------------------------------------------- */

/* One finding of `check`. */
struct finding {
	enum log_level lvl;	/* LOG_INFO: ok */
	int code;		/* the exit code it stands for; 0 for ok */
	char *what;		/* "task backfill", "database" */
	char *file;		/* NULL when it has no place */
	int line;		/* 0 when none */
	char *msg;
};

struct check {
	struct finding *f;
	size_t n, cap;
	const char *what;	/* the check running now */
	size_t first;		/* its first finding */
	const struct config *cfg;
};

/* Join lines: libpq's hints come after a newline and a tab. */
static void
one_line(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '\n') {
			*w++ = *s;
			continue;
		}
		*w++ = ' ';
		while (s[1] == ' ' || s[1] == '\t')
			s++;
	}
	*w = '\0';
}

/*
 * Add a finding.  A message that starts with "FILE:LINE: " (config and
 * migration errors do) has its place split off; where is "FILE:LINE" or
 * "FILE" otherwise.
 */
static void
add_finding(struct check *ck, enum log_level lvl, int code,
    const char *where, const char *msg)
{
	struct finding *f;
	const char *colon, *p;
	long line = 0;

	if (ck->n == ck->cap) {
		ck->cap = ck->cap ? 2 * ck->cap : 16;
		ck->f = xrealloc(ck->f, ck->cap * sizeof(*ck->f));
	}
	f = &ck->f[ck->n++];
	memset(f, 0, sizeof(*f));
	f->lvl = lvl;
	f->code = code;
	f->what = xstrdup(ck->what);
	colon = strchr(msg, ':');
	if (!where && colon && colon > msg && !memchr(msg, ' ',
	    (size_t)(colon - msg))) {
		for (p = colon + 1; *p >= '0' && *p <= '9'; p++)
			line = line * 10 + (*p - '0');
		if (p > colon + 1 && p[0] == ':' && p[1] == ' ' &&
		    line < 1000000) {
			f->file = xstrndup(msg, (size_t)(colon - msg));
			f->line = (int)line;
			msg = p + 2;
		}
	}
	if (where) {
		colon = strrchr(where, ':');
		if (colon && colon[1] >= '0' && colon[1] <= '9') {
			f->file = xstrndup(where, (size_t)(colon - where));
			(void)parse_long(colon + 1, 0, 1000000, &line);
			f->line = (int)line;
		} else {
			f->file = xstrdup(where);
		}
	}
	f->msg = xstrdup(msg);
	one_line(f->msg);
}

/* The log sink while checks run: what they log becomes a finding. */
static void
check_sink(enum log_level lvl, const char *msg, void *arg)
{
	add_finding(arg, lvl, 0, NULL, msg);
}

/* Start the check named what: what it logs from now on is its. */
static void
check_begin(struct check *ck, const char *what)
{
	ck->what = what;
	ck->first = ck->n;
}

/*
 * End the current check with code: its logged errors stand for code;
 * one that failed without logging gets a line saying so; ok_text, when
 * the check passed, is its "ok" line.
 */
static void
check_end(struct check *ck, int code, const char *ok_text)
{
	size_t i;
	int said = 0;

	for (i = ck->first; i < ck->n; i++)
		if (ck->f[i].lvl == LOG_ERROR) {
			if (!ck->f[i].code)
				ck->f[i].code = code ? code : EXIT_SOFTWARE;
			said = 1;
		}
	if (code && !said)
		add_finding(ck, LOG_ERROR, code, NULL, "failed");
	else if (!code && ok_text && !said)
		add_finding(ck, LOG_INFO, 0, NULL, ok_text);
}

/* migrate_check()'s steps. */
static void
check_migrate_step(void *arg, const char *what, int code, const char *text)
{
	struct check *ck = arg;

	if (code < 0)
		check_begin(ck, what);
	else
		check_end(ck, code, text);
}

/*
 * A script's #! interpreter: NULL when path is no script or its
 * interpreter is there, else why not (in buf).  #!/usr/bin/env NAME
 * looks NAME up on the child's PATH, as env will.
 */
static const char *
check_interpreter(const char *path, char *const *envp, char *buf,
    size_t size)
{
	char head[256], *p, *end, *arg = NULL, *found;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	n = fd < 0 ? -1 : read_nointr(fd, head, sizeof(head) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return NULL;
	head[n] = '\0';
	head[strcspn(head, "\r\n")] = '\0';
	for (p = head + 2; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strcspn(p, " \t");
	if (*end) {
		*end = '\0';
		for (arg = end + 1; *arg == ' ' || *arg == '\t'; arg++)
			;
		arg[strcspn(arg, " \t")] = '\0';
	}
	if (!*p) {
		snprintf(buf, size, "\"%s\": its #! line names no interpreter",
		    path);
		return buf;
	}
	if (access(p, X_OK) < 0) {
		snprintf(buf, size, "\"%s\": its interpreter \"%s\" (the #! "
		    "line) %s", path, p, errno == ENOENT ? "was not found" :
		    "is not executable");
		return buf;
	}
	if (arg && *arg && *arg != '-' && strcmp(strrchr(p, '/') ?
	    strrchr(p, '/') + 1 : p, "env") == 0) {
		found = spawn_resolve(arg, envp);
		if (!found) {
			snprintf(buf, size, "\"%s\": its interpreter \"%s\" "
			    "(#!%s %s) is not on PATH", path, arg, p, arg);
			return buf;
		}
		free(found);
	}
	return NULL;
}

/*
 * Would command start?  Split as the run would, resolved on the child's
 * PATH, executable, not a directory, its #! interpreter there.
 */
static void
check_exec(struct check *ck, const char *what, const char *where,
    const char *command, int warn_only)
{
	char **argv, *path;
	char why[PATH_MAX + 256], ok_text[PATH_MAX + 16];
	const char *bad = NULL;
	char *const *envp = env_envp(&ck->cfg->env);
	int code = 0;

	check_begin(ck, what);
	argv = split_command(what, command);
	if (!argv) {
		check_end(ck, EXIT_CONFIG, NULL);
		return;
	}
	path = spawn_resolve(argv[0], envp);
	if (!path) {
		code = spawn_exit_code(errno);
		snprintf(why, sizeof(why), "\"%s\": %s", argv[0],
		    code == EXIT_NOTFOUND ? "command not found on PATH" :
		    "found but not executable");
		bad = why;
	} else if (is_dir(path)) {
		code = EXIT_NOEXEC;
		snprintf(why, sizeof(why), "\"%s\": is a directory", path);
		bad = why;
	} else if (access(path, X_OK) < 0) {
		code = spawn_exit_code(errno);
		snprintf(why, sizeof(why), "\"%s\": %s", path,
		    code == EXIT_NOTFOUND ? "command not found" :
		    "not executable");
		bad = why;
	} else if ((bad = check_interpreter(path, envp, why, sizeof(why)))) {
		code = EXIT_NOTFOUND;
	}
	if (bad)
		add_finding(ck, warn_only ? LOG_WARN : LOG_ERROR,
		    warn_only ? 0 : code, where, bad);
	snprintf(ok_text, sizeof(ok_text), "%s", path ? path : "");
	check_end(ck, 0, bad ? NULL : ok_text);
	free(path);
	strv_free(argv);
}

/* [app] user: it exists here, and we can become it. */
static void
check_user(struct check *ck)
{
	struct spawn_opts so;
	char text[128];

	check_begin(ck, "user");
	memset(&so, 0, sizeof(so));
	if (spawn_resolve_user(ck->cfg->app.user, &so) < 0) {
		check_end(ck, EXIT_CONFIG, NULL);
		return;
	}
	if (geteuid() != 0 && (so.uid != geteuid() || so.gid != getegid()))
		add_finding(ck, LOG_ERROR, EXIT_NOPERM, ck->cfg->path,
		    "cannot switch to this user: running as a user that is "
		    "neither root nor it");
	snprintf(text, sizeof(text), "%s (uid %ld, gid %ld)",
	    ck->cfg->app.user, (long)so.uid, (long)so.gid);
	check_end(ck, 0, text);
	spawn_release_user(&so);
}

/* The exit code that wins: config before commands, before the database. */
static int
severity(int code)
{
	static const int order[] = { EXIT_CONFIG, EXIT_NOTFOUND, EXIT_NOEXEC,
		EXIT_NOPERM, EXIT_DATAERR, EXIT_UNAVAILABLE, EXIT_TEMPFAIL,
		EXIT_OSERR, EXIT_SOFTWARE };
	size_t i;

	for (i = 0; i < ARRAY_LEN(order); i++)
		if (order[i] == code)
			return (int)(ARRAY_LEN(order) - i) + 1;
	return code ? 1 : 0;
}

static const char *const finding_level[] = { "debug", "ok", "warning",
	"error" };

static void
print_finding(const struct finding *f, int json)
{
	char what[256], file[PATH_MAX * 2 + 8], msg[8192];

	if (!json) {
		printf("%-7s %-24s ", finding_level[f->lvl], f->what);
		if (f->file && f->line)
			printf("%s:%d: ", f->file, f->line);
		else if (f->file && f->lvl != LOG_INFO)
			printf("%s: ", f->file);
		printf("%s\n", f->msg);
		return;
	}
	log_json_escape(what, sizeof(what), f->what);
	log_json_escape(msg, sizeof(msg), f->msg);
	printf("{\"level\":\"%s\",\"check\":%s", finding_level[f->lvl], what);
	if (f->file) {
		log_json_escape(file, sizeof(file), f->file);
		printf(",\"file\":%s", file);
	}
	if (f->line)
		printf(",\"line\":%d", f->line);
	if (f->code)
		printf(",\"code\":%d", f->code);
	printf(",\"message\":%s}\n", msg);
}

/*
 * entrypoint check [--json]: every problem a deploy would trip over, in
 * one run, one line (or JSON object) each, then exit with the most
 * severe one's code.  What the checks log is collected (log_set_sink())
 * rather than printed.
 */
int
cmd_check(struct config *cfg, int argc, char **argv)
{
	struct check ck;
	struct config once;
	char what[80], where[PATH_MAX + 16], text[128];
	const char *path = cfg->path ? cfg->path : "entrypoint.ini";
	size_t i, errors = 0, warnings = 0;
	int json = 0, code = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			log_error("unrecognized argument \"%s\"", mask_show(argv[i]));
			cmd_usage("check", stderr);
			return EXIT_USAGE;
		}
	}
	memset(&ck, 0, sizeof(ck));
	ck.cfg = cfg;
	log_set_sink(check_sink, &ck);

	check_begin(&ck, "config");
	check_end(&ck, 0, cfg->path ? cfg->path : "(none: defaults)");
	check_begin(&ck, "env");
	check_end(&ck, config_require_env(cfg) < 0 ? EXIT_CONFIG : 0,
	    "every require_env variable is set");
	if (cfg->app.user)
		check_user(&ck);
	for (i = 0; i < cfg->nprocs; i++) {
		snprintf(what, sizeof(what), "process %s", cfg->procs[i].name);
		snprintf(where, sizeof(where), "%s:%d", path,
		    cfg->procs[i].line);
		check_exec(&ck, what, where, cfg->procs[i].command, 0);
	}
	for (i = 0; i < cfg->ntasks; i++) {
		snprintf(what, sizeof(what), "task %s", cfg->tasks[i].name);
		snprintf(where, sizeof(where), "%s:%d", path,
		    cfg->tasks[i].line);
		check_exec(&ck, what, where, cfg->tasks[i].command, 0);
		if (!cfg->tasks[i].on_exit)
			continue;
		snprintf(what, sizeof(what), "task %s on_exit",
		    cfg->tasks[i].name);
		check_exec(&ck, what, where, cfg->tasks[i].on_exit, 0);
	}
	/* The default /bin/sh is no problem in an image without a shell
	 * until someone asks for one: a warning.  A configured one must
	 * work. */
	check_exec(&ck, "shell", cfg->path, cfg->shell.command,
	    strcmp(cfg->shell.command, "/bin/sh") == 0);
	if (cfg->app.on_exit)
		check_exec(&ck, "on_exit", cfg->path, cfg->app.on_exit, 0);

	check_begin(&ck, "database url");
	if (cfg->database.url && *cfg->database.url)
		check_end(&ck, 0, "from [database] url");
	else if (config_database_url(cfg))
		check_end(&ck, 0, "from DATABASE_URL ([database] url is not "
		    "set)");
	else
		add_finding(&ck, LOG_WARN, 0, NULL, "none: neither [database] "
		    "url nor DATABASE_URL is set; migrate, history and the "
		    "audit trail need one");
	/* One attempt: check reports an unreachable database at once
	 * rather than wait for it as migrate does. */
	once = *cfg;
	once.database.wait_ms = 0;
	(void)migrate_check(&once, check_migrate_step, &ck);
	log_set_sink(NULL, NULL);

	for (i = 0; i < ck.n; i++) {
		print_finding(&ck.f[i], json);
		if (ck.f[i].lvl == LOG_ERROR)
			errors++;
		else if (ck.f[i].lvl == LOG_WARN)
			warnings++;
		if (ck.f[i].lvl == LOG_ERROR &&
		    severity(ck.f[i].code) > severity(code))
			code = ck.f[i].code;
		free(ck.f[i].what);
		free(ck.f[i].file);
		free(ck.f[i].msg);
	}
	free(ck.f);
	if (!json) {
		snprintf(text, sizeof(text), "%zu problem%s, %zu warning%s",
		    errors, errors == 1 ? "" : "s", warnings,
		    warnings == 1 ? "" : "s");
		if (code)
			printf("%s: exit %d\n", text, code);
		else
			printf("%s\n", text);
	}
	return finish_output(code);
}
