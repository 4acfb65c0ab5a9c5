/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_size_parse (--reserve, --rate, --chunk, sizes in plan and fixture files).
 * Contract: 0, -EINVAL or -ERANGE; a plain decimal number is taken as exactly that many bytes;
 * whatever it accepts prints (ns_size_format) without overflowing the buffer. */
#include <errno.h>
#include <string.h>

#include "numasafe/parse.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), buf[32];
	uint64_t v = 0;
	int rc = ns_size_parse(s, &v);

	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	if (rc == 0) {
		size_t digits = strspn(s, "0123456789");

		if (digits > 0 && digits < 20 && s[digits] == '\0')
			FZ_CHECK(v == strtoull(s, NULL, 10));
		ns_size_format(v, buf, sizeof(buf));
		FZ_CHECK(strlen(buf) < sizeof(buf));
	}
	free(s);
	return 0;
}
