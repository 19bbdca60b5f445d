/*
 * help.h - the one text every kind of help comes from.
 *
 * One table holds each command and subcommand: its arguments, a one-line
 * summary and its options.  `entrypoint help`, `COMMAND --help` at every
 * level, the man page (`entrypoint help --man`, built into entrypoint.1 by
 * `make man`) and the completion scripts (`entrypoint completion bash|zsh`)
 * are all printed from it, and tests/sh/t0500-help.sh checks the README's
 * command table against it.
 */
#ifndef HELP_H
#define HELP_H

#include <stdio.h>

/* One option of a command: "--dry-run" and what it does. */
struct help_opt {
	const char *opt;
	const char *text;
};

/* A command ("migrate") or a subcommand ("migrate status"). */
struct help_cmd {
	const char *name;		/* one or two words */
	const char *args;		/* after the name, "" when none */
	const char *summary;		/* one line */
	const char *text;		/* more, or NULL */
	const struct help_opt *opts;	/* ends with { NULL, NULL }, or NULL */
};

/*
 * Every command and subcommand, ending with a NULL name.  migrate's
 * subcommands come from migrate's own table (migrate_commands()).
 */
const struct help_cmd *help_all(void);

/*
 * The entry for the longest run of words[0..n) that names a command
 * ("migrate down 2" finds "migrate down"), or NULL when words[0] is no
 * command.
 */
const struct help_cmd *help_find(char *const *words, int n);

/* The usage and help of one command, or the whole list (c NULL), to f. */
void help_print(const struct help_cmd *c, FILE *f);

/* The man page, entrypoint(1), in roff, to f. */
void help_man(FILE *f);

/*
 * A completion script for shell ("bash" or "zsh") to f: commands,
 * subcommands and flags from the table; task and process names asked of
 * `entrypoint completion tasks|processes` when completing.  Return 0, or
 * -1 for an unknown shell.
 */
int help_completion(const char *shell, FILE *f);

#endif
