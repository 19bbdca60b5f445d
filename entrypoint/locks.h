/*
 * locks.h - what a migration's locks do to everyone else (DESIGN.md
 * "Locks"): the lock-wait retry policy, the sessions that block a waiting
 * migration, and plan's tracing of the locks and rewrites each statement
 * takes.
 *
 * The classification part (lock modes, the shape of a statement, the
 * warnings, the backoff, the one-line blocker) is pure: it never talks to
 * the database, so tests/unit/t_locks.c checks it without a server.  The
 * rest reads PostgreSQL's own views: pg_locks of our backend (what a
 * statement acquired), pg_class (relfilenode before and after: a rewrite),
 * pg_stat_activity with pg_blocking_pids() (who blocks a waiting
 * statement).  Every SQL statement here is a constant.
 */
#ifndef LOCKS_H
#define LOCKS_H

#include <stddef.h>

#include <libpq-fe.h>

/* The eight table lock modes, in PostgreSQL's order (lock.h). */
enum lock_mode {
	LM_ACCESS_SHARE, LM_ROW_SHARE, LM_ROW_EXCLUSIVE,
	LM_SHARE_UPDATE_EXCLUSIVE, LM_SHARE, LM_SHARE_ROW_EXCLUSIVE,
	LM_EXCLUSIVE, LM_ACCESS_EXCLUSIVE, LM_COUNT
};

/* What a lock keeps the app's ordinary traffic (SELECT, DML) from doing. */
enum lock_blocks { BLOCKS_NONE, BLOCKS_WRITES, BLOCKS_ALL };

/* The mode for a pg_locks.mode name ("ShareLock"); -1 when unknown. */
int lock_mode_parse(const char *name);
/* "AccessExclusiveLock" for LM_ACCESS_EXCLUSIVE. */
const char *lock_mode_name(int mode);
/*
 * What mode blocks for other sessions: AccessExclusiveLock blocks reads
 * and writes; Share, ShareRowExclusive and Exclusive block INSERT, UPDATE,
 * DELETE (they conflict with RowExclusiveLock); the weaker ones block
 * only other DDL, VACUUM and the like, none of the app's reads or writes.
 */
enum lock_blocks lock_mode_blocks(int mode);
/* "none", "writes", "reads+writes" (JSON) */
const char *lock_blocks_name(enum lock_blocks b);
/* "nothing", "writes", "reads and writes" (text) */
const char *lock_blocks_words(enum lock_blocks b);

/* What a statement's words say, outside comments and quotes. */
struct stmt_shape {
	int create_index;	/* CREATE [UNIQUE] INDEX */
	int concurrently;	/* ... CONCURRENTLY */
	int alter_table;	/* ALTER TABLE */
	int set_not_null;	/* ... SET NOT NULL */
	int add_fk;		/* ... ADD ... FOREIGN KEY / REFERENCES */
	int add_check;		/* ... ADD [CONSTRAINT x] CHECK */
	int add_unique;		/* ... ADD ... PRIMARY KEY / UNIQUE */
	int using_index;	/* ... USING INDEX */
	int not_valid;		/* ... NOT VALID */
};
void stmt_shape_of(const char *sql, struct stmt_shape *s);

/*
 * True for a statement that can leave something behind when it fails
 * outside a transaction block (CREATE/DROP INDEX CONCURRENTLY, REINDEX
 * CONCURRENTLY commit several transactions and can leave an INVALID
 * index): it is never retried.
 */
int stmt_retry_unsafe(const char *sql);

/*
 * The table of CREATE [UNIQUE] INDEX CONCURRENTLY ... ON [ONLY] table, as
 * written, into buf; 0, or -1 when sql is no such statement.
 */
int stmt_index_table(const char *sql, char *buf, size_t size);

/*
 * True when sql's warnings may concern a table an earlier statement
 * locked already (SET NOT NULL, ADD FOREIGN KEY/CHECK/UNIQUE): its trace
 * then returns every lock held, not only the new ones.
 */
int stmt_trace_all(const char *sql);

/* The first line of sql, blanks squeezed, at most max bytes (+ "..."). */
void stmt_first_line(const char *sql, char *buf, size_t size, size_t max);

/*
 * One line of a query for a log: string literals and numbers replaced
 * by "?", blanks squeezed, cut at max bytes with "...", no control byte.
 * Secrets in a blocker's query (a password in ALTER ROLE, a token in an
 * INSERT) never reach migrate's log.
 */
void query_mask_line(const char *q, char *buf, size_t size, size_t max);

/*
 * The pause before retry attempt (1, 2, ...): exponential from 250 ms,
 * at most 10 s, with "equal jitter" (half fixed, half random from rnd), so
 * that several migrate processes do not retry in step.
 */
long lock_backoff_ms(int attempt, unsigned rnd);

/* ---- plan's tracing ---------------------------------------------------- */

