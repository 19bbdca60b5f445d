/*
 * history.h - `entrypoint history`: the audit trail of one-off runs, one
 * run in full, a console session replayed or exported; and where a run's
 * kept output and recording are stored.
 *
 * <schema>.run_output (next to <schema>.runs, created on first use) holds,
 * per run id: the kept tail of its output (bytea, masked), how many bytes it
 * printed, its recording (asciicast v2 text, masked) and how many bytes the
 * terminal got.  It is written after the run, by audit_end() (migrate
 * makes the run's row empty first, with its audit row: see
 * history_sql_output_row); never from the supervise loop.
 */
#ifndef HISTORY_H
#define HISTORY_H

#include "config.h"
#include "db.h"

struct audit_run;

/*
 * Store run's output and recording (audit.h) on db, whose <schema>.runs has
 * the run's row.  Return 0, or -1 after a warning.
 */
int history_store(struct db *db, const struct audit_run *run);

/*
 * history_store()'s statement alone, for a caller that sends it in one
 * pipeline with its own (audit_end(): the row's end and the output in one
 * round trip) and knows <schema>.run_output is there.  The statement and
 * its parameters live in h until history_out_release().
 */
struct history_out {
	struct db_stmt st;
	const char *params[5];
	char total[24], rtotal[24];
	char *hex, *sql;
};
void history_out_prepare(struct db *db, const struct audit_run *run,
    struct history_out *h);
void history_out_release(struct history_out *h);

/*
 * The statement that makes run id's (empty) row in <schema>.run_output,
 * sent early with the audit row so that storing the output at the end is
 * an update of a warm table.  $1: the run id.
 */
extern const char history_sql_output_row[];

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
