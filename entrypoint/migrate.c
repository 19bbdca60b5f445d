/*
 * migrate.c - `entrypoint migrate`: the table of subcommands and the one
 * runner that does their shared steps; see migrate.h and DESIGN.md
 * "Migrations".
 *
 * The set of migrations (files joined with rows) is migset.c; the
 * database session (lock, apply, revert, records) is migsession.c; a
 * file's content is sqlfile.c.
 *
 * The migrations directory ([database] migrations, default "migrations") is
 * relative to the working directory, the image's WORKDIR, like
 * ./entrypoint.ini.
 *
 * A run: read the files and their checksums while connecting (a bad file
 * changes nothing), write the audit row on the same session, take the
 * migration lock and read what is applied in one round trip, run the
 * subcommand, complete the audit row.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "exitcode.h"
#include "log.h"
#include "mask.h"
#include "migplan.h"
#include "migrate.h"
#include "migsession.h"
#include "migset.h"
#include "sig.h"
#include "takeover.h"
#include "util.h"

/* What one `entrypoint migrate ...` asked for. */
struct migrate {
	const struct config *cfg;
	const struct migrate_cmd *cmd;
	const char *arg;	/* NAME, VERSION or N */
	const char *flag;	/* --applied or --rolled-back */
	int check;		/* status --check */
	int dry_run;		/* plan, down --dry-run */
	int yes;		/* down --yes */
	char task[64];		/* the audit row's task: "down 2" */
	int json, strict;	/* plan --json, --strict */
	long count;		/* down N */
	long version;		/* baseline/resolve VERSION */
	struct migset set;
	struct migsession ses;
};

static int mig_up(struct migrate *mg);
static int mig_plan(struct migrate *mg);
static int mig_status(struct migrate *mg);
static int mig_down(struct migrate *mg);
static int mig_create(struct migrate *mg);
static int mig_baseline(struct migrate *mg);
static int mig_resolve(struct migrate *mg);

static const struct migrate_cmd commands[] = {
	{ "up", mig_up, MIG_DB | MIG_AUDIT | MIG_LOCK | MIG_CREATE |
	    MIG_CLEAN, "up",
	    "apply the pending migrations, each in its own transaction" },
	{ "status", mig_status, MIG_DB | MIG_FULL_ROWS | MIG_OPT_CHECK,
	    "status [--check]",
	    "list every migration and its state (--check: exit 1 when one "
	    "is pending)" },
	{ "plan", mig_plan, MIG_DB | MIG_LOCK | MIG_CLEAN | MIG_OPT_DRY,
	    "plan [--json] [--strict] | --dry-run",
	    "try the pending migrations in one transaction and roll back, "
	    "showing the locks and rewrites each statement takes" },
	{ "down", mig_down, MIG_DB | MIG_AUDIT | MIG_LOCK | MIG_CLEAN |
	    MIG_ARG_OPTIONAL | MIG_OPT_YES | MIG_OPT_DRY | MIG_TASK,
	    "down [N] [--yes] [--dry-run]",
	    "revert the last N applied migrations (default 1); asks first, "
	    "or takes --yes; --dry-run reverts and rolls back" },
	{ "create", mig_create, MIG_ARG_REQUIRED, "create NAME",
	    "write an empty migration, in the folder's own layout" },
	{ "baseline", mig_baseline, MIG_DB | MIG_AUDIT | MIG_LOCK |
	    MIG_CREATE | MIG_ARG_REQUIRED | MIG_TASK, "baseline VERSION",
	    "mark the files up to VERSION applied without running them" },
	{ "resolve", mig_resolve, MIG_DB | MIG_AUDIT | MIG_LOCK |
	    MIG_ARG_REQUIRED | MIG_OPT_RESOLVE | MIG_TASK,
	    "resolve VERSION --applied|--rolled-back",
	    "settle a transaction:false migration recorded failed or running" },
};

const struct migrate_cmd *
migrate_commands(size_t *n)
{
	*n = ARRAY_LEN(commands);
	return commands;
}

