/*
 * help.c - the help text, and everything printed from it: `help`,
 * `COMMAND [SUBCOMMAND] --help`, the man page and the completion scripts.
 * See help.h.
 */
#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "help.h"
#include "migrate.h"
#include "util.h"

#define OPTS(...) ((const struct help_opt[]){ __VA_ARGS__, { NULL, NULL } })

static const struct help_cmd help_cmds[] = {
	{ "web", "[ARGS...]", "supervise [process.web] (any [process.NAME] "
	    "works the same way)",
	    "Starts the configured command with ARGS appended, as PID 1 or "
	    "under it: signals are forwarded to its process group, zombies "
	    "reaped, its exit code passed through.", NULL },
	{ "worker", "[ARGS...]", "supervise [process.worker]", NULL, NULL },
	{ "migrate", "[up|status|plan|down|create|baseline|resolve] ...",
	    "apply or inspect SQL migrations",
	    "Without a subcommand: apply the pending migrations (migrate up).",
	    OPTS({ "--dry-run", "the same as 'migrate plan'" }) },
	{ "task", "NAME [--dry-run] [--yes] [-- ARGS...]",
	    "run a configured one-off task",
	    "'entrypoint task NAME --help' shows that task's description, "
	    "dry-run mode, confirmation, timeout and exclusivity.",
	    OPTS({ "--dry-run", "run it in its dry-run mode (refused, 64, "
		"when the task has none)" },
		{ "--yes, -y", "do not ask for confirmation" },
		{ "-- ARGS...", "arguments appended to the task's command" }) },
	{ "tasks", "", "list the tasks with their descriptions and flags",
	    NULL, NULL },
	{ "shell", "[ARGS...]", "interactive console ([shell] command, "
	    "default /bin/sh) with the app's environment",
	    "The binary started under the name 'shell' (a link to it) is "
	    "the same as 'entrypoint shell': docker exec -it app shell.",
	    NULL },
	{ "run", "CMD [ARGS...]", "run any command with the app's "
	    "environment", "Audited like a task.", NULL },
	{ "history", "[-n N] [--task NAME] [--json]",
	    "the audit trail of one-off runs", NULL,
	    OPTS({ "-n N", "the newest N runs (default 20)" },
		{ "--task NAME", "only the runs of that task" },
		{ "--json", "one JSON object per run" }) },
	{ "history show", "ID [--json]", "everything about one run, with the "
	    "output it kept", NULL,
	    OPTS({ "--json", "the run as one JSON object" }) },
	{ "history replay", "ID [--speed N | --instant]", "play back a "
	    "recorded console session", NULL,
	    OPTS({ "--speed N", "N times as fast (up to 1000)" },
		{ "--instant", "without the pauses" }) },
	{ "history export", "ID", "write a recorded console session as "
	    "asciicast v2", NULL, NULL },
	{ "check", "[--json]", "find every problem a deploy would trip over: "
	    "config, env, user, commands, migrations, database",
	    "Prints one line per finding (file:line where there is one) and "
	    "exits with the most severe problem's code.",
	    OPTS({ "--json", "one JSON object per finding" }) },
	{ "env", "", "print the environment every process gets, secrets "
	    "masked", NULL, NULL },
	{ "completion", "bash|zsh", "print a shell completion script",
	    "Completes commands, subcommands, flags and the configured task "
	    "and process names: source <(entrypoint completion bash)", NULL },
	{ "completion bash", "", "the bash completion script", NULL, NULL },
	{ "completion zsh", "", "the zsh completion script", NULL, NULL },
	{ "version", "", "print the version", NULL, NULL },
	{ "help", "[COMMAND [SUBCOMMAND]] [--man]", "this help, or one "
	    "command's", NULL,
	    OPTS({ "--man", "the manual page, entrypoint(1), in roff" }) },
	{ NULL, NULL, NULL, NULL, NULL }
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

/*
 * The table with migrate's subcommands from migrate's own table
 * (migrate_commands()), after "migrate".  Built once; static storage.
 */
const struct help_cmd *
help_all(void)
{
	static struct help_cmd all[ARRAY_LEN(help_cmds) + 32];
	static char names[32][64];
	const struct help_cmd *c;
	const struct migrate_cmd *mc;
	const char *args;
	size_t n = 0, i, nm;

	if (all[0].name)
		return all;
	for (c = help_cmds; c->name; c++) {
		all[n++] = *c;
		if (strcmp(c->name, "migrate") != 0)
			continue;
		mc = migrate_commands(&nm);
		for (i = 0; i < nm && i < ARRAY_LEN(names); i++) {
			snprintf(names[i], sizeof(names[i]), "migrate %s",
			    mc[i].name);
			args = strchr(mc[i].synopsis, ' ');
			all[n].name = names[i];
			all[n].args = args ? args + 1 : "";
			all[n].summary = mc[i].help;
			all[n].text = NULL;
			all[n++].opts = NULL;
		}
	}
	all[n].name = NULL;
	return all;
}

static int
is_sub(const struct help_cmd *c)
{
	return strchr(c->name, ' ') != NULL;
}

/* Does c->name equal the first n words? */
static int
name_is(const struct help_cmd *c, char *const *words, int n)
{
	const char *p = c->name;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		len = strlen(words[i]);
		if (strncmp(p, words[i], len) != 0)
			return 0;
		p += len;
		if (i + 1 < n) {
			if (*p != ' ')
				return 0;
			p++;
		}
	}
	return *p == '\0';
}

