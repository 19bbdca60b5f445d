/*
 * t_config.c - entrypoint.ini through config_load_string(): every key,
 * every error class (with its file:line and key), ${...} expansion, argv
 * splitting, env_file, *_FILE, [env], require_env and the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/* A writable copy of a string literal, for envp arrays. */
#define V(s) ((char[]){ s })

#include "config.h"
#include "mask.h"
#include "util.h"

static char dir[PATH_MAX];	/* a temporary directory */
static char errbuf[8192];	/* stderr of the last load */

/* Write a file under dir; return its path (static buffer, one at a time). */
static const char *
put(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return path;
	fputs(text, f);
	fclose(f);
	return path;
}

/* Run fn with stderr (fd 2) captured into errbuf, or stdout when fd is 1. */
static int
capture(int fd, int (*fn)(void *), void *arg, char *buf, size_t size)
{
	char path[PATH_MAX + 16];
	int tmp, saved, rc;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/.capture", dir);
	fflush(stdout);
	tmp = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(fd);
	dup2(tmp, fd);
	rc = fn(arg);
	fflush(stdout);
	dup2(saved, fd);
	close(saved);
	lseek(tmp, 0, SEEK_SET);
	n = read(tmp, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(tmp);
	return rc;
}

struct load_args {
	struct config *cfg;
	const char *text;
	char *const *envp;
};

static int
do_load(void *arg)
{
	struct load_args *a = arg;

	return config_load_string(a->cfg, a->text, "t.ini", a->envp);
}

static char *no_env[] = { NULL };

static int
load_env(struct config *cfg, const char *text, char *const *envp)
{
	struct load_args a;

	a.cfg = cfg;
	a.text = text;
	a.envp = envp;
	return capture(2, do_load, &a, errbuf, sizeof(errbuf));
}

static int
load(struct config *cfg, const char *text)
{
	return load_env(cfg, text, no_env);
}

/* The load fails and its one-line message contains want. */
static void
fails(const char *text, const char *want, const char *name)
{
	struct config cfg;
	int rc = load(&cfg, text);
	int one_line = strchr(errbuf, '\n') == errbuf + strlen(errbuf) - 1;

	if (!ok(rc == -1 && strstr(errbuf, want) && one_line, name))
		printf("#   rc %d, stderr: %s#   want: %s\n", rc, errbuf,
		    want);
	if (rc == 0)
		config_release(&cfg);
}

static int
do_require(void *arg)
{
	return config_require_env(arg);
}

/*
 * The load succeeds (listing tasks works without the app's secrets) but
 * config_require_env() fails with a one-line message containing want.
 */
static void
requires_env(const char *text, char *const *envp, const char *want,
    const char *name)
{
	struct config cfg;
	int rc = load_env(&cfg, text, envp), req = 0;

	if (rc == 0) {
		req = capture(2, do_require, &cfg, errbuf, sizeof(errbuf));
		config_release(&cfg);
	}
	if (!ok(rc == 0 && req == -1 && strstr(errbuf, want), name))
		printf("#   rc %d, require %d, stderr: %s#   want: %s\n", rc,
		    req, errbuf, want);
}

/* As fails(), with an inherited environment. */
static void
fails_env(const char *text, char *const *envp, const char *want,
    const char *name)
{
	struct config cfg;
	int rc = load_env(&cfg, text, envp);

	if (!ok(rc == -1 && strstr(errbuf, want), name))
		printf("#   rc %d, stderr: %s#   want: %s\n", rc, errbuf,
		    want);
	if (rc == 0)
		config_release(&cfg);
}

struct file_args {
	struct config *cfg;
	const char *path;
	char *const *envp;
};

static int
do_load_file(void *arg)
{
	struct file_args *a = arg;

	return config_load(a->cfg, a->path, a->envp);
}

static int
load_file(struct config *cfg, const char *path, char *const *envp)
{
	struct file_args a;

	a.cfg = cfg;
	a.path = path;
	a.envp = envp;
	return capture(2, do_load_file, &a, errbuf, sizeof(errbuf));
}

static void
test_defaults(void)
{
	struct config cfg;

	is_int(load(&cfg, ""), 0, "an empty file loads");
	is_str(cfg.app.name, "app", "default name");
	is_str(cfg.app.release, "", "default release is empty");
	ok(cfg.app.user == NULL, "no user by default");
	ok(cfg.app.env_file == NULL, "no env_file by default");
	ok(cfg.app.require_env && !cfg.app.require_env[0],
	    "require_env is an empty list");
	ok(cfg.app.secret_env && !cfg.app.secret_env[0],
	    "secret_env is an empty list");
	is_int(cfg.app.stop_timeout_ms, 10000, "stop_timeout 10s");
	is_int(cfg.app.log_json, 0, "log_format text");
	ok(cfg.app.on_exit == NULL, "no on_exit");
	ok(cfg.database.url == NULL, "no url");
	is_int(cfg.database.wait_ms, 60000, "wait 60s");
	is_str(cfg.database.migrations, "migrations", "migrations dir");
	is_str(cfg.database.schema, "entrypoint", "schema");
	is_int(cfg.database.lock_timeout_ms, 300000, "lock_timeout 5m");
	is_int(cfg.database.ddl_lock_timeout_ms, 10000, "ddl 10s");
	is_int(cfg.database.audit, AUDIT_BEST_EFFORT, "audit best-effort");
	is_str(cfg.shell.command, "/bin/sh", "shell /bin/sh");
	is_int(cfg.nprocs, 0, "no processes");
	is_int(cfg.ntasks, 0, "no tasks");
	ok(cfg.path == NULL, "no path for a string");
	config_release(&cfg);
}

static const char full[] =
	"; every key\n"
	"# both comment styles\n"
	"[app]\n"
	"name = myapp\n"
	"release = v1.2.3\n"
	"release_file = /nonexistent/ignored-when-release-is-set\n"
	"user = app:app\n"
	"require_env = HOME, PATH\n"
	"secret_env = MY_PIN OTHER\n"
	"stop_timeout = 1500ms\n"
	"log_format = json\n"
	"on_exit = curl -X POST http://localhost:15020/quitquitquit\n"
	"\n"
	"[database]\n"
	"url = postgres://u:pw@db/app\n"
	"wait = 2m\n"
	"migrations = db/migrations\n"
	"schema = ep_meta\n"
	"lock_timeout = 1h\n"
	"ddl_lock_timeout = 3s\n"
	"audit = required\n"
	"\n"
	"[shell]\n"
	"command = python3 -i -m app.console\n"
	"\n"
	"[process.web]\n"
	"command = python3 -m app.web\n"
	"require_migrations = wait\n"
	"stop_signal = QUIT\n"
	"stop_timeout = 30s\n"
	"\n"
	"[process.worker]\n"
	"command = python3 -m app.worker\n"
	"stop_signal = sigint\n"
	"\n"
	"[task.deactivate-stale-users]\n"
	"command = tasks/deactivate.sh --days 365\n"
	"description = Deactivate users who have not logged in for a year\n"
	"dry_run = flag:--dry-run\n"
	"confirm = yes\n"
	"timeout = 10m\n"
	"exclusive = yes\n"
	"exclusive_wait = 30s\n"
	"on_exit = /bin/true\n"
	"\n"
	"[task.report_v2.x]\n"
	"command = report\n"
	"dry_run = env\n";

static void
test_every_key(void)
{
	char *envp[] = { V("HOME=/root"), V("PATH=/bin"), NULL };
	const struct process_conf *web, *worker;
	const struct task_conf *t, *r;
	struct config cfg;

	if (!is_int(load_env(&cfg, full, envp), 0, "a config with every key "
	    "loads"))
		printf("# %s", errbuf);
	is_str(cfg.app.name, "myapp", "[app] name");
	is_str(cfg.app.release, "v1.2.3", "[app] release wins over "
	    "release_file");
	is_str(cfg.app.user, "app:app", "[app] user");
	ok(cfg.app.require_env && streq(cfg.app.require_env[0], "HOME") &&
	    streq(cfg.app.require_env[1], "PATH") && !cfg.app.require_env[2],
	    "[app] require_env split on blanks and commas");
	ok(streq(cfg.app.secret_env[0], "MY_PIN") &&
	    streq(cfg.app.secret_env[1], "OTHER") && !cfg.app.secret_env[2],
	    "[app] secret_env");
	is_int(cfg.app.stop_timeout_ms, 1500, "[app] stop_timeout 1500ms");
	is_int(cfg.app.log_json, 1, "[app] log_format json");
	is_str(cfg.app.on_exit, "curl -X POST "
	    "http://localhost:15020/quitquitquit", "[app] on_exit");
	is_str(cfg.database.url, "postgres://u:pw@db/app", "[database] url");
	is_int(cfg.database.wait_ms, 120000, "[database] wait 2m");
	is_str(cfg.database.migrations, "db/migrations", "migrations");
	is_str(cfg.database.schema, "ep_meta", "[database] schema");
	is_int(cfg.database.lock_timeout_ms, 3600000, "lock_timeout 1h");
	is_int(cfg.database.ddl_lock_timeout_ms, 3000, "ddl_lock_timeout");
	is_int(cfg.database.audit, AUDIT_REQUIRED, "audit required");
	is_str(cfg.shell.command, "python3 -i -m app.console",
	    "[shell] command");
	is_int(cfg.nprocs, 2, "two processes");
	web = config_process(&cfg, "web");
	worker = config_process(&cfg, "worker");
	ok(web && worker && !config_process(&cfg, "nope"),
	    "config_process finds them by name");
	if (web && worker) {
		is_str(web->command, "python3 -m app.web", "web command");
		is_int(web->require_migrations, REQUIRE_MIGRATIONS_WAIT,
		    "require_migrations wait");
		is_int(web->stop_signal, SIGQUIT, "stop_signal QUIT");
		is_int(web->stop_timeout_ms, 30000, "process stop_timeout");
		is_int(web->line, 26, "process line is its [section] line");
		is_int(worker->stop_signal, SIGINT, "stop_signal sigint");
		is_int(worker->stop_timeout_ms, -1, "stop_timeout -1 means "
		    "[app]'s");
		is_int(worker->require_migrations, REQUIRE_MIGRATIONS_OFF,
		    "require_migrations defaults to off");
	}
	t = config_task(&cfg, "deactivate-stale-users");
	r = config_task(&cfg, "report_v2.x");
	ok(t && r && !config_task(&cfg, "web"), "config_task finds tasks");
	if (t && r) {
		is_str(t->command, "tasks/deactivate.sh --days 365",
		    "task command");
		is_str(t->description, "Deactivate users who have not logged "
		    "in for a year", "task description");
		is_int(t->dry_run, DRY_RUN_FLAG, "dry_run flag:");
		is_str(t->dry_run_flag, "--dry-run", "dry_run_flag");
		is_int(t->confirm, 1, "confirm yes");
		is_int(t->timeout_ms, 600000, "timeout 10m");
		is_int(t->exclusive, 1, "exclusive yes");
		is_int(t->exclusive_wait_ms, 30000, "exclusive_wait 30s");
		is_str(t->on_exit, "/bin/true", "task on_exit");
		is_int(r->dry_run, DRY_RUN_ENV, "dry_run env");
		ok(r->dry_run_flag == NULL, "no flag for dry_run env");
		is_int(r->confirm, 0, "confirm defaults to no");
		is_int(r->timeout_ms, 0, "timeout defaults to none");
		is_int(r->exclusive, 0, "exclusive defaults to no");
		ok(r->on_exit == NULL, "task on_exit NULL means [app]'s");
		is_str(r->description, "", "description defaults to \"\"");
	}
	config_release(&cfg);

	is_int(load(&cfg, "[task.t]\ncommand = x\n"), 0, "a bare task");
	is_int(cfg.tasks[0].dry_run, DRY_RUN_UNSUPPORTED,
	    "dry_run defaults to unsupported");
	config_release(&cfg);
}

static void
test_errors(void)
{
	char name[256], text[512];

	fails("[app]\nname = a\n[bogus]\n",
	    "t.ini:3: unrecognized section [bogus]", "unknown section");
	fails("[databse]\n", "t.ini:1: unrecognized section [databse] (did "
	    "you mean [database]?)", "unknown section: suggestion");
	fails("[tasks.x]\ncommand = x\n", "unrecognized section [tasks.x] "
	    "(did you mean [task.NAME]?)", "[tasks.x] suggests [task.NAME]");
	fails("[app.x]\n", "unrecognized section [app.x]", "[app.x]");
	fails("[app]\nname = x\nnmae = y\n", "t.ini:3: unrecognized key "
	    "\"nmae\" in section [app] (did you mean \"name\"?)",
	    "unknown key names file:line, key and section");
	fails("[task.a]\ncommand = x\nfrobnicate = 1\n",
	    "t.ini:3: unrecognized key \"frobnicate\" in section [task.a]",
	    "unknown task key");
	fails("[process.w]\ncommand = x\ndry_run = env\n",
	    "unrecognized key \"dry_run\" in section [process.w]",
	    "a task key in a process section");
	fails("name = x\n", "t.ini:1: key \"name\" outside of any section",
	    "key before any section");
	fails("[app]\nname x\n", "t.ini:2: syntax error", "line without =");
	fails("[app]\n= x\n", "t.ini:2: missing key name",
	    "line with an empty key");
	fails("[app\nname = x\n", "t.ini:1: unterminated section header",
	    "unterminated section header");
	fails("[app] name = x\n", "t.ini:1: unexpected text after section "
	    "header \"[app]\"", "text after the ]");
	fails("[app]\n[env]\n[app]\n", "t.ini:3: duplicate section [app] "
	    "(first at line 1)", "duplicate section");
	fails("[env]\n[env]\n", "t.ini:2: duplicate section [env]",
	    "duplicate [env]");
	fails("[task.a]\ncommand = x\n[task.a]\n", "t.ini:3: duplicate "
	    "section [task.a] (first at line 1)", "duplicate task");
	fails("[app]\nname = a\nname = b\n", "t.ini:3: duplicate key \"name\" "
	    "in section [app] (first at line 2)", "duplicate key");
	fails("[env]\nA = 1\nA = 2\n", "t.ini:3: duplicate key \"A\" in "
	    "section [env]", "duplicate [env] key");
	fails("[env]\n1A = x\n", "t.ini:2: invalid variable name \"1A\"",
	    "invalid [env] name");
	fails("[task.]\n", "t.ini:1: missing name in section [task.]",
	    "empty task name");
	fails("[process]\n", "missing name in section [process]",
	    "[process] without a name");
	fails("[task.a b]\ncommand = x\n", "invalid task name \"a b\"",
	    "task name with a blank");
	fails("[task.a/b]\ncommand = x\n", "invalid task name \"a/b\"",
	    "task name with a slash");
	memset(name, 'n', CONFIG_NAME_MAX + 1);
	name[CONFIG_NAME_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "[task.%s]\ncommand = x\n", name);
	fails(text, "task name too long in section", "task name of 50 bytes "
	    "(inih would cut it)");
	snprintf(text, sizeof(text), "[process.%s]\ncommand = x\n", name);
	fails(text, "process name too long", "process name of 50 bytes");
	fails("[task.a]\ndescription = x\n", "t.ini:1: missing key "
	    "\"command\" in section [task.a]", "task without command");
	fails("[process.web]\n", "t.ini:1: missing key \"command\" in "
	    "section [process.web]", "empty process section");
	fails("[app]\nstop_timeout = 10x\n", "t.ini:2: invalid stop_timeout "
	    "\"10x\" in section [app]: expected a duration",
	    "invalid duration");
	fails("[app]\nstop_timeout = -1s\n", "invalid stop_timeout \"-1s\"",
	    "negative duration");
	fails("[app]\nstop_timeout =\n", "invalid stop_timeout \"\"",
	    "empty duration");
	fails("[database]\nwait = 99999999999h\n", "invalid wait", "huge");
	fails("[task.a]\ncommand = x\nconfirm = maybe\n", "t.ini:3: invalid "
	    "confirm \"maybe\" in section [task.a]: expected yes or no",
	    "invalid yes/no");
	fails("[process.w]\ncommand = x\nstop_signal = TERMINATE\n",
	    "t.ini:3: invalid stop_signal \"TERMINATE\" in section "
	    "[process.w]: expected a signal name", "invalid signal");
	fails("[process.w]\ncommand = x\nstop_signal = 0\n",
	    "invalid stop_signal \"0\"", "signal 0");
	fails("[task.a]\ncommand = x\ndry_run = maybe\n", "invalid dry_run "
	    "\"maybe\" in section [task.a]: expected env, unsupported or "
	    "flag:ARG", "invalid dry_run");
	fails("[task.a]\ncommand = x\ndry_run = flag:\n",
	    "invalid dry_run \"flag:\"", "dry_run flag: without a flag");
	fails("[task.a]\ncommand = x\ndry_run = flag:-n -v\n",
	    "invalid dry_run \"flag:-n -v\"", "dry_run flag: with a blank");
	fails("[process.w]\ncommand = x\nrequire_migrations = always\n",
	    "invalid require_migrations \"always\" in section [process.w]: "
	    "expected off, warn, wait or fail", "invalid require_migrations");
	fails("[database]\naudit = maybe\n", "invalid audit \"maybe\" in "
	    "section [database]: expected required, best-effort or off",
	    "invalid audit");
	fails("[app]\nlog_format = xml\n", "invalid log_format \"xml\" in "
	    "section [app]: expected text or json", "invalid log_format");
	fails("[database]\nschema = a-b\n", "invalid schema \"a-b\"",
	    "schema that is no SQL identifier");
	fails("[app]\nuser = a b\n", "invalid user \"a b\"", "invalid user");
	fails("[app]\nuser = 1:\n", "invalid user \"1:\"", "uid: without gid");
	fails("[app]\nrequire_env = A-B\n", "invalid require_env \"A-B\"",
	    "require_env with an invalid name");
	fails("[task.a]\ncommand = sh -c 'a ; b'\n", "t.ini:2: invalid "
	    "command in section [task.a]: unterminated quote (a \";\" after a "
	    "blank starts a comment)", "an inline comment inside quotes is "
	    "caught as an unterminated quote");
	fails("[task.a]\ncommand = \"x\n", "unterminated quote",
	    "unterminated double quote");
	fails("[task.a]\ncommand =\n", "t.ini:2: invalid command in section "
	    "[task.a]: empty command", "empty command");
	fails("[shell]\ncommand = ${NOPE}\n", "invalid command in section "
	    "[shell]: empty command", "a command that expands to nothing");
	fails("[app]\nname = ${A\n", "t.ini:2: invalid value of \"name\" in "
	    "section [app]: unterminated ${", "expansion error has file:line");
	fails("[env]\nX = ${A:-${B}\n", "t.ini:2: invalid value of \"X\" in "
	    "section [env]: unterminated ${", "expansion error in [env]");
	fails("[app]\nrelease_file = /nonexistent/RELEASE\n", "t.ini:2: could "
	    "not read release_file \"/nonexistent/RELEASE\": No such file",
	    "missing release_file");
	fails("[app]\nenv_file = /nonexistent/.env\n", "t.ini:2: could not "
	    "read env_file \"/nonexistent/.env\": No such file",
	    "missing env_file");
	requires_env("[app]\nrequire_env = NOPE_A HOME NOPE_B\n", no_env,
	    "t.ini:2: missing "
	    "required environment variables (require_env): NOPE_A HOME "
	    "NOPE_B", "require_env names every missing variable");
}

static void
test_inih_behaviour(void)
{
	struct strbuf sb = { NULL, 0, 0 };
	struct config cfg;
	size_t i;

	is_int(load(&cfg, "[env]\nA = a;b\nB = a ; b\nC = x # y\n"
	    "D = \"q\"\n  E = indented\n"), 0, "comment rules load");
	is_str(env_get(&cfg.env, "A"), "a;b", "';' without a blank before it "
	    "is kept");
	is_str(env_get(&cfg.env, "B"), "a", "' ;' starts an inline comment");
	is_str(env_get(&cfg.env, "C"), "x # y", "an inline '#' is kept");
	is_str(env_get(&cfg.env, "D"), "\"q\"", "quotes are kept");
	is_str(env_get(&cfg.env, "E"), "indented", "an indented line is an "
	    "ordinary key (no continuation lines)");
	config_release(&cfg);

	is_int(load(&cfg, "\xEF\xBB\xBF[app]\r\nname = crlf\r\n"), 0,
	    "a UTF-8 BOM and CRLF lines load");
	is_str(cfg.app.name, "crlf", "CR is stripped");
	config_release(&cfg);

	is_int(load(&cfg, "[ app ]  ; comment\nname = spaced\n"), 0,
	    "blanks inside the brackets and a comment after them");
	is_str(cfg.app.name, "spaced", "the section is found");
	config_release(&cfg);

	/* inih's build cuts lines at 200 bytes: we lift that */
	strbuf_addstr(&sb, "[task.long]\n\n\ncommand = echo");
	for (i = 0; i < 500; i++)
		strbuf_addstr(&sb, " word");
	strbuf_addstr(&sb, "\ndescription = after\n");
	is_int(load(&cfg, sb.buf), 0, "a 2500-byte line loads");
	ok(cfg.ntasks == 1 && strlen(cfg.tasks[0].command) == 4 + 500 * 5,
	    "and is read whole");
	is_str(cfg.ntasks ? cfg.tasks[0].description : NULL, "after",
	    "the next line is read as usual");
	config_release(&cfg);
	strbuf_release(&sb);

	strbuf_addstr(&sb, "[app]\nname = ");
	for (i = 0; i < 9000; i++)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\n");
	fails(sb.buf, "t.ini:2: line too long: at most 8192 bytes",
	    "a line over 8192 bytes is an error");
	strbuf_release(&sb);

	/* line numbers stay right after comments, blanks and long lines */
	strbuf_addstr(&sb, "; c\n\n# c\n[app]\nname = ");
	for (i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'y');
	strbuf_addstr(&sb, "\n\n  \nbad = 1\n");
	fails(sb.buf, "t.ini:8: unrecognized key \"bad\"", "line numbers "
	    "count every line");
	strbuf_release(&sb);
}

static void
test_expand(void)
{
	char *envp[] = { V("A=alpha"), V("EMPTY="), V("B=beta"), NULL };
	struct env e = { { NULL, 0, 0 } };
	const char *err = NULL;
	char *s;
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "plain", "plain" },
		{ "${A}", "alpha" },
		{ "x${A}y${B}z", "xalphaybetaz" },
		{ "${UNSET}", "" },
		{ "${UNSET:-dflt}", "dflt" },
		{ "${EMPTY:-dflt}", "dflt" },
		{ "${A:-dflt}", "alpha" },
		{ "${UNSET:-}", "" },
		{ "${UNSET:-${A}}", "alpha" },
		{ "${UNSET:-${NOPE:-deep}}", "deep" },
		{ "${UNSET:-a ${B} c}", "a beta c" },
		{ "${A:-${NOPE:-unused}}", "alpha" },
		{ "$$", "$" },
		{ "$${A}", "${A}" },
		{ "cost $5", "cost $5" },
		{ "$HOME", "$HOME" },
		{ "a}b", "a}b" },
		{ "$", "$" },
		{ "${UNSET:-x:-y}", "x:-y" },
		{ "${UNSET:-$$}", "$" },
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "${A", "unterminated ${" },
		{ "${", "unterminated ${" },
		{ "${A:-x", "unterminated ${" },
		{ "${A:-${B}", "unterminated ${" },
		{ "${}", "invalid variable name in ${...}" },
		{ "${1X}", "invalid variable name in ${...}" },
		{ "${A-x}", "invalid ${...}: use ${VAR} or ${VAR:-default}" },
		{ "${A:=x}", "invalid ${...}: use ${VAR} or ${VAR:-default}" },
		{ "${A:-${}}", "invalid variable name in ${...}" },
	};
	size_t i;
	char name[64];

	env_init_from(&e, envp);
	for (i = 0; i < ARRAY_LEN(good); i++) {
		s = config_expand(good[i].in, &e, &err);
		snprintf(name, sizeof(name), "expand %s", good[i].in);
		is_str(s, good[i].out, name);
		free(s);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		s = config_expand(bad[i].in, &e, &err);
		snprintf(name, sizeof(name), "expand %s fails", bad[i].in);
		ok(s == NULL, name);
		is_str(err, bad[i].why, "with its reason");
		free(s);
	}
	s = config_expand("${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-"
	    "${A:-${A:-${A:-${A:-${A:-${A:-${A:-${A:-x}}}}}}}}}}}}}}}}}}", &e,
	    &err);
	ok(s == NULL && strstr(err, "nested too deeply"), "deep nesting is "
	    "bounded");
	free(s);
	env_release(&e);
}

