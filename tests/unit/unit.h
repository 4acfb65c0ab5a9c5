/* Shared bits for the cmocka unit tests: where the fixture trees are. */
#ifndef NS_UNIT_H
#define NS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

static inline const char *fixture(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("NS_FIXTURES");

	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : "tests/fixtures", name);
	return buf;
}

#endif