const struct help_cmd *
help_find(char *const *words, int n)
{
	const struct help_cmd *c, *best = NULL;
	int k;

	for (k = 1; k <= n && k <= 2; k++)
		for (c = help_all(); c->name; c++)
			if (name_is(c, words, k))
				best = c;
	return best;
}

void
help_print(const struct help_cmd *c, FILE *f)
{
	const struct help_cmd *s;
	const struct help_opt *o;
	size_t i, len;

	if (c) {
		fprintf(f, "usage: entrypoint [-c FILE] %s%s%s\n\n%s\n",
		    c->name, *c->args ? " " : "", c->args, c->summary);
		if (c->text)
			fprintf(f, "\n%s\n", c->text);
		len = strlen(c->name);
		for (i = 0, s = help_all(); s->name; s++) {
			if (strncmp(s->name, c->name, len) != 0 ||
			    s->name[len] != ' ')
				continue;
			if (i++ == 0)
				fprintf(f, "\nsubcommands:\n");
			fprintf(f, "  %-18s %s\n", s->name + len + 1,
			    s->summary);
		}
		for (o = c->opts; o && o->opt; o++)
			fprintf(f, "%s  %-18s %s\n", o == c->opts ?
			    "\noptions:\n" : "", o->opt, o->text);
		return;
	}
	fprintf(f, "usage: entrypoint [-c FILE] COMMAND [ARGS...]\n\n"
	    "commands:\n");
	for (s = help_all(); s->name; s++)
		if (!is_sub(s))
			fprintf(f, "  %-10s %s\n", s->name, s->summary);
	fprintf(f, "\n'entrypoint COMMAND --help' for one command; the name "
	    "'shell' (a link to the binary) is 'entrypoint shell'.\n"
	    "\nconfig: -c FILE, else $ENTRYPOINT_CONFIG, else "
	    "./entrypoint.ini\n\nexit codes:\n"
	    "  0..255   the command's own; 128+N when it died of signal N\n");
	for (i = 0; i < ARRAY_LEN(exit_codes); i++)
		fprintf(f, "  %-8d %s\n", exit_codes[i].code,
		    exit_codes[i].meaning);
}

/* s as roff text: '-' and '\' escaped, no control line by accident. */
static void
roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