static const struct migrate_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
mig_up(struct migrate *mg)
{
	struct migset *set = &mg->set;
	size_t *pend, np, i;
	long long t0 = now_ms();
	const struct mig *top;
	int code = 0;

	np = migset_pending(set, &pend);
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &set->m[pend[i]];

		if (mig_parse(m) < 0)
			code = EXIT_DATAERR;
	}
	top = migset_top(set);
	if (!code && np > 0 && top && migset_cmp(&set->m[pend[0]], top) < 0)
		log_warn("migration %s is older than the latest applied (%s); "
		    "applying it anyway", mig_label(&set->m[pend[0]]),
		    mig_label(top));
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &set->m[pend[i]];

		code = migsession_apply(&mg->ses, m, i + 1, np);
		if (!code) {
			m->has_row = 1;
			m->status = "succeeded";
			m->row_checksum = m->f.checksum;
		}
	}
	migsession_done(&mg->ses);
	top = migset_top(set);
	if (code)
		log_error("stopped after %zu of %zu pending migrations "
		    "(exit %d)", i ? i - 1 : 0, np, code);
	else if (np == 0)
		log_info("nothing to apply: database at %s",
		    top ? mig_label(top) : "no migrations");
	else
		log_info("applied %zu migration%s in %lld ms: database at %s",
		    np, np == 1 ? "" : "s", now_ms() - t0,
		    top ? mig_label(top) : "no migrations");
	free(pend);
	return code;
}

/* migrate plan: apply the pending ones in one transaction, roll back. */
static int
mig_plan(struct migrate *mg)
{
	struct migset *set = &mg->set;
	struct migplan pl;
	size_t *pend, np, i, untried = 0;
	int code = 0, after_enum = 0;

	np = migset_pending(set, &pend);
	for (i = 0; i < np && !code; i++)
		if (mig_parse(&set->m[pend[i]]) < 0)
			code = EXIT_DATAERR;
	if (code || np == 0) {
		if (!code && mg->json)
			log_info("nothing to apply");
		else if (!code)
			printf("nothing to apply\n");
		free(pend);
		return code;
	}
	memset(&pl, 0, sizeof(pl));
	code = migsession_try_begin(&mg->ses);
	if (!code)
		code = migplan_begin(&pl, &mg->ses, mg->json);
	for (i = 0; i < np && !code; i++) {
		struct mig *m = &set->m[pend[i]];

		if (m->f.up.no_transaction) {
			migplan_skip(&pl, m);
			continue;
		}
		code = migplan_try(&pl, m, after_enum, untried > 0);
		if (code == MIGSESSION_UNTRIED) {
			if (mg->json)
				log_warn("%s cannot be tried in the dry run's one "
				    "transaction: it needs what an earlier "
				    "pending migration commits first: %s",
				    mig_label(m), mg->ses.untried);
			else
				printf("unknown %s (cannot be tried in the dry "
				    "run's one transaction: it needs what an "
				    "earlier pending migration commits first: "
				    "%s)\n", mig_label(m), mg->ses.untried);
			untried++;
			code = 0;
		}
		after_enum |= m->f.up.adds_enum_value;
	}
	/* roll back (and release plan's locks) before anything else */
	migsession_try_end(&mg->ses);
	if (!code && mg->strict && pl.warnings) {
		log_error("plan --strict: %zu warning%s", pl.warnings,
		    pl.warnings == 1 ? "" : "s");
		code = 1;
	}
	migplan_release(&pl);
	if (code == EXIT_DATAERR)
		log_error("dry run: migrate would fail; nothing was changed");
	else if (!code && untried)
		log_info("dry run: %zu pending migration%s, %zu of them could "
		    "not be tried; rolled back, nothing was changed", np,
		    np == 1 ? "" : "s", untried);
	else if (!code)
		log_info("dry run: %zu pending migration%s would apply; "
		    "rolled back, nothing was changed", np, np == 1 ? "" : "s");
	free(pend);
	return code;
}

/*
 * The migrations down N reverts, newest first, in todo.  Return how many,
 * or -1 after logging one that cannot be reverted.
 */