static void
test_split(void)
{
	static const struct {
		const char *in;
		const char *out[6];
	} good[] = {
		{ "a", { "a" } },
		{ "  a \t b  ", { "a", "b" } },
		{ "sh -c 'echo $HOME; exit 3'", { "sh", "-c",
		    "echo $HOME; exit 3" } },
		{ "'a\\b' \"c\\\"d\\\\e\\n\"", { "a\\b", "c\"d\\e\\n" } },
		{ "a\\ b c", { "a b", "c" } },
		{ "x'y z'\"w\"", { "xy zw" } },
		{ "'' \"\" a", { "", "", "a" } },
		{ "\"it's\"", { "it's" } },
		{ "end\\", { "end\\" } },
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "empty command" },
		{ "   \t", "empty command" },
		{ "'abc", "unterminated quote" },
		{ "a \"b", "unterminated quote" },
		{ "a \"b\\\"", "unterminated quote" },
	};
	const char *err;
	char **argv, name[128], *sentinel[1] = { NULL };
	size_t i, j;
	int same;

	for (i = 0; i < ARRAY_LEN(good); i++) {
		argv = NULL;
		same = config_split_argv(good[i].in, &argv, &err) == 0;
		for (j = 0; same && good[i].out[j]; j++)
			same = argv[j] && strcmp(argv[j], good[i].out[j]) == 0;
		same = same && argv[j] == NULL;
		snprintf(name, sizeof(name), "split [%s]", good[i].in);
		ok(same, name);
		strv_free(argv);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		argv = sentinel;
		snprintf(name, sizeof(name), "split [%s] fails", bad[i].in);
		ok(config_split_argv(bad[i].in, &argv, &err) == -1 &&
		    argv == NULL, name);
		is_str(err, bad[i].why, "with its reason");
	}
}