/* One row of the trace query: a relation our backend holds a lock on. */
struct lock_row {
	unsigned oid;
	const char *name;	/* as regclass prints it */
	char kind;		/* pg_class.relkind */
	int mode;		/* enum lock_mode, -1 unknown */
	unsigned filenode;	/* pg_relation_filenode, 0 none */
	double reltuples;	/* -1: never analyzed */
	long long bytes;	/* pg_relation_size */
	int notnull_check;	/* a validated CHECK (... IS NOT NULL) */
};

/* One relation a statement locked (new modes only) or rewrote. */
struct traced_rel {
	char *name;
	char kind;
	unsigned modes;		/* bit per enum lock_mode taken here */
	int rewritten;
	double reltuples;
	long long bytes;
	int notnull_check;
};

struct traced_stmt {
	struct traced_rel *rels;
	size_t n;
	enum lock_blocks blocks;
	double ms;		/* how long it ran (server clock) */
	int strongest;		/* strongest new mode, -1 none */
	struct stmt_shape shape;
	char **warnings;	/* NULL-terminated */
	size_t nwarn;
};

/* What the tracer knows of a relation across the whole plan. */
struct known_rel {
	unsigned oid;
	char *name;		/* as before the plan (a DROP hides it) */
	char kind;
	unsigned filenode;
	unsigned modes_seen;
	long created_in;	/* migration that created it, -1 before */
};

struct lock_tracer {
	struct known_rel *rel;	/* sorted by oid */
	size_t n, cap;
	double last_t;		/* server clock of the last trace, s */
	/* the migration being traced: who holds AccessExclusiveLock */
	long mig;
	char **ae_names;	/* relations under AccessExclusiveLock */
	size_t nae;
	long ae_stmt;		/* statement index that took the first one */
};

/* Rows: oid, filenode, name, kind of every relation before the plan. */
extern const char lock_snapshot_sql[];
/*
 * The trace: PREPARE it, then EXECUTE it after each statement.  Columns:
 * t, oid, name, kind, mode, filenode, reltuples, bytes, nncheck.  _all
 * returns every lock held, _new only those the previous trace of the
 * transaction did not return (see stmt_trace_all); what was returned is
 * kept in the setting entrypoint.plan_seen, which RESET ALL clears: read
 * it (_get, one column) before and set it ($1) after.
 */
extern const char lock_trace_prepare_sql[];
extern const char lock_trace_new_sql[];
extern const char lock_trace_all_sql[];
extern const char lock_seen_get_sql[];
extern const char lock_seen_set_sql[];
/* One column: the server clock in seconds. */
extern const char lock_clock_sql[];

void lock_tracer_init(struct lock_tracer *t);
/*
 * Remember what exists before the plan: the snapshot's rows (oid,
 * filenode, name, kind; the rest is ignored).
 */
void lock_tracer_snapshot(struct lock_tracer *t, const struct lock_row *rows,
    size_t n);
/* Start the clock of the next statement (the server's, in seconds). */
void lock_tracer_clock(struct lock_tracer *t, double now);
/* A new migration starts (its own transaction when really applied). */
void lock_tracer_migration(struct lock_tracer *t, long mig);
/*
 * Account for one statement from the trace rows read after it (now: the
 * server clock then): the modes it newly holds, relations whose
 * relfilenode changed, what that blocks, and the warnings.  Relations
 * created by the same migration are invisible to other sessions and left
 * out.  idx is the statement's index in the migration.
 */
void lock_tracer_stmt(struct lock_tracer *t, const char *sql, long idx,
    const struct lock_row *rows, size_t n, double now,
    struct traced_stmt *out);
void traced_stmt_release(struct traced_stmt *s);
void lock_tracer_release(struct lock_tracer *t);

/* ---- the sessions that block a waiting statement ----------------------- */

struct lock_blocker {
	int pid;
	char user[64];
	char app[64];
	char state[32];
	double xact_secs;	/* how long its transaction has been open */
	char query[128];	/* masked, one line */
};

/* "pid 123 (user app, application_name "psql", idle in transaction, ...)" */
void lock_blocker_format(const struct lock_blocker *b, char *buf,
    size_t size);

/*
 * A second connection that watches a migration statement while it waits:
 * opened only when a statement has run longer than open_after_ms, then
 * asks every poll for the sessions in pg_blocking_pids() of the
 * migration's backend and keeps the last ones seen.
 */
struct lock_watch {
	const char *url;
	int pid;		/* the migration's backend */
	PGconn *conn;
	int failed;		/* could not connect: stop trying */
	long long started;	/* the statement's start, now_ms() */
	long long last_poll;
	long open_after_ms;
	long poll_ms;
	struct lock_blocker seen[4];
	size_t nseen;
};

/* Arm the watch for a statement (or a pipeline) that starts now. */
void lock_watch_arm(struct lock_watch *w, const char *url, int pid,
    long ddl_lock_timeout_ms);
/* Called while the statement runs; cheap until the watch is due. */
void lock_watch_poll(struct lock_watch *w);
/*
 * After a lock timeout: how many blockers the watch saw (the last poll
 * that saw any), in w->seen.  0 when the wait was too short to be seen.
 */
size_t lock_watch_blockers(struct lock_watch *w);
void lock_watch_close(struct lock_watch *w);

#endif
