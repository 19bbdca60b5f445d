/*
 * exitcode.h - the one list of exit codes entrypoint itself returns.
 *
 * The child's own status passes through unchanged (death by signal N gives
 * 128+N).  Our own failures use sysexits values, never 1, so a Kubernetes
 * podFailurePolicy can tell "retry" (69, 75) from "do not retry" (64, 65, 77,
 * 78).  The same table is printed by `entrypoint help` and in the README.
 */
#ifndef EXITCODE_H
#define EXITCODE_H

enum exit_code {
	EXIT_OK = 0,
	EXIT_USAGE = 64,	/* unknown command or task, bad flags */
	EXIT_DATAERR = 65,	/* invalid or changed migration, SQL failed */
	EXIT_UNAVAILABLE = 69,	/* database unreachable within wait */
	EXIT_SOFTWARE = 70,	/* internal error */
	EXIT_OSERR = 71,	/* a system call failed (fork, pipe, ...) */
	EXIT_TEMPFAIL = 75,	/* busy: lock held elsewhere past its timeout */
	EXIT_NOPERM = 77,	/* refused: no confirmation, auth, permission */
	EXIT_CONFIG = 78,	/* bad config, missing env, X and X_FILE set */
	EXIT_TIMEOUT = 124,	/* the task's own timeout fired */
	EXIT_NOEXEC = 126,	/* command not executable */
	EXIT_NOTFOUND = 127,	/* command not found */
	EXIT_SIGNAL_BASE = 128	/* + N: the child died of signal N */
};

#endif