static void
test_environment(void)
{
	struct config cfg;
	char text[3 * PATH_MAX], e1[PATH_MAX + 32], e2[PATH_MAX + 32],
	    e3[PATH_MAX + 32], e4[PATH_MAX + 32], e5[PATH_MAX + 32];
	char *envp[8];
	size_t i;
	long inherited = -1, from_file = -1;

	put("dbpass", "s3cret\n\n");
	put("dburl", "postgres://u:p@h/db\n");
	put("cert", "-----BEGIN CERTIFICATE-----\n");
	put("other", "from-file\n");
	put("tok", "tok-value\n");
	put(".env",
	    "# comment\n"
	    "\n"
	    "FROM_ENV_FILE=one\n"
	    "export EXPORTED=two\n"
	    "  SPACED = three  \n"
	    "SQ='single # not a comment'\n"
	    "DQ=\"dq \\\"x\\\" \\\\ y\" # comment\n"
	    "BARE=bare value # comment\n"
	    "EMPTY=\n"
	    "INHERITED=from-env-file\n"
	    "NOEXPAND=${FROM_ENV_FILE}\n"
	    "CRLF=crlf\r\n"
	    "ORDER=env_file\n");
	snprintf(e1, sizeof(e1), "DB_PASSWORD_FILE=%s/dbpass", dir);
	snprintf(e2, sizeof(e2), "DATABASE_URL_FILE=%s/dburl", dir);
	snprintf(e3, sizeof(e3), "SSL_CERT_FILE=%s/cert", dir);
	snprintf(e4, sizeof(e4), "OTHER_FILE=%s/other", dir);
	snprintf(e5, sizeof(e5), "ENVDIR=%s", dir);
	envp[0] = V("INHERITED=real");
	envp[1] = e1;
	envp[2] = e2;
	envp[3] = e3;
	envp[4] = e4;
	envp[5] = e5;
	envp[6] = NULL;
	snprintf(text, sizeof(text),
	    "[app]\n"
	    "env_file = ${ENVDIR:-/nonexistent}/.env\n"
	    "require_env = DB_PASSWORD DATABASE_URL FROM_ENV_FILE\n"
	    "[env]\n"
	    "INHERITED = from-ini\n"
	    "FROM_ENV_FILE = from-ini\n"
	    "PORT = 8080\n"
	    "LISTEN = 0.0.0.0:${PORT}\n"
	    "ORDER = ini\n"
	    "USES_OTHER = ${OTHER}\n"
	    "[process.web]\n"
	    "command = serve --port ${PORT} --db ${DATABASE_URL}\n");
	if (!is_int(load_env(&cfg, text, envp), 0, "env_file, *_FILE and "
	    "[env] load"))
		printf("# %s", errbuf);
	ok(cfg.app.env_file && strstr(cfg.app.env_file, dir) &&
	    strstr(cfg.app.env_file, "/.env"), "env_file path is expanded "
	    "against the inherited environment");
	is_str(env_get(&cfg.env, "INHERITED"), "real", "the real environment "
	    "is never overridden (env_file, [env])");
	is_str(env_get(&cfg.env, "FROM_ENV_FILE"), "one", "env_file comes "
	    "before [env]");
	is_str(env_get(&cfg.env, "ORDER"), "env_file", "and [env] only fills "
	    "what is unset");
	is_str(env_get(&cfg.env, "EXPORTED"), "two", "env_file: export NAME=");
	is_str(env_get(&cfg.env, "SPACED"), "three", "env_file: blanks "
	    "around = and the value");
	is_str(env_get(&cfg.env, "SQ"), "single # not a comment",
	    "env_file: single quotes are literal");
	is_str(env_get(&cfg.env, "DQ"), "dq \"x\" \\ y", "env_file: double "
	    "quotes with escapes, then a comment");
	is_str(env_get(&cfg.env, "BARE"), "bare value", "env_file: a bare "
	    "value ends at \" #\"");
	is_str(env_get(&cfg.env, "EMPTY"), "", "env_file: an empty value");
	is_str(env_get(&cfg.env, "NOEXPAND"), "${FROM_ENV_FILE}",
	    "env_file values are literal");
	is_str(env_get(&cfg.env, "CRLF"), "crlf", "env_file: CRLF lines");
	is_str(env_get(&cfg.env, "DB_PASSWORD"), "s3cret", "NAME_FILE is read "
	    "into NAME, trailing newlines trimmed");
	is_str(env_get(&cfg.env, "DATABASE_URL"), "postgres://u:p@h/db",
	    "DATABASE_URL_FILE is read");
	ok(env_get(&cfg.env, "SSL_CERT") == NULL, "SSL_CERT_FILE is left "
	    "alone (not a secret the config uses)");
	is_str(env_get(&cfg.env, "OTHER"), "from-file", "a NAME_FILE whose "
	    "NAME the config uses as ${NAME} is read");
	is_str(env_get(&cfg.env, "LISTEN"), "0.0.0.0:8080", "[env] values "
	    "expand earlier [env] values");
	is_str(env_get(&cfg.env, "USES_OTHER"), "from-file", "and *_FILE "
	    "values");
	is_str(cfg.nprocs ? cfg.procs[0].command : NULL, "serve --port 8080 "
	    "--db postgres://u:p@h/db", "commands expand the final "
	    "environment");
	for (i = 0; i < cfg.env.vars.n; i++) {
		if (starts_with(cfg.env.vars.v[i], "INHERITED="))
			inherited = (long)i;
		if (starts_with(cfg.env.vars.v[i], "FROM_ENV_FILE="))
			from_file = (long)i;
	}
	ok(inherited == 0 && from_file > 5, "inherited variables come first, "
	    "in their order");
	config_release(&cfg);

	/* both set */
	envp[0] = V("DB_PASSWORD=x");
	envp[1] = e1;
	envp[2] = NULL;
	fails_env("[app]\n", envp, "DB_PASSWORD and DB_PASSWORD_FILE are "
	    "both set: set only one", "NAME and NAME_FILE both set");
	envp[0] = V("DB_PASSWORD=");
	is_int(load_env(&cfg, "", envp), 0, "an empty NAME does not count as "
	    "set");
	is_str(env_get(&cfg.env, "DB_PASSWORD"), "s3cret", "and is filled");
	config_release(&cfg);
	envp[0] = V("API_TOKEN_FILE=/nonexistent/token");
	envp[1] = NULL;
	fails_env("", envp, "could not read API_TOKEN_FILE "
	    "\"/nonexistent/token\": No such file", "a missing secret file");
	envp[0] = V("SSL_CERT_FILE=/nonexistent/cert");
	is_int(load_env(&cfg, "", envp), 0, "a missing SSL_CERT_FILE is no "
	    "error");
	config_release(&cfg);
	snprintf(e1, sizeof(e1), "MY_PIN_FILE=%s/tok", dir);
	envp[0] = e1;
	is_int(load_env(&cfg, "[app]\nsecret_env = MY_PIN\n", envp), 0,
	    "secret_env names are wanted");
	is_str(env_get(&cfg.env, "MY_PIN"), "tok-value", "MY_PIN_FILE read");
	config_release(&cfg);
	is_int(load_env(&cfg, "[app]\nrequire_env = MY_PIN\n", envp), 0,
	    "require_env names are wanted");
	is_str(env_get(&cfg.env, "MY_PIN"), "tok-value", "MY_PIN_FILE read");
	config_release(&cfg);

	/* env_file errors */
	put("bad.env", "OK=1\nnot a pair\n");
	snprintf(text, sizeof(text), "[app]\nenv_file = %s/bad.env\n", dir);
	fails(text, "/bad.env:2: invalid line in env_file: expected "
	    "NAME=VALUE", "env_file line without =");
	put("bad.env", "1X=1\n");
	fails(text, "/bad.env:1: invalid variable name \"1X\" in env_file",
	    "env_file invalid name");
	put("bad.env", "A=\"open\n");
	fails(text, "/bad.env:1: invalid value of \"A\" in env_file: "
	    "unterminated quote", "env_file unterminated quote");
	put("bad.env", "A='x' y\n");
	fails(text, "unexpected text after the quoted value",
	    "env_file junk after quotes");

	/* require_env sees the whole computed environment */
	envp[0] = V("SET_BUT_EMPTY=");
	envp[1] = NULL;
	requires_env("[app]\nrequire_env = FROM_INI SET_BUT_EMPTY\n[env]\n"
	    "FROM_INI = x\n", envp, "t.ini:2: missing required environment "
	    "variable (require_env): SET_BUT_EMPTY", "require_env: an empty "
	    "variable is missing, an [env] one is not");
}

