/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names as they leave the tool: a VM's -name, a process's comm, a cgroup or file path can hold
 * any bytes a user chose (invalid UTF-8, escape sequences, newlines). One rule per output:
 * JSON documents are valid UTF-8 (each byte outside a valid sequence becomes U+FFFD),
 * Prometheus label values the same, and text for a terminal shows every control character
 * and every such byte as '?', as ps(1) does. */
#ifndef NUMASAFE_TEXT_H
#define NUMASAFE_TEXT_H

#include <stddef.h>

/* The length (1-4) of the valid UTF-8 sequence at s, of at most n bytes; 0 when s does not
 * start one: a stray continuation byte, an overlong form, a surrogate (U+D800-U+DFFF), a
 * code point above U+10FFFF, or a sequence cut short. A NUL byte is a sequence of 1. */
size_t ns_utf8_seq(const char *s, size_t n);

/* Serialized JSON text (json-c's: every byte above 0x7f is inside a string) made valid UTF-8:
 * each byte outside a valid sequence is written as the escape \ufffd. *out is malloc()ed and
 * NUL-terminated, *outlen its length. -ENOMEM. */
int ns_json_utf8(const char *in, size_t len, char **out, size_t *outlen);

/* s as valid UTF-8, each byte outside a valid sequence replaced by U+FFFD (EF BF BD), cut at
 * a character boundary to fit len bytes with the NUL. Returns out. (Prometheus label values.) */
const char *ns_utf8_fix(const char *s, char *out, size_t len);

/* s for a terminal or a table: control characters (C0, DEL, C1 U+0080-U+009F) and bytes outside
 * a valid sequence each become '?', so nothing in it moves the cursor, changes colours or
 * starts a new row; cut at a character boundary to fit len bytes with the NUL. Returns out. */
const char *ns_text_safe(const char *s, char *out, size_t len);

#endif