static long
down_list(struct migrate *mg, struct mig **todo)
{
	struct migset *set = &mg->set;
	size_t i;
	long n = 0;

	for (i = set->n; i-- > 0 && n < mg->count;) {
		struct mig *m = &set->m[i];

		if (!m->has_row)
			continue;
		if (!m->has_file)
			return log_error("cannot revert %s: it is a baseline "
			    "marker without a file", mig_label(m));
		if (mig_parse(m) < 0)
			return -1;
		if (!m->f.down.present)
			return log_error("cannot revert %s: \"%s\" has no down "
			    "part (%s)", mig_label(m), m->f.path,
			    layout_down_hint(set->lay.format));
		todo[n++] = m;
	}
	return n;
}

/*
 * Read one line from the terminal on stdin into line (without its
 * newline, *len bytes; the rest of a long line is dropped).  Return 0, or
 * the number of a TERM/INT/HUP/QUIT that came first.
 */
static int
read_answer(char *line, size_t size, size_t *len)
{
	struct pollfd p[2];
	char c;
	int s, i;

	*len = 0;
	for (i = 0; i < 100000; i++) {
		p[0].fd = STDIN_FILENO;
		p[1].fd = sig_fd();
		p[0].events = p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, p[1].fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return 0;
		if (p[1].revents) {
			s = sig_read(NULL);
			if (s == SIGTERM || s == SIGINT || s == SIGHUP ||
			    s == SIGQUIT)
				return s;
			continue;
		}
		if (!p[0].revents)
			continue;
		if (read_nointr(STDIN_FILENO, &c, 1) != 1 || c == '\n')
			break;
		if (*len + 1 < size)
			line[(*len)++] = c;
	}
	line[*len] = '\0';
	return 0;
}

/*
 * Ask on the terminal whether to revert todo[0..n).  Return 0 for yes,
 * EXIT_NOPERM for anything else, 128+N for a TERM/INT/HUP/QUIT meanwhile
 * (signals are blocked: they arrive on the signalfd, not in read(2)).
 */
static int
confirm_down(const struct migrate *mg, struct mig **todo, long n)
{
	char line[64];
	size_t len = 0;
	long k;
	int s;

	fprintf(stderr, "entrypoint: migrate down will run the down "
	    "section of:\n");
	for (k = 0; k < n; k++)
		fprintf(stderr, "  %s\n", mig_label(todo[k]));
	fprintf(stderr, "and delete %s record%s in %s.migrations. Go on? "
	    "[y/N] ", n == 1 ? "its" : "their", n == 1 ? "" : "s",
	    mg->ses.db.schema);
	fflush(stderr);
	s = read_answer(line, sizeof(line), &len);
	if (s)
		return EXIT_SIGNAL_BASE + s;
	if (len == 1 && (line[0] == 'y' || line[0] == 'Y'))
		return 0;
	if (len == 3 && strncasecmp(line, "yes", 3) == 0)
		return 0;
	log_error("migrate down not confirmed; nothing was reverted");
	return EXIT_NOPERM;
}

static int
mig_down(struct migrate *mg)
{
	struct mig **todo = xcalloc(mg->set.n + 1, sizeof(*todo));
	long n = down_list(mg, todo), k;
	int code = 0;

	if (n < 0)
		code = EXIT_DATAERR;
	else if (n == 0)
		log_info("nothing to revert: no migration is applied");
	else if (n < mg->count)
		log_info("only %ld migration%s applied: reverting %s", n,
		    n == 1 ? " is" : "s are", n == 1 ? "it" : "them");
	if (!code && n > 0 && !mg->yes && !mg->dry_run)
		code = confirm_down(mg, todo, n);
	if (!code && n > 0 && mg->dry_run)
		code = migsession_try_begin(&mg->ses);
	for (k = 0; k < n && !code; k++) {
		if (!mg->dry_run) {
			code = migsession_revert(&mg->ses, todo[k],
			    (size_t)k + 1, (size_t)n);
			continue;
		}
		code = migsession_try_revert(&mg->ses, todo[k]);
		if (code == MIGSESSION_UNTRIED) {
			printf("skip   %s (transaction:false: cannot be tried "
			    "inside the dry run's transaction)\n",
			    mig_label(todo[k]));
			code = 0;
		} else if (!code) {
			printf("ok     %s reverted\n", mig_label(todo[k]));
		}
	}
	if (mg->dry_run && n > 0) {
		migsession_try_end(&mg->ses);
		if (!code)
			log_info("dry run: %ld migration%s would be reverted; "
			    "rolled back, nothing was changed", n,
			    n == 1 ? "" : "s");
	}
	mg->ses.cur = NULL;
	free(todo);
	return code;
}

