/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability checks through libcap, so refusals can name exactly what is missing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "numasafe/caps.h"

int ns_cap_have(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps = cap_get_proc();
	int rc;

	if (!caps)
		return -errno;
	rc = cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0 ? -errno : (v == CAP_SET);
	cap_free(caps);
	return rc;
}

int ns_cap_require(const cap_value_t *caps, int n, cap_value_t *missing)
{
	for (int i = 0; i < n; i++) {
		int rc = ns_cap_have(caps[i]);

		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (missing)
				*missing = caps[i];
			return -EPERM;
		}
	}
	return 0;
}

const char *ns_cap_name(cap_value_t cap)
{
	static __thread char buf[64];
	char *name = cap_to_name(cap);
	size_t i;

	if (!name)
		return "CAP_?";
	/* libcap spells them "cap_sys_admin"; operators know them as CAP_SYS_ADMIN */
	for (i = 0; name[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32 : name[i]);
	buf[i] = '\0';
	cap_free(name);
	return buf;
}