void
help_man(FILE *f)
{
	const struct help_cmd *c;
	const struct help_opt *o;
	size_t i;

	fprintf(f, ".\\\" entrypoint(1), printed by 'entrypoint help --man' "
	    "from the text of 'entrypoint help'\n"
	    ".TH ENTRYPOINT 1 \"\" \"entrypoint %s\" \"User Commands\"\n"
	    ".nh\n.ad l\n"
	    ".SH NAME\nentrypoint, shell \\- the ENTRYPOINT and PID 1 of an "
	    "application's container image\n.SH SYNOPSIS\n"
	    ".B entrypoint\n[\\fB\\-c\\fR \\fIFILE\\fR] \\fICOMMAND\\fR "
	    "[\\fIARGS\\fR...]\n.br\n.B shell\n[\\fIARGS\\fR...]\n"
	    ".SH DESCRIPTION\nOne binary runs the long\\-running processes "
	    "(web, worker) and the one\\-off admin processes (migrate, task, "
	    "shell, run) of a release with the same config and environment. "
	    "As PID 1 it forwards signals, reaps zombies and passes exit "
	    "codes through; one\\-off runs get dry\\-run, confirmation, "
	    "timeouts, single\\-instance locks and an audit row in the "
	    "app's PostgreSQL.\n.PP\nInvoked under the name \\fBshell\\fR "
	    "(a link to the binary) it is \\fBentrypoint shell\\fR.\n"
	    ".SH COMMANDS\n", EP_VERSION);
	for (c = help_all(); c->name; c++) {
		fprintf(f, ".TP\n.B ");
		roff(f, c->name);
		if (*c->args) {
			fputs(" \\fR", f);
			roff(f, c->args);
		}
		fputc('\n', f);
		roff(f, c->summary);
		fputc('\n', f);
		if (c->text) {
			fputs(".IP\n", f);
			roff(f, c->text);
			fputc('\n', f);
		}
		for (o = c->opts; o && o->opt; o++) {
			fputs(".RS\n.TP\n.B ", f);
			roff(f, o->opt);
			fputc('\n', f);
			roff(f, o->text);
			fputs("\n.RE\n", f);
		}
	}
	fputs(".SH FILES\n.TP\n.I ./entrypoint.ini\nThe config, unless "
	    "\\fB\\-c\\fR \\fIFILE\\fR or \\fBENTRYPOINT_CONFIG\\fR names "
	    "another.\n.SH ENVIRONMENT\n.TP\n.B ENTRYPOINT_CONFIG\nThe config "
	    "file.\n.TP\n.B DATABASE_URL\nThe database when [database] url is "
	    "not set; \\fBDATABASE_URL_FILE\\fR names a file holding it.\n"
	    ".TP\n.B ENTRYPOINT_ACTOR\nWho the audit trail says ran a "
	    "one\\-off command.\n.SH EXIT STATUS\n.TP\n.B 0..255\nThe "
	    "command's own; 128+N when it died of signal N.\n", f);
	for (i = 0; i < ARRAY_LEN(exit_codes); i++) {
		fprintf(f, ".TP\n.B %d\n", exit_codes[i].code);
		roff(f, exit_codes[i].meaning);
		fputc('\n', f);
	}
	fputs(".SH SEE ALSO\nThe README and docs/ of the entrypoint "
	    "sources.\n", f);
}

/* Print the flags in s ("[--dry-run] [--yes]", "--yes, -y") to f. */
static void
put_flags(FILE *f, const char *s)
{
	size_t n;

	while (s && *s) {
		if (*s == '-' && (s[1] == '-' || (s[1] >= 'a' && s[1] <= 'z'))) {
			n = strspn(s, "-abcdefghijklmnopqrstuvwxyz");
			if (n > 2 || (n == 2 && s[1] != '-'))
				fprintf(f, " %.*s", (int)n, s);
			s += n;
			continue;
		}
		s++;
	}
}

/* "'words'" for one table entry: its subcommands, flags, --help. */
static void
put_words(FILE *f, const struct help_cmd *c)
{
	const struct help_cmd *s;
	const struct help_opt *o;
	size_t len = strlen(c->name);

	fprintf(f, "\t'%s') echo '", c->name);
	for (s = help_all(); s->name; s++)
		if (strncmp(s->name, c->name, len) == 0 &&
		    s->name[len] == ' ')
			fprintf(f, "%s ", s->name + len + 1);
	if (strcmp(c->name, "help") == 0)
		for (s = help_all(); s->name; s++)
			if (!is_sub(s))
				fprintf(f, "%s ", s->name);
	fputs("--help", f);
	if (!c->opts)
		put_flags(f, c->args);
	for (o = c->opts; o && o->opt; o++)
		put_flags(f, o->opt);
	fputs("';;\n", f);
}

/*
 * The part both scripts share: _entrypoint_words KEY prints the words
 * that may follow KEY ("" for the first word, "migrate", "migrate down").
 */
static void
put_words_fn(FILE *f)
{
	const struct help_cmd *c;

	fputs("_entrypoint_words() {\n\tcase $1 in\n\t'') echo '-c --config "
	    "--help --version", f);
	for (c = help_all(); c->name; c++)
		if (!is_sub(c))
			fprintf(f, " %s", c->name);
	fputs("';;\n", f);
	for (c = help_all(); c->name; c++)
		put_words(f, c);
	fputs("\tesac\n}\n", f);
}

