#include "sqlfile.h"

int
sqlfile_placeholder(void)
{
	return 0;
}
