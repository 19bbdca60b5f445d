/*
 * floor.c - the libpq floor for bench/migrate.sh: what any migration tool
 * must at least do for a no-op run.  Connect, read the applied list
 * (version and checksum of every row), disconnect.
 *
 *	floor URL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

int
main(int argc, char **argv)
{
	PGconn *conn;
	PGresult *r;
	long sum = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: floor URL\n");
		return 64;
	}
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
		return 69;
	}
	r = PQexec(conn, "SELECT version, checksum FROM entrypoint.migrations "
	    "ORDER BY version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "floor: %s", PQerrorMessage(conn));
		return 70;
	}
	for (i = 0; i < PQntuples(r); i++)
		sum += (long)strlen(PQgetvalue(r, i, 1));
	PQclear(r);
	PQfinish(conn);
	return sum > 0 ? 0 : 1;
}