/*
 * The completion logic, in the syntax bash and zsh share: the words typed
 * so far (global -c FILE taken out) are in w, the config options in cfg;
 * leaves the candidates in list.
 */
static const char completion_body[] =
    "\tlocal key= list= n=${#w[@]}\n"
    "\tif [ \"$n\" -gt 0 ]; then\n"
    "\t\tkey=${w[$((_ep_base))]}\n"
    "\t\tif [ \"$n\" -gt 1 ] && [ -n \"$(_entrypoint_words "
    "\"$key ${w[$((_ep_base + 1))]}\")\" ]; then\n"
    "\t\t\tkey=\"$key ${w[$((_ep_base + 1))]}\"\n"
    "\t\tfi\n"
    "\tfi\n"
    "\tlist=$(_entrypoint_words \"$key\")\n"
    "\tif [ -z \"$list\" ] && [ \"$n\" -gt 0 ]; then\n"
    "\t\tlist=--help\n"
    "\tfi\n"
    "\tcase $key in\n"
    "\t'') list=\"$list $(\"$ep\" \"${cfg[@]}\" completion processes "
    "2>/dev/null)\";;\n"
    "\ttask) [ \"$n\" -eq 1 ] && list=\"$(\"$ep\" \"${cfg[@]}\" completion "
    "tasks 2>/dev/null)\";;\n"
    "\tesac\n";

int
help_completion(const char *shell, FILE *f)
{
	if (strcmp(shell, "bash") == 0) {
		fputs("# bash completion for entrypoint, printed by "
		    "'entrypoint completion bash'.\n"
		    "#   source <(entrypoint completion bash)\n", f);
		put_words_fn(f);
		fputs("_entrypoint() {\n"
		    "\tlocal ep=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} "
		    "i _ep_base=0\n"
		    "\tlocal -a w=() cfg=()\n"
		    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
		    "\t\tcase ${COMP_WORDS[i]} in\n"
		    "\t\t-c|--config) cfg=(-c \"${COMP_WORDS[i + 1]}\"); "
		    "i=$((i + 1));;\n"
		    "\t\t--config=*) cfg=(\"${COMP_WORDS[i]}\");;\n"
		    "\t\t*) w+=(\"${COMP_WORDS[i]}\");;\n"
		    "\t\tesac\n"
		    "\tdone\n"
		    "\tif [ \"${COMP_WORDS[COMP_CWORD - 1]}\" = -c ]; then\n"
		    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
		    "\t\treturn\n"
		    "\tfi\n", f);
		fputs(completion_body, f);
		fputs("\tCOMPREPLY=($(compgen -W \"$list\" -- \"$cur\"))\n"
		    "}\ncomplete -F _entrypoint entrypoint\n", f);
		return 0;
	}
	if (strcmp(shell, "zsh") == 0) {
		fputs("#compdef entrypoint\n# zsh completion for entrypoint, "
		    "printed by 'entrypoint completion zsh'.\n"
		    "#   source <(entrypoint completion zsh), or save it as "
		    "_entrypoint in $fpath\n", f);
		put_words_fn(f);
		fputs("_entrypoint() {\n"
		    "\tlocal ep=${words[1]} i _ep_base=1\n"
		    "\tlocal -a w cfg\n"
		    "\tfor ((i = 2; i < CURRENT; i++)); do\n"
		    "\t\tcase ${words[i]} in\n"
		    "\t\t-c|--config) cfg=(-c \"${words[i + 1]}\"); "
		    "i=$((i + 1));;\n"
		    "\t\t--config=*) cfg=(\"${words[i]}\");;\n"
		    "\t\t*) w+=(\"${words[i]}\");;\n"
		    "\t\tesac\n"
		    "\tdone\n"
		    "\tif [[ ${words[CURRENT - 1]} == -c ]]; then\n"
		    "\t\t_files\n"
		    "\t\treturn\n"
		    "\tfi\n", f);
		fputs(completion_body, f);
		fputs("\tcompadd -- ${=list}\n}\n"
		    "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
		    "\t_entrypoint \"$@\"\nelse\n"
		    "\tcompdef _entrypoint entrypoint\nfi\n", f);
		return 0;
	}
	return -1;
}
