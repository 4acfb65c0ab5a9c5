/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names made safe for each output (see numasafe/text.h): one UTF-8 decoder that knows what a
 * strict reader refuses, and the three renderings built on it (JSON, Prometheus, terminal). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "numasafe/text.h"

size_t ns_utf8_seq(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len;
	unsigned cp, min;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else
		return 0; /* a continuation byte, C0/C1 (always overlong), F5-FF */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int ns_json_utf8(const char *in, size_t len, char **out, size_t *outlen)
{
	size_t bad = 0, o = 0;
	char *b;

	for (size_t i = 0; i < len;) {
		size_t k = ns_utf8_seq(in + i, len - i);

		bad += k == 0;
		i += k ? k : 1;
	}
	/* each bad byte (1) becomes 6 */
	b = malloc(len + bad * 5 + 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		size_t k = ns_utf8_seq(in + i, len - i);

		if (k == 0) {
			memcpy(b + o, "\\ufffd", 6);
			o += 6;
			i++;
		} else {
			memcpy(b + o, in + i, k);
			o += k;
			i += k;
		}
	}
	b[o] = '\0';
	*out = b;
	*outlen = o;
	return 0;
}

/* Copy s into out, each character through one rule: a valid sequence of k bytes is kept or,
 * when repl is set for it, replaced; a bad byte is replaced by bad. Stops at a character
 * boundary when out is full. */
static const char *render(const char *s, char *out, size_t len, const char *bad, int controls)
{
	size_t n = strlen(s), o = 0;

	if (!len)
		return out;
	for (size_t i = 0; i < n;) {
		size_t k = ns_utf8_seq(s + i, n - i);
		const char *put = s + i;
		size_t plen = k;

		if (k == 0) {
			put = bad;
			plen = strlen(bad);
			k = 1;
		} else if (controls) {
			const unsigned char *u = (const unsigned char *)s + i;

			/* C0 and DEL; C1 is U+0080-U+009F, encoded C2 80 to C2 9F */
			if ((k == 1 && (u[0] < 0x20 || u[0] == 0x7f)) || (k == 2 && u[0] == 0xc2 && u[1] <= 0x9f)) {
				put = bad;
				plen = strlen(bad);
			}
		}
		if (o + plen >= len)
			break;
		memcpy(out + o, put, plen);
		o += plen;
		i += k;
	}
	out[o] = '\0';
	return out;
}

const char *ns_utf8_fix(const char *s, char *out, size_t len)
{
	return render(s, out, len, "\xef\xbf\xbd", 0);
}

const char *ns_text_safe(const char *s, char *out, size_t len)
{
	return render(s, out, len, "?", 1);
}
