/*
 * history.h - `entrypoint history`: the audit trail of one-off runs, one
 * run in full, a console session replayed or exported; and where a run's
 * kept output and recording are stored.
 *
 * <schema>.run_output (next to <schema>.runs, created on first use) holds,
 * per run id: the kept tail of its output (bytea, masked), how many bytes it
 * printed, its recording (asciicast v2 text, masked) and how many bytes the
 * terminal got.  It is written once, after the run, by audit_end(); never
 * from the supervise loop.
 */
#ifndef HISTORY_H
#define HISTORY_H

#include "config.h"

struct db;
struct audit_run;

/*
 * Store run's output and recording (audit.h) on db, whose <schema>.runs has
 * the run's row.  Return 0, or -1 after a warning.
 */
int history_store(struct db *db, const struct audit_run *run);

/*
 * Store on_exit's result with run id's row (audit_on_exit(), audit.h):
 * code (-1: none), sig (0: none), status.  Return 0, or -1 after a warning.
 */
int history_store_on_exit(struct db *db, const char *id, int code, int sig,
    const char *status);

/*
 * entrypoint history [-n N] [--task NAME] [--json]
 * entrypoint history show ID [--json]
 * entrypoint history replay ID [--speed N | --instant]
 * entrypoint history export ID
 * ID is a run id or a unique start of one.
 */
int cmd_history(struct config *cfg, int argc, char **argv);

#endif
