/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only entry points of lib/state.c: the same code, on a directory the test chooses. */
#ifndef NS_LIB_STATE_INT_H
#define NS_LIB_STATE_INT_H

#include "numasafe/state.h"

/* ns_last_run_write with dir in place of NS_STATEDIR. */
int ns_last_run_write_in(const char *dir, const struct ns_last_run *r);

#endif