/* Print one status line; return the state. */
static enum mig_state
status_line(const struct migset *set, const struct mig *m)
{
	enum mig_state s = mig_state(m);
	const char *label = mig_label(m), *name = mig_state_name(s);

	switch (s) {
	case ST_PENDING:
		printf("%-8s %s\n", name, label);
		break;
	case ST_APPLIED:
	case ST_BASELINE:
		printf("%-8s %-40s %s%s%s\n", name, label, m->applied_at,
		    !*m->release ? "" : starts_with(m->release,
		    TAKEOVER_RELEASE) ? "  " : "  release ", m->release);
		break;
	case ST_CHANGED:
		printf("%-8s %-40s %s  the file differs from what was "
		    "applied\n", name, label, m->applied_at);
		break;
	case ST_MISSING:
		printf("%-8s %-40s %s  no file in %s/\n", name, label,
		    m->applied_at, set->dir);
		break;
	case ST_FAILED:
	case ST_RUNNING:
		printf("%-8s %-40s %s  outside a transaction%s%s; see "
		    "'migrate resolve'\n", name, label, m->applied_at,
		    m->error ? ": " : "", m->error ? m->error : "");
		break;
	}
	return s;
}

static int
mig_status(struct migrate *mg)
{
	size_t i, pending = 0, bad = 0;
	enum mig_state s;

	for (i = 0; i < mg->set.n; i++) {
		s = status_line(&mg->set, &mg->set.m[i]);
		/* a pending file is judged as migrate would judge it */
		if (s == ST_PENDING && mig_parse(&mg->set.m[i]) == 0)
			pending++;
		else if (s != ST_APPLIED && s != ST_BASELINE)
			bad++;
	}
	if (mg->set.n == 0)
		printf("no migrations in %s/\n", mg->set.dir);
	if (bad) {
		log_error("%zu migration%s changed, missing, failed or invalid",
		    bad, bad == 1 ? " is" : "s are");
		return EXIT_DATAERR;
	}
	if (mg->check && pending)
		return 1;
	return 0;
}

static int
mig_baseline(struct migrate *mg)
{
	struct migset *set = &mg->set;
	struct mig *m = migset_find_arg(set, mg->arg);
	size_t i, n = 0, upto = 0;
	long long v = -1;
	int code;

	for (i = 0; i < set->n; i++)
		if (set->m[i].has_row) {
			log_error("the database already has migration "
			    "history (%s): baseline is for adopting a database "
			    "without it", mig_label(&set->m[i]));
			return EXIT_DATAERR;
		}
	if (m) {		/* a file: it and every one before it */
		upto = (size_t)(m - set->m) + 1;
	} else if (!layout_keyed(set->lay.format) &&
	    parse_long(mg->arg, 0, LONG_MAX, &mg->version) == 0) {
		v = mg->version;	/* a number between files: a marker */
		while (upto < set->n && set->m[upto].f.version <= v)
			upto++;
	} else {
		log_error("no migration \"%s\" in %s/ (name it as 'migrate "
		    "status' shows it, or by its version as written)",
		    mg->arg, set->dir);
		return EXIT_DATAERR;
	}
	code = migsession_baseline(&mg->ses, upto, m ? NULL : &v, &n);
	if (code)
		return code;
	for (i = 0; i < n; i++)
		printf("baseline %s\n", mig_label(&set->m[i]));
	log_info("baseline at %s: %zu migration%s marked applied without "
	    "running", m ? mig_label(m) : mg->arg, n, n == 1 ? "" : "s");
	return 0;
}

static int
mig_resolve(struct migrate *mg)
{
	int applied = strcmp(mg->flag, "--applied") == 0;
	struct mig *m = migset_find_arg(&mg->set, mg->arg);
	int code;

	if (!m || !m->has_row || (strcmp(m->status, "failed") != 0 &&
	    strcmp(m->status, "running") != 0)) {
		log_error("migration %s is not recorded as failed or running; "
		    "nothing to resolve", mg->arg);
		return EXIT_DATAERR;
	}
	code = migsession_resolve(&mg->ses, m, applied);
	if (!code)
		log_info("migration %s %s", mig_label(m), applied ?
		    "marked applied" : "forgotten: the next migrate runs it "
		    "again");
	return code;
}

