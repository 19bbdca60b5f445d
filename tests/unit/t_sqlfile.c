/*
 * t_sqlfile.c - migration file names, markers, sections and the psql-like
 * statement splitter.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlfile.h"
#include "tap.h"

static char err[512];

/* Split text; return the number of statements or -1. */
static int
split(const char *text, struct sql_section *sec)
{
	memset(sec, 0, sizeof(*sec));
	err[0] = '\0';
	if (sqlfile_split(text, strlen(text), "f.sql", 1, sec, err,
	    sizeof(err)) < 0)
		return -1;
	return (int)sec->n;
}

static void
test_names(void)
{
	long long v = 0;
	char *vs = NULL, *name = NULL;
	enum sqlfile_kind k;

	is_int(sqlfile_parse_name("0003_add_users.sql", &v, &vs, &name, &k,
	    err, sizeof(err)), 1, "single file name parses");
	is_int(v, 3, "version is numeric");
	is_str(vs, "0003", "version string kept");
	is_str(name, "add_users", "name");
	is_int(k, SQLFILE_SINGLE, "kind single");
	free(vs);
	free(name);
	vs = name = NULL;
	is_int(sqlfile_parse_name("20240101120000_x.up.sql", &v, &vs, &name,
	    &k, err, sizeof(err)), 1, "up file parses");
	is_int(k, SQLFILE_UP, "kind up");
	ok(v == 20240101120000LL, "timestamp version");
	free(vs);
	free(name);
	vs = name = NULL;
	is_int(sqlfile_parse_name("12_x.down.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), 1, "down file parses");
	is_int(k, SQLFILE_DOWN, "kind down");
	free(vs);
	free(name);
	vs = name = NULL;
	is_int(sqlfile_parse_name("README.md", &v, &vs, &name, &k, err,
	    sizeof(err)), 0, "non-sql file skipped");
	is_int(sqlfile_parse_name(".0001_x.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), 0, "hidden file skipped");
	is_int(sqlfile_parse_name("5_x.SQL", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "a migration's name with .SQL: error");
	ok(strstr(err, "lower case") != NULL, "says why");
	is_int(sqlfile_parse_name("6_x.up.Sql", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "with .Sql: error");
	is_int(sqlfile_parse_name("NOTES.SQL", &v, &vs, &name, &k, err,
	    sizeof(err)), 0, "NOTES.SQL is no migration: skipped");
	is_int(sqlfile_parse_name("init.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "no version: error");
	ok(strstr(err, "\"init.sql\"") != NULL, "error names the file");
	is_int(sqlfile_parse_name("0001.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "no name: error");
	is_int(sqlfile_parse_name("1-x.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "no underscore: error");
	is_int(sqlfile_parse_name("0001_a.b.sql", &v, &vs, &name, &k, err,
	    sizeof(err)), -1, "dot in name: error");
	is_int(sqlfile_parse_name("1234567890123456789_x.sql", &v, &vs,
	    &name, &k, err, sizeof(err)), -1, "19-digit version: error");
}

static void
test_split(void)
{
	struct sql_section s;

	is_int(split("create table a (x int); insert into a values (1);",
	    &s), 2, "two statements");
	is_str(s.stmts[0].sql, "create table a (x int)", "first, no ';'");
	is_str(s.stmts[1].sql, "insert into a values (1)", "second");
	sqlfile_section_release(&s);

	is_int(split("select 'a;b', \"c;d\", E'x\\';y' from t;", &s), 1,
	    "semicolons in strings, identifiers, E strings");
	is_str(s.stmts[0].sql, "select 'a;b', \"c;d\", E'x\\';y' from t",
	    "statement kept whole");
	sqlfile_section_release(&s);

	is_int(split("select 'it''s;'; select 2;", &s), 2, "'' escape");
	sqlfile_section_release(&s);

	is_int(split("create function f() returns int as $$ begin; return 1; "
	    "end $$ language plpgsql;\nselect $body$ ; $x$ ; $body$;", &s), 2,
	    "dollar quotes with and without tags");
	ok(s.n == 2 && strstr(s.stmts[1].sql, "$x$ ;") != NULL,
	    "nested other tag kept");
	sqlfile_section_release(&s);

	is_int(split("select $1; select a$b$c from t;", &s), 2,
	    "parameter and $ inside an identifier are no dollar quotes");
	sqlfile_section_release(&s);

	is_int(split("-- one; two\nselect 1 /* a; /* nested; */ b; */ ;\n"
	    "select 2; -- trailing;", &s), 2, "comments");
	is_int(s.stmts[0].line, 2, "line of the first statement");
	sqlfile_section_release(&s);

	is_int(split("create rule r as on insert to t do also (insert into u "
	    "values (1); insert into u values (2));", &s), 1,
	    "semicolons inside parentheses");
	sqlfile_section_release(&s);

	is_int(split("create function f() returns int language sql\n"
	    "begin atomic\n select 1; select case when true then 1 end;\n"
	    "end;\nselect 2;", &s), 2, "BEGIN ATOMIC body");
	ok(s.n == 2 && strstr(s.stmts[0].sql, "end") != NULL,
	    "body ends at END");
	sqlfile_section_release(&s);

	is_int(split("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC "
	    "insert into t values (1); END; select 1", &s), 2,
	    "CREATE OR REPLACE PROCEDURE, last statement without ';'");
	sqlfile_section_release(&s);

	is_int(split("begin;\ncreate table t (x int);\ncommit;", &s), 3,
	    "file's own BEGIN/COMMIT");
	ok(s.n == 3 && s.stmts[0].txn_control == 1 &&
	    s.stmts[1].txn_control == 0 && s.stmts[2].txn_control == 2,
	    "BEGIN and COMMIT marked");
	sqlfile_section_release(&s);

	is_int(split("start transaction; end; rollback; rollback to "
	    "savepoint a; commit prepared 'x';", &s), 5, "transaction words");
	ok(s.n == 5 && s.stmts[0].txn_control == 1 &&
	    s.stmts[1].txn_control == 2 && s.stmts[2].txn_control == 3 &&
	    s.stmts[3].txn_control == 0 && s.stmts[4].txn_control == 0,
	    "START/END/ROLLBACK marked; ROLLBACK TO, COMMIT PREPARED not");
	sqlfile_section_release(&s);

	is_int(split("COPY public.t (a, b) FROM stdin;\n1\tx;y\n2\t\\N\n\\.\n"
	    "select 3;", &s), 2, "COPY FROM stdin with rows");
	ok(s.n == 2 && s.stmts[0].copy_in, "copy marked");
	ok(s.n == 2 && s.stmts[0].copy_data &&
	    strcmp(s.stmts[0].copy_data, "1\tx;y\n2\t\\N\n") == 0,
	    "rows up to \\.");
	ok(s.n == 2 && s.stmts[1].line == 5, "line after the rows");
	ok(s.has_copy, "section has copy");
	sqlfile_section_release(&s);

	is_int(split("copy t to stdout; copy t from '/x';", &s), 2,
	    "COPY TO STDOUT and FROM a file are plain statements");
	ok(s.n == 2 && !s.stmts[0].copy_in && !s.stmts[1].copy_in,
	    "not copy_in");
	sqlfile_section_release(&s);

	is_int(split("select 1;\n\\i other.sql\n", &s), -1,
	    "meta-command refused");
	ok(strstr(err, "f.sql:2:") && strstr(err, "\\i"),
	    "error names file:line and the command");
	sqlfile_section_release(&s);
	is_int(split("\\restrict AbC\nselect 1;\n\\unrestrict AbC\n", &s), 1,
	    "pg_dump's \\restrict and \\unrestrict are skipped");
	sqlfile_section_release(&s);
	is_int(split("select 1 \\gset\n", &s), -1, "\\gset refused");
	sqlfile_section_release(&s);
	is_int(split("select 'a\\b';", &s), 1,
	    "backslash inside a standard string is data");
	sqlfile_section_release(&s);

	is_int(split("select 'abc;\n", &s), -1, "unterminated string");
	ok(strstr(err, "f.sql:1: unterminated quoted string") != NULL,
	    "unterminated string message");
	sqlfile_section_release(&s);
	is_int(split("select $$abc;\n", &s), -1, "unterminated dollar");
	sqlfile_section_release(&s);
	is_int(split("/* a /* b */ ;\n", &s), -1, "unterminated comment");
	sqlfile_section_release(&s);
	is_int(split("  -- nothing\n/* x */\n", &s), 0, "only comments");
	sqlfile_section_release(&s);
}

static int
parse_mem(const char *text, struct sqlfile *sf)
{
	memset(sf, 0, sizeof(*sf));
	sqlfile_read_mem(sf, "0001_x.sql", text, strlen(text), err,
	    sizeof(err));
	err[0] = '\0';
	return sqlfile_parse(sf, err, sizeof(err));
}

static void
test_sections(void)
{
	struct sqlfile sf;
	char c1[SQLFILE_CHECKSUM_LEN + 1];

	is_int(parse_mem("create table a (x int);", &sf), 0, "no markers");
	ok(sf.up.present && sf.up.n == 1 && !sf.down.present,
	    "whole file is up");
	/* printf 'create table a (x int);' | sha256sum */
	is_str(sf.checksum, "85e277de3a896cedccd741062229d9e8"
	    "53c30b98aa7da7e5b08a19221fd7f81c",
	    "checksum is the SHA-256 of the file");
	is_int((int)strlen(sf.checksum), 64, "hex sha-256");
	sqlfile_release(&sf);

	is_int(parse_mem("-- header\n-- migrate:up transaction:false\n"
	    "create index concurrently i on t (x);\n-- migrate:down\n"
	    "drop index i;\n", &sf), 0, "up and down");
	ok(sf.up.no_transaction && !sf.down.no_transaction,
	    "transaction:false on up only");
	ok(sf.up.n == 1 && sf.up.stmts[0].line == 3, "up statement line 3");
	ok(sf.down.n == 1 && sf.down.stmts[0].line == 5,
	    "down statement line 5");
	memcpy(c1, sf.checksum, sizeof(c1));
	sqlfile_release(&sf);

	parse_mem("-- header\n-- migrate:up transaction:false\n"
	    "create index concurrently i on t (x);\n-- migrate:down\n"
	    "drop index if exists i;\n", &sf);
	is_str(sf.checksum, c1, "editing the down section keeps the checksum");
	sqlfile_release(&sf);
	parse_mem("-- header\n-- migrate:up transaction:false\n"
	    "create index concurrently j on t (x);\n-- migrate:down\n"
	    "drop index i;\n", &sf);
	ok(strcmp(sf.checksum, c1) != 0, "editing up changes the checksum");
	sqlfile_release(&sf);

	is_int(parse_mem("select 1;\n-- migrate:up\nselect 2;\n", &sf), -1,
	    "SQL before the up marker");
	ok(strstr(err, "0001_x.sql:2:") != NULL, "names file:line");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:up\n-- migrate:up\n", &sf), -1,
	    "two up markers");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:down\nselect 1;\n-- migrate:up\n", &sf),
	    -1, "up after down");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:up transaction:maybe\n", &sf), -1,
	    "unknown marker option");
	ok(strstr(err, "transaction:maybe") != NULL, "option named");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:upgrade\nselect 1;\n", &sf), 0,
	    "migrate:upgrade is no marker");
	ok(sf.up.n == 1, "it is a comment");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:up\n-- migrate:down\nselect 1;\n", &sf),
	    0, "empty up");
	ok(sf.up.n == 0 && sf.down.n == 1, "nothing to do up, one down");
	sqlfile_release(&sf);
}

/* The content rules, applied by sqlfile_parse() for every command. */
static void
test_rules(void)
{
	struct sqlfile sf;

	is_int(parse_mem("create table a (x int);\nrollback;\n", &sf), -1,
	    "ROLLBACK in a transactional migration is refused");
	ok(strstr(err, "0001_x.sql:2: ROLLBACK") != NULL, "at file:line");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:up\nselect 1;\n-- migrate:down\n"
	    "abort;\n", &sf), -1, "ABORT in a down section too");
	sqlfile_release(&sf);
	is_int(parse_mem("-- migrate:up transaction:false\nbegin;\n"
	    "rollback;\n", &sf), 0, "ROLLBACK outside our transaction is fine");
	sqlfile_release(&sf);
	is_int(parse_mem("savepoint a;\nrollback to a;\n", &sf), 0,
	    "ROLLBACK TO SAVEPOINT is fine");
	sqlfile_release(&sf);

	is_int(parse_mem("BEGIN ISOLATION LEVEL SERIALIZABLE;\n"
	    "set transaction read only;\nselect 1;\ncommit;\n", &sf), 0,
	    "leading BEGIN with modes");
	is_int((int)sf.up.nlead, 2, "BEGIN and SET TRANSACTION open it");
	is_int(sf.up.stmts[1].txn_control, SQL_TXN_SET, "SET TRANSACTION");
	is_int(sf.up.read_only, 1, "READ ONLY seen");
	sqlfile_release(&sf);
	is_int(parse_mem("begin read only, read write;\nselect 1;\n", &sf), 0,
	    "the last mode wins");
	is_int(sf.up.read_only, 0, "READ WRITE after READ ONLY");
	sqlfile_release(&sf);
	is_int(parse_mem("select 1;\nset transaction read only;\n", &sf), 0,
	    "a late SET TRANSACTION");
	is_int((int)sf.up.nlead, 0, "does not open the transaction");
	is_int(sf.up.read_only, 0, "nor make it read only");
	sqlfile_release(&sf);
	is_int(parse_mem("select 'read only';\n", &sf), 0, "a string");
	is_int(sf.up.read_only, 0, "words in strings are no modes");
	sqlfile_release(&sf);

	is_int(parse_mem("alter type mood add value 'x';\n", &sf), 0,
	    "ADD VALUE");
	is_int(sf.up.adds_enum_value, 1, "adds an enum value");
	sqlfile_release(&sf);
	is_int(parse_mem("alter table t add value int;\n", &sf), 0,
	    "a column named value");
	is_int(sf.up.adds_enum_value, 0, "is no enum value");
	sqlfile_release(&sf);

	is_int(parse_mem("\xef\xbb\xbf-- migrate:up\ncreate table b (x int);\n"
	    "-- migrate:down\ndrop table b;\n", &sf), 0,
	    "a byte-order mark is skipped");
	ok(sf.up.n == 1 && sf.down.n == 1 &&
	    strcmp(sf.up.stmts[0].sql, "create table b (x int)") == 0,
	    "the marker after it is a marker");
	sqlfile_release(&sf);
	is_int(parse_mem("\xef\xbb\xbfselect 1;\n", &sf), 0, "BOM, no marker");
	is_str(sf.up.stmts[0].sql, "select 1", "the statement starts after it");
	sqlfile_release(&sf);
}

int
main(void)
{
	test_names();
	test_split();
	test_sections();
	test_rules();
	return done_testing();
}
