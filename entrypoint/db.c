/* db.c - placeholder until the migrate work lands. */
#include <stdlib.h>

#include "db.h"
#include "exitcode.h"
#include "util.h"

int
db_wait(const char *url, long wait_ms)
{
	(void)url;
	(void)wait_ms;
	return EXIT_UNAVAILABLE;
}

int
db_connect(struct db *db, const char *url, const char *schema, long wait_ms,
    const char *command)
{
	(void)db;
	(void)url;
	(void)schema;
	(void)wait_ms;
	(void)command;
	return EXIT_UNAVAILABLE;
}

void
db_close(struct db *db)
{
	(void)db;
}

char *
db_sql(const struct db *db, const char *sql)
{
	(void)db;
	return xstrdup(sql);
}

PGresult *
db_query(struct db *db, const char *what, const char *sql, int nparams,
    const char *const *params)
{
	(void)db;
	(void)what;
	(void)sql;
	(void)nparams;
	(void)params;
	return NULL;
}

int
db_exec(struct db *db, const char *what, const char *sql, int nparams,
    const char *const *params)
{
	PGresult *r = db_query(db, what, sql, nparams, params);

	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

const char *
db_error(const struct db *db)
{
	(void)db;
	return "";
}