static int
valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int
mig_create(struct migrate *mg)
{
	static const char body[] = "-- migrate:up\n\n\n-- migrate:down\n\n";
	const char *dir = mg->set.dir;
	char ver[40], err[1024], *path;
	struct layout lay;
	struct strv made = { NULL, 0, 0 };
	enum layout_format fmt = LAYOUT_AUTO;
	size_t i;
	int fd, code, r;

	if (!valid_name(mg->arg)) {
		log_error("invalid migration name \"%s\" (letters, digits, _ "
		    "and -)", mg->arg);
		return EXIT_USAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_errno("could not create migrations directory \"%s\"", dir);
		return EXIT_OSERR;
	}
	/* In the folder's own layout, so that it stays one layout. */
	if (mg->set.format && *mg->set.format &&
	    layout_from_name(mg->set.format, &fmt) < 0) {
		log_error("invalid [database] format \"%s\"", mg->set.format);
		return EXIT_CONFIG;
	}
	r = layout_list(dir, fmt, &lay, err, sizeof(err));
	if (r < 0 && lay.format != LAYOUT_DBMATE) {
		log_error("%s", err);
		layout_release(&lay);
		return EXIT_DATAERR;
	}
	if (r == 0 && lay.format > LAYOUT_DBMATE) {
		r = layout_create(lay.format, &lay, dir, mg->arg, time(NULL),
		    &made, err, sizeof(err));
		for (i = 0; i < made.n; i++)
			printf("%s\n", made.v[i]);
		if (r < 0)
			log_error("%s", err);
		strv_release(&made);
		layout_release(&lay);
		return r < 0 ? EXIT_OSERR : 0;
	}
	layout_release(&lay);
	code = migset_next_version(dir, time(NULL), ver, sizeof(ver));
	if (code)
		return code;
	path = xasprintf("%s/%s_%s.sql", dir, ver, mg->arg);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, body, sizeof(body) - 1) < 0) {
		log_errno("could not create migration file \"%s\"", path);
		if (fd >= 0)
			close(fd);
		free(path);
		return EXIT_OSERR;
	}
	if (close(fd) < 0) {
		log_errno("could not write migration file \"%s\"", path);
		free(path);
		return EXIT_OSERR;
	}
	printf("%s\n", path);
	free(path);
	return 0;
}

static int
finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_errno("could not write to standard output");
		return code ? code : EXIT_OSERR;
	}
	return code;
}

