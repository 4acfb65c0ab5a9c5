/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnuma's hooks: by default libnuma prints to stderr from numa_error()/numa_warn(). A
 * library must not, so we replace both (libnuma declares them weak for this purpose) and keep
 * the error for the caller. */
#include <errno.h>
#include <numa.h>
#include <stdarg.h>

#include "numasafe/numasafe.h"

static __thread int last_error;

void numa_error(char *where)
{
	(void)where;
	last_error = errno ? errno : EINVAL;
}

void numa_warn(int number, char *where, ...)
{
	(void)number;
	(void)where;
}

int ns_numa_last_error(void)
{
	int e = last_error;

	last_error = 0;
	return e ? -e : 0;
}

int ns_numa_init(void)
{
	return numa_available() < 0 ? -ENOSYS : 0;
}
