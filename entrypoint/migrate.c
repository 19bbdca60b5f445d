/* migrate.c - placeholder until the migrate work lands. */
#include "exitcode.h"
#include "log.h"
#include "migrate.h"

int
cmd_migrate(struct config *cfg, int argc, char **argv)
{
	(void)cfg;
	(void)argc;
	(void)argv;
	return log_error("not implemented yet"), EXIT_SOFTWARE;
}

int
migrate_gate(const struct config *cfg, enum require_migrations mode,
    const char *process)
{
	(void)cfg;
	(void)process;
	return mode == REQUIRE_MIGRATIONS_OFF ? 0 : EXIT_SOFTWARE;
}

int
migrate_check(const struct config *cfg)
{
	(void)cfg;
	return 0;
}