static int
usage(const char *msg, const char *arg)
{
	size_t i;

	if (arg)
		log_error("%s \"%s\"", msg, mask_show(arg));
	else
		log_error("%s", msg);
	fprintf(stderr, "usage: entrypoint migrate [");
	for (i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(stderr, "%s%s", i ? " | " : "", commands[i].synopsis);
	fprintf(stderr, "]\n");
	return EXIT_USAGE;
}

/*
 * Parse argv into mg against the table.  Return 0 or EXIT_USAGE after
 * logging.
 */
static int
parse_args(struct migrate *mg, int argc, char **argv)
{
	const char *sub = "up";
	int i, dry = 0;
	unsigned f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry = 1;
		else if (strcmp(argv[i], "--yes") == 0 ||
		    strcmp(argv[i], "-y") == 0)
			mg->yes = 1;
		else if (strcmp(argv[i], "--check") == 0)
			mg->check = 1;
		else if (strcmp(argv[i], "--json") == 0)
			mg->json = 1;
		else if (strcmp(argv[i], "--strict") == 0)
			mg->strict = 1;
		else if (strcmp(argv[i], "--applied") == 0 ||
		    strcmp(argv[i], "--rolled-back") == 0) {
			if (mg->flag)
				return usage("conflicting options", argv[i]);
			mg->flag = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1])
			return usage("unrecognized option", argv[i]);
		else if (i == 1)
			sub = argv[i];
		else if (!mg->arg)
			mg->arg = argv[i];
		else
			return usage("unexpected argument", argv[i]);
	}
	if (dry && strcmp(sub, "up") == 0)
		sub = "plan";
	mg->cmd = find_command(sub);
	f = mg->cmd ? mg->cmd->needs : 0;
	if ((mg->check && !(f & MIG_OPT_CHECK)) || (dry && !(f & MIG_OPT_DRY)))
		return usage("option not valid here", mg->check ? "--check" :
		    "--dry-run");
	if (mg->flag && !(f & MIG_OPT_RESOLVE))
		return usage("option not valid here", mg->flag);
	if (mg->yes && !(f & MIG_OPT_YES))
		return usage("option not valid here", "--yes");
	mg->dry_run = dry;
	if ((mg->json || mg->strict) && (!mg->cmd ||
	    strcmp(mg->cmd->name, "plan") != 0))
		return usage("option not valid here", mg->json ? "--json" :
		    "--strict");
	if (!mg->cmd)
		return usage("unrecognized migrate command", sub);
	if (mg->arg && !(f & (MIG_ARG_OPTIONAL | MIG_ARG_REQUIRED)))
		return usage("unexpected argument", mg->arg);
	if (!mg->arg && (f & MIG_ARG_REQUIRED))
		return usage(strcmp(sub, "create") == 0 ? "missing NAME" :
		    "missing VERSION", NULL);
	if ((f & MIG_OPT_RESOLVE) && !mg->flag)
		return usage("resolve needs --applied or --rolled-back", NULL);
	mg->count = 1;
	if (strcmp(sub, "down") == 0 && mg->arg &&
	    parse_long(mg->arg, 1, 1000000, &mg->count) < 0)
		return usage("invalid count", mg->arg);
	/* VERSION: named as status or the folder shows it (the set is
	 * read later); only what no migration can be named is refused */
	if ((f & MIG_ARG_REQUIRED) && strcmp(sub, "create") != 0 &&
	    (!*mg->arg || strspn(mg->arg, "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ._-") != strlen(mg->arg))) {
		log_error("invalid version \"%s\" (want a version, or a name "
		    "as 'migrate status' shows it)", mg->arg);
		return EXIT_USAGE;
	}
	if (f & MIG_TASK)
		snprintf(mg->task, sizeof(mg->task), "%s %s", sub,
		    mg->arg ? mg->arg : "1");
	return 0;
}

/*
 * The audit row's start, after the lock and the read: the "running" row
 * (and the row its output goes to) went in the read's pipeline when the
 * tables were there, so the server wrote them while the files were read;
 * else it is written now, the ordinary way.
 */
static int
audit_start(struct migrate *mg, struct audit_run *ar)
{
	struct migsession *ses = &mg->ses;
	int code = audit_begin_finish(mg->cfg, ar, &ses->db, ses->extra_ok);

	if (!code && ses->output_ok)
		audit_output_ready(ar);
	return code;
}

/*
 * The shared steps around a subcommand, in order: connect, audit begin
 * with the lock and the read, check the history, run, audit end.  The run
 * id is the audit row's (made once, by the audit module).
 */
static int
run(struct migrate *mg, char **argv)
{
	unsigned f = mg->cmd->needs;
	struct audit_run ar;
	int code = 0, audited = 0, sig, a;

	memset(&ar, 0, sizeof(ar));
	ar.command = "migrate";
	ar.task = *mg->task ? mg->task : NULL;
	ar.argv = argv;
	ar.dry_run = mg->dry_run;
	if ((f & MIG_OPT_YES) && !mg->yes && !mg->dry_run &&
	    !isatty(STDIN_FILENO)) {
		log_error("migrate %s is destructive: pass --yes, or run it "
		    "from a terminal to be asked; nothing was reverted",
		    mg->task);
		return EXIT_NOPERM;
	}
	if (f & MIG_DB)
		code = migsession_connect(&mg->ses);
	if (code)
		return code;
	/* The audit row's INSERT goes in one pipeline with the applied list;
	 * when it could not (first run: no table yet), it is written the
	 * ordinary way right after. */
	if (f & MIG_AUDIT)
		audit_begin_prepare(mg->cfg, &ar, &mg->ses.db, mg->ses.extra);
	if (f & MIG_LOCK)
		code = migsession_lock_read(&mg->ses, f & MIG_CREATE ?
		    HISTORY_CREATE : HISTORY_READ);
	else if (f & MIG_DB)
		code = migsession_read(&mg->ses);
	if (f & MIG_AUDIT) {
		a = audit_start(mg, &ar);
		audited = !a;
		code = code ? code : a;
		if (audited)	/* what migrate says, kept with its row */
			audit_keep_log(mg->cfg, &ar);
		snprintf(mg->ses.run_id, sizeof(mg->ses.run_id), "%s", ar.id);
	}
	if (!code && (f & MIG_DB) && (mg->cmd->fn == mig_up ||
	    mg->cmd->fn == mig_plan || mg->cmd->fn == mig_status))
		code = takeover_run(&mg->ses, mg->cmd->fn == mig_up);
	if (!code && (f & MIG_CLEAN))
		code = migset_check_history(&mg->set);
	if (!code)
		code = mg->cmd->fn(mg);
	if (audited) {
		/* TERM/INT cancel the statement and give 128+N */
		sig = code > EXIT_SIGNAL_BASE && code < EXIT_SIGNAL_BASE + 65 ?
		    code - EXIT_SIGNAL_BASE : 0;
		audit_end(mg->cfg, &ar, code, sig, 0, sig != 0);
	}
	return code;
}

