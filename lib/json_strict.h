/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A strict RFC 8259 check of a JSON text, for files root acts on (the rebalance plan). json-c's
 * tokener, even with JSON_TOKENER_STRICT (0.16), accepts single-quoted keys, NaN and Infinity,
 * "1.", raw control characters and overlong or surrogate UTF-8 in strings, and keeps the last
 * of duplicate keys, so a plan could mean one thing to numa-migrate and another to jq or the
 * policy script. This check runs first; json-c then parses only what it accepted. */
#ifndef NS_LIB_JSON_STRICT_H
#define NS_LIB_JSON_STRICT_H

#include <stddef.h>

/* Deeper than json-c's default tokener depth is refused here as well, so the two agree. */
#define NS_JSON_MAX_DEPTH 32

/* Is text[0..len) exactly one JSON value (RFC 8259), with only JSON white space around it?
 * Refused: anything outside the grammar (single quotes, unquoted keys, comments, NaN, Infinity,
 * leading zeros, "1.", ".5", "+1", trailing commas, a byte order mark, a NUL byte, text after
 * the value), raw control characters in strings, invalid escapes, a \u escape of a lone
 * surrogate, UTF-8 that is not valid (RFC 3629: overlong forms, surrogates, above U+10FFFF,
 * truncated sequences), the same key twice in one object (compared after unescaping), nesting
 * deeper than NS_JSON_MAX_DEPTH. 0; -EINVAL with *at the byte offset of the first problem
 * found and why (one line, printable ASCII) filled; -ENOMEM. */
int ns_json_strict_check(const char *text, size_t len, size_t *at, char *why, size_t whylen);

/* The 1-based line and column (in bytes) of byte offset at of text. */
void ns_json_position(const char *text, size_t len, size_t at, unsigned *line, unsigned *col);

#endif