static void
test_release(void)
{
	struct config cfg;
	char text[3 * PATH_MAX];
	char *envp[] = { V("RELEASE="), NULL };

	put("RELEASE", "  v9.9.9 \n\n");
	snprintf(text, sizeof(text), "[app]\nrelease = ${RELEASE}\n"
	    "release_file = %s/RELEASE\n", dir);
	is_int(load_env(&cfg, text, envp), 0, "release empty, release_file");
	is_str(cfg.app.release, "v9.9.9", "release_file's text, trimmed");
	config_release(&cfg);
	envp[0] = V("RELEASE=from-env");
	is_int(load_env(&cfg, text, envp), 0, "release set, release_file");
	is_str(cfg.app.release, "from-env", "release wins");
	config_release(&cfg);
}

static void
test_files(void)
{
	struct config cfg;
	char path[2 * PATH_MAX], env1[2 * PATH_MAX + 32];
	char *envp[] = { env1, NULL };
	char cwd[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s", put("ep.ini",
	    "[app]\nname = fromfile\n[task.t]\ncommand = x\nbogus = 1\n"));
	rc = load_file(&cfg, path, no_env);
	ok(rc == -1 && strstr(errbuf, "/ep.ini:5: unrecognized key \"bogus\" "
	    "in section [task.t]"), "config_load: errors name the file");
	put("ep.ini", "[app]\nname = fromfile\n");
	is_int(load_file(&cfg, path, no_env), 0, "config_load -c FILE");
	is_str(cfg.app.name, "fromfile", "reads it");
	is_str(cfg.path, path, "cfg.path is the file");
	config_release(&cfg);
	snprintf(env1, sizeof(env1), "ENTRYPOINT_CONFIG=%s", path);
	is_int(load_file(&cfg, NULL, envp), 0, "$ENTRYPOINT_CONFIG");
	is_str(cfg.app.name, "fromfile", "reads it");
	config_release(&cfg);
	snprintf(env1, sizeof(env1), "ENTRYPOINT_CONFIG=%s/nope.ini", dir);
	rc = load_file(&cfg, NULL, envp);
	ok(rc == -1 && strstr(errbuf, "could not read config file") &&
	    strstr(errbuf, "nope.ini\": No such file"), "a named missing "
	    "file is an error");
	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	ok(load_file(&cfg, path, no_env) == -1, "-c with a missing file "
	    "is an error");

	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) < 0)
		return;
	unlink("ep.ini");
	is_int(load_file(&cfg, NULL, no_env), 0, "no ./entrypoint.ini: "
	    "defaults");
	ok(cfg.path == NULL && cfg.nprocs == 0, "with no path");
	config_release(&cfg);
	put("entrypoint.ini", "[app]\nname = cwd\n");
	is_int(load_file(&cfg, NULL, no_env), 0, "./entrypoint.ini");
	is_str(cfg.app.name, "cwd", "is read");
	config_release(&cfg);
	put("nul.ini", "[app]\nname = a\n");
	snprintf(path, sizeof(path), "%s/nul.ini", dir);
	{
		FILE *f = fopen(path, "a");

		if (f) {
			fwrite("x = \0y\n", 1, 7, f);
			fclose(f);
		}
	}
	ok(load_file(&cfg, path, no_env) == -1 &&
	    strstr(errbuf, "nul.ini:3: invalid NUL byte"), "a NUL byte");
	if (chdir(cwd) < 0)
		return;
}