static const char *
migrations_dir(const struct config *cfg)
{
	return cfg->database.migrations && *cfg->database.migrations ?
	    cfg->database.migrations : "migrations";
}

static void
migrate_init(struct migrate *mg, const struct config *cfg)
{
	memset(mg, 0, sizeof(*mg));
	mg->cfg = cfg;
	migset_init(&mg->set, migrations_dir(cfg));
	mg->set.format = cfg->database.format;
	mg->ses.cfg = cfg;
	mg->ses.set = &mg->set;
}

static void
migrate_release(struct migrate *mg)
{
	migsession_release(&mg->ses);
	migset_release(&mg->set);
}

int
cmd_migrate(struct config *cfg, int argc, char **argv)
{
	struct migrate mg;
	int code;

	migrate_init(&mg, cfg);
	mg.ses.tty = isatty(2) && log_get_format() == LOG_FORMAT_TEXT;
	code = parse_args(&mg, argc, argv);
	if (code)
		return code;
	mg.ses.full_rows = (mg.cmd->needs & MIG_FULL_ROWS) != 0;
	code = run(&mg, argv);
	migrate_release(&mg);
	return finish_stdout(code);
}

/*
 * The gate on an applied migration that was changed or is missing here:
 * no waiting fixes either.  warn: log and go on (0); wait/fail: refuse
 * (EXIT_DATAERR).
 */
static int
gate_history(const struct migrate *mg, enum require_migrations mode,
    const char *process, const struct migcount *c)
{
	enum log_level lvl = mode == REQUIRE_MIGRATIONS_WARN ? LOG_WARN :
	    LOG_ERROR;
	size_t i;
	const struct mig *m;

	for (i = 0; i < mg->set.n; i++) {
		m = &mg->set.m[i];
		if (mig_state(m) == ST_CHANGED)
			log_msg(lvl, "%s: applied migration %s was changed "
			    "after it was applied: this image's file differs",
			    process, mig_label(m));
		else if (mig_state(m) == ST_MISSING)
			log_msg(lvl, "%s: applied migration %s has no "
			    "file in this image (a newer release migrated the "
			    "database, or the file was deleted)", process,
			    mig_label(m));
	}
	if (mode == REQUIRE_MIGRATIONS_WARN) {
		log_warn("%s: starting anyway (require_migrations = warn)",
		    process);
		return 0;
	}
	log_error("%s: not starting: %zu applied migration%s changed or "
	    "missing (require_migrations = %s)", process,
	    c->changed + c->missing, c->changed + c->missing == 1 ? " is" :
	    "s are", mode == REQUIRE_MIGRATIONS_WAIT ? "wait" : "fail");
	return EXIT_DATAERR;
}

