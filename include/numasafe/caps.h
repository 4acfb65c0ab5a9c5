/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability checks that name what is missing and why it is needed. */
#ifndef NUMASAFE_CAPS_H
#define NUMASAFE_CAPS_H

#include <stdbool.h>
#include <sys/capability.h>

/* 1 if the effective set has cap, 0 if not, -errno on failure. */
int ns_cap_have(cap_value_t cap);
/* 0 when every cap is effective; otherwise -EPERM and *missing is the first one lacking. */
int ns_cap_require(const cap_value_t *caps, int n, cap_value_t *missing);
/* "CAP_SYS_ADMIN" etc.; static storage. */
const char *ns_cap_name(cap_value_t cap);

#endif