static int
do_dump(void *arg)
{
	config_dump(arg);
	return 0;
}

static void
test_dump(void)
{
	static char out[16384];
	char *envp[] = { V("API_KEY=k-123"), V("DATABASE_URL=postgres://u:pw1@h/d"),
	    V("KEYBOARD_LAYOUT=us"), NULL };
	struct config cfg;

	is_int(load_env(&cfg, "[app]\nname = d\nsecret_env = MINE\n"
	    "[env]\nMINE = mine-secret\n[database]\nurl = ${DATABASE_URL}\n"
	    "[process.web]\ncommand = run --password=pw2 'a b'\n"
	    "[task.t]\ncommand = t\ndry_run = flag:-n\n", envp), 0,
	    "dump config loads");
	capture(1, do_dump, &cfg, out, sizeof(out));
	ok(strstr(out, "[app]\nname = d\n") != NULL, "dump: [app] name");
	ok(strstr(out, "stop_timeout = 10s\n") != NULL, "dump: durations");
	ok(strstr(out, "url = postgres://u:********@h/d\n") != NULL,
	    "dump: the url's password is masked");
	ok(strstr(out, "command = run --password=******** 'a b'\n") != NULL,
	    "dump: command arguments masked and quoted");
	ok(strstr(out, "[process.web]\n") && strstr(out, "stop_signal = TERM"),
	    "dump: process section");
	ok(strstr(out, "stop_timeout = 10s\n\n[task.t]") != NULL,
	    "dump: a process's stop_timeout shows [app]'s");
	ok(strstr(out, "dry_run = flag:-n\n") != NULL, "dump: dry_run");
	ok(strstr(out, "API_KEY = ********\n") && strstr(out, "MINE = ********")
	    && strstr(out, "KEYBOARD_LAYOUT = us\n"), "dump: [env] masked");
	ok(!strstr(out, "pw1") && !strstr(out, "pw2") && !strstr(out, "k-123")
	    && !strstr(out, "mine-secret"), "dump: no secret anywhere");
	ok(!strstr(out, "release_file"), "dump: release_file is shown as "
	    "release");
	config_release(&cfg);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	char tmpl[] = "/tmp/t_config.XXXXXX";

	if (!mkdtemp(tmpl))
		return 1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	test_defaults();
	test_every_key();
	test_errors();
	test_inih_behaviour();
	test_expand();
	test_split();
	test_environment();
	test_release();
	test_files();
	test_dump();
	if (nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) < 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