/* The gate's last word: code so far and what is still pending. */
static int
gate_verdict(enum require_migrations mode, const char *process, int code,
    size_t pending)
{
	int wait = mode == REQUIRE_MIGRATIONS_WAIT;

	if (!code && pending && mode == REQUIRE_MIGRATIONS_WARN) {
		log_warn("%s: %zu migration%s pending; starting anyway "
		    "(require_migrations = warn)", process, pending,
		    pending == 1 ? " is" : "s are");
	} else if (!code && pending) {
		log_error("%s: %zu migration%s pending%s: run 'entrypoint "
		    "migrate' first (require_migrations = %s)", process,
		    pending, pending == 1 ? " is" : "s are",
		    wait ? " after waiting" : "", wait ? "wait" : "fail");
		code = EXIT_TEMPFAIL;
	} else if (code && mode == REQUIRE_MIGRATIONS_WARN &&
	    code < EXIT_SIGNAL_BASE) {
		log_warn("%s: could not check the migrations; starting anyway "
		    "(require_migrations = warn)", process);
		code = 0;
	}
	return code;
}

int
migrate_gate(const struct config *cfg, enum require_migrations mode,
    const char *process)
{
	struct migrate mg;
	struct migcount c;
	long long deadline;
	long backoff = 250;
	int code, s;

	if (mode == REQUIRE_MIGRATIONS_OFF)
		return 0;
	migrate_init(&mg, cfg);
	memset(&c, 0, sizeof(c));
	deadline = now_ms() + cfg->database.wait_ms;
	code = migsession_connect(&mg.ses);
	for (;;) {
		if (!code)
			code = migsession_read(&mg.ses);
		/* another tool's history counts as applied, as in status:
		 * in memory only, nothing written */
		if (!code)
			code = takeover_run(&mg.ses, 0);
		if (code)
			break;
		migset_count(&mg.set, &c);
		if (c.changed || c.missing) {
			code = gate_history(&mg, mode, process, &c);
			if (code)
				break;
		}
		if (c.pending == 0 || mode != REQUIRE_MIGRATIONS_WAIT ||
		    now_ms() >= deadline)
			break;
		if (backoff == 250)
			log_info("%s: waiting for %zu pending migration%s "
			    "(require_migrations = wait)", process, c.pending,
			    c.pending == 1 ? "" : "s");
		s = db_sleep(backoff < deadline - now_ms() ? backoff :
		    (long)(deadline - now_ms()));
		if (s) {
			code = EXIT_SIGNAL_BASE + s;
			break;
		}
		backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		migsession_forget_rows(&mg.ses);
	}
	migrate_release(&mg);
	return gate_verdict(mode, process, code, c.pending);
}

int
migrate_check(const struct config *cfg, migrate_check_fn *step, void *arg)
{
	struct migrate mg;
	struct migcount c;
	size_t i;
	char text[256];
	int code, worst;

	migrate_init(&mg, cfg);
	step(arg, "migrations", -1, NULL);
	code = migset_finish(&mg.set);
	/* Every file, not the first bad one: what migrate up would refuse
	 * whichever of them is pending. */
	for (i = 0; i < mg.set.n && !mg.set.code; i++) {
		struct mig *m = &mg.set.m[i];

		if (m->has_file && mig_parse(m) < 0)
			code = EXIT_DATAERR;
	}
	snprintf(text, sizeof(text), "%zu files in %s/", mg.set.n,
	    mg.set.dir);
	step(arg, "migrations", code, text);
	worst = code;
	if (!config_database_url(cfg)) {
		migrate_release(&mg);
		return worst;
	}
	step(arg, "database", -1, NULL);
	code = migsession_connect(&mg.ses);
	if (!code) {
		snprintf(text, sizeof(text), "reachable (server %d)",
		    PQserverVersion(mg.ses.db.conn));
		code = migsession_read(&mg.ses);
	}
	step(arg, "database", code, text);
	/* another tool's history counts as applied (nothing written) */
	if (!code)
		code = takeover_run(&mg.ses, 0);
	if (!code && !worst) {
		step(arg, "history", -1, NULL);
		code = migset_check_history(&mg.set);
		step(arg, "history", code, "no changed, missing or failed "
		    "migration");
		worst = code;
		code = 0;
	}
	if (!code) {
		step(arg, "pending", -1, NULL);
		migset_count(&mg.set, &c);
		snprintf(text, sizeof(text), "%zu pending, %zu applied not in "
		    "this image", c.pending, c.missing);
		step(arg, "pending", 0, text);
	}
	migrate_release(&mg);
	return worst ? worst : code;
}
