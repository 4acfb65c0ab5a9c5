/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A strict RFC 8259 check of a JSON text before json-c parses it (json_strict.h says why): a
 * recursive descent over the grammar, RFC 3629 UTF-8 in strings, and each object's keys,
 * unescaped, sorted at its end to find one given twice. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"

struct key {
	size_t off, len; /* unescaped bytes in the arena */
	size_t at;	 /* where the key's string starts in the text */
};

struct js {
	const unsigned char *s;
	size_t len, pos;
	int depth;
	/* keys of the objects open now, innermost last; popped when an object closes */
	struct key *keys;
	size_t nkeys, capkeys;
	unsigned char *arena;
	size_t alen, acap;
	/* the first problem */
	int err;
	size_t at;
	char *why;
	size_t whylen;
};

static int fail_at(struct js *j, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct js *j, size_t at, const char *fmt, ...)
{
	va_list ap;

	j->err = -EINVAL;
	j->at = at;
	va_start(ap, fmt);
	vsnprintf(j->why, j->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int nomem(struct js *j)
{
	j->err = -ENOMEM;
	return -ENOMEM;
}

static void skip_ws(struct js *j)
{
	while (j->pos < j->len &&
	       (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' || j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
		j->pos++;
}

static int peek(const struct js *j)
{
	return j->pos < j->len ? j->s[j->pos] : -1;
}

/* What was found where a value, a key or punctuation was expected, for the message. */
static int unexpected(struct js *j, const char *wanted)
{
	int c = peek(j);

	if (c < 0)
		return fail_at(j, j->pos, "the text ends where %s was expected", wanted);
	if (c == '\'')
		return fail_at(j, j->pos, "a single quote where %s was expected (JSON strings take double quotes)",
			       wanted);
	if (c == '/')
		return fail_at(j, j->pos, "a comment (JSON has none)");
	if (c == 0xef && j->pos == 0)
		return fail_at(j, j->pos, "a byte order mark before the text");
	if (c >= 0x21 && c < 0x7f)
		return fail_at(j, j->pos, "'%c' where %s was expected", c, wanted);
	return fail_at(j, j->pos, "byte 0x%02x where %s was expected", (unsigned)c, wanted);
}

static int arena_put(struct js *j, const unsigned char *b, size_t n, bool keep)
{
	if (!keep)
		return 0;
	if (j->acap - j->alen < n) {
		size_t cap = j->acap ? j->acap : 256;
		unsigned char *a;

		while (cap - j->alen < n) {
			if (cap > SIZE_MAX / 2)
				return nomem(j);
			cap *= 2;
		}
		a = realloc(j->arena, cap);
		if (!a)
			return nomem(j);
		j->arena = a;
		j->acap = cap;
	}
	memcpy(j->arena + j->alen, b, n);
	j->alen += n;
	return 0;
}

static int hex4(struct js *j, size_t p, unsigned *v)
{
	*v = 0;
	if (j->len - p < 4)
		return fail_at(j, j->len, "the text ends inside a \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned c = j->s[p + (size_t)i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return fail_at(j, p + (size_t)i, "a \\u escape needs four hex digits");
		*v = *v << 4 | d;
	}
	return 0;
}

/* One UTF-8 sequence starting at j->pos (its first byte >= 0x80), RFC 3629: its length, or
 * an error at its first byte. */
static int utf8_seq(struct js *j, size_t *n)
{
	const unsigned char *s = j->s + j->pos;
	size_t left = j->len - j->pos;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		*n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		*n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong below */
		else if (s[0] == 0xed)
			hi = 0x9f; /* UTF-16 surrogates above */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		*n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return fail_at(j, j->pos, "byte 0x%02x is not UTF-8 here", s[0]);
	if (left < *n)
		return fail_at(j, j->pos, "a UTF-8 sequence cut short by the end of the text");
	if (s[1] < lo || s[1] > hi)
		return fail_at(j, j->pos, "invalid UTF-8 (overlong, a surrogate, above U+10FFFF or cut short)");
	for (size_t i = 2; i < *n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return fail_at(j, j->pos, "invalid UTF-8 (a sequence cut short)");
	return 0;
}

/* A string at j->pos (a double quote); its unescaped bytes go to the arena when keep. */
static int string(struct js *j, bool keep)
{
	size_t start = j->pos;

	j->pos++;
	for (;;) {
		unsigned char c, out[4];
		unsigned u, u2;
		size_t n = 0;

		if (j->pos >= j->len)
			return fail_at(j, start, "a string without its closing double quote");
		c = j->s[j->pos];
		if (c == '"') {
			j->pos++;
			return 0;
		}
		if (c < 0x20)
			return fail_at(j, j->pos, "control character 0x%02x in a string (JSON needs it escaped)", c);
		if (c >= 0x80) {
			if (utf8_seq(j, &n) < 0 || arena_put(j, j->s + j->pos, n, keep) < 0)
				return j->err;
			j->pos += n;
			continue;
		}
		if (c != '\\') {
			if (arena_put(j, &c, 1, keep) < 0)
				return j->err;
			j->pos++;
			continue;
		}
		if (j->pos + 1 >= j->len)
			return fail_at(j, start, "a string without its closing double quote");
		c = j->s[j->pos + 1];
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (hex4(j, j->pos + 2, &u) < 0)
				return j->err;
			n = 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail_at(j, j->pos, "\\u%04x is half of a UTF-16 pair without its first half", u);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->len - j->pos < 12 || j->s[j->pos + 6] != '\\' || j->s[j->pos + 7] != 'u' ||
				    hex4(j, j->pos + 8, &u2) < 0 || u2 < 0xdc00 || u2 > 0xdfff)
					return fail_at(j, j->pos, "\\u%04x is half of a UTF-16 pair without its second half",
						       u);
				u = 0x10000 + ((u - 0xd800) << 10) + (u2 - 0xdc00);
				n = 12;
			}
			/* the code point as UTF-8, for comparing keys */
			if (u < 0x80) {
				out[0] = (unsigned char)u;
				u2 = 1;
			} else if (u < 0x800) {
				out[0] = (unsigned char)(0xc0 | u >> 6);
				out[1] = (unsigned char)(0x80 | (u & 0x3f));
				u2 = 2;
			} else if (u < 0x10000) {
				out[0] = (unsigned char)(0xe0 | u >> 12);
				out[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
				out[2] = (unsigned char)(0x80 | (u & 0x3f));
				u2 = 3;
			} else {
				out[0] = (unsigned char)(0xf0 | u >> 18);
				out[1] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
				out[2] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
				out[3] = (unsigned char)(0x80 | (u & 0x3f));
				u2 = 4;
			}
			if (arena_put(j, out, u2, keep) < 0)
				return j->err;
			j->pos += n;
			continue;
		default:
			return fail_at(j, j->pos, "\\%c is not a JSON escape", c >= 0x21 && c < 0x7f ? c : '?');
		}
		if (arena_put(j, &c, 1, keep) < 0)
			return j->err;
		j->pos += 2;
	}
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

static int number(struct js *j)
{
	size_t start = j->pos;

	if (peek(j) == '-')
		j->pos++;
	if (peek(j) == '0') {
		j->pos++;
		if (digit(peek(j)))
			return fail_at(j, start, "a number with a leading zero");
	} else if (digit(peek(j))) {
		while (digit(peek(j)))
			j->pos++;
	} else if (peek(j) == 'I')
		return fail_at(j, start, "-Infinity is not a JSON number");
	else
		return fail_at(j, start, "'-' without digits");
	if (peek(j) == '.') {
		j->pos++;
		if (!digit(peek(j)))
			return fail_at(j, start, "a number with no digit after its '.'");
		while (digit(peek(j)))
			j->pos++;
	}
	if (peek(j) == 'e' || peek(j) == 'E') {
		j->pos++;
		if (peek(j) == '+' || peek(j) == '-')
			j->pos++;
		if (!digit(peek(j)))
			return fail_at(j, start, "a number with no digit in its exponent");
		while (digit(peek(j)))
			j->pos++;
	}
	return 0;
}

static int literal(struct js *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return unexpected(j, "a value");
	j->pos += n;
	return 0;
}

static int key_cmp(const void *a, const void *b, void *arena)
{
	const struct key *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp((const unsigned char *)arena + x->off, (const unsigned char *)arena + y->off, x->len);
	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The keys of the object that closes now (from index base): the first given twice, in text
 * order, is the problem. */
static int keys_unique(struct js *j, size_t base)
{
	const struct key *dup = NULL, *first = NULL;
	size_t n = j->nkeys - base;
	char shown[48];
	unsigned k = 0;

	if (n < 2)
		return 0;
	qsort_r(j->keys + base, n, sizeof(*j->keys), key_cmp, j->arena);
	for (size_t i = base + 1; i < j->nkeys; i++) {
		const struct key *a = &j->keys[i - 1], *b = &j->keys[i];

		if (a->len == b->len && memcmp(j->arena + a->off, j->arena + b->off, a->len) == 0 &&
		    (!dup || b->at < dup->at)) {
			dup = b;
			first = a;
		}
	}
	if (!dup)
		return 0;
	/* the key as printable ASCII, cut short */
	for (size_t i = 0; i < dup->len && k < sizeof(shown) - 4; i++) {
		unsigned char c = j->arena[dup->off + i];

		shown[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (k < dup->len)
		shown[k++] = '.', shown[k++] = '.', shown[k++] = '.';
	shown[k] = '\0';
	/* the first of a group equal keys sorts first: it is the first given */
	while (first > j->keys + base && first[-1].len == first->len &&
	       memcmp(j->arena + first[-1].off, j->arena + first->off, first->len) == 0)
		first--;
	{
		unsigned line, col;

		ns_json_position((const char *)j->s, j->len, first->at, &line, &col);
		return fail_at(j, dup->at, "key \"%s\" a second time in the object (first at line %u, column %u)", shown,
			       line, col);
	}
}

static int value(struct js *j);

static int object(struct js *j)
{
	size_t base = j->nkeys, abase = j->alen;
	int rc;

	j->pos++;
	skip_ws(j);
	if (peek(j) == '}') {
		j->pos++;
		return 0;
	}
	for (;;) {
		struct key *k;

		if (peek(j) != '"')
			return unexpected(j, "a key in double quotes");
		if (j->nkeys == j->capkeys) {
			size_t cap = j->capkeys ? j->capkeys * 2 : 16;
			struct key *nk = cap > SIZE_MAX / sizeof(*nk) ? NULL : realloc(j->keys, cap * sizeof(*nk));

			if (!nk)
				return nomem(j);
			j->keys = nk;
			j->capkeys = cap;
		}
		k = &j->keys[j->nkeys];
		k->at = j->pos;
		k->off = j->alen;
		if ((rc = string(j, true)) < 0)
			return rc;
		k->len = j->alen - k->off;
		j->nkeys++;
		skip_ws(j);
		if (peek(j) != ':')
			return unexpected(j, "':' after the key");
		j->pos++;
		skip_ws(j);
		if ((rc = value(j)) < 0)
			return rc;
		skip_ws(j);
		if (peek(j) == ',') {
			j->pos++;
			skip_ws(j);
			if (peek(j) == '}')
				return fail_at(j, j->pos, "a comma before '}'");
			continue;
		}
		if (peek(j) == '}')
			break;
		return unexpected(j, "',' or '}'");
	}
	j->pos++;
	rc = keys_unique(j, base);
	j->nkeys = base;
	j->alen = abase;
	return rc;
}

static int array(struct js *j)
{
	int rc;

	j->pos++;
	skip_ws(j);
	if (peek(j) == ']') {
		j->pos++;
		return 0;
	}
	for (;;) {
		if ((rc = value(j)) < 0)
			return rc;
		skip_ws(j);
		if (peek(j) == ',') {
			j->pos++;
			skip_ws(j);
			if (peek(j) == ']')
				return fail_at(j, j->pos, "a comma before ']'");
			continue;
		}
		if (peek(j) == ']') {
			j->pos++;
			return 0;
		}
		return unexpected(j, "',' or ']'");
	}
}

static int value(struct js *j)
{
	int rc;

	switch (peek(j)) {
	case '{':
	case '[':
		if (j->depth >= NS_JSON_MAX_DEPTH)
			return fail_at(j, j->pos, "nested deeper than %d", NS_JSON_MAX_DEPTH);
		j->depth++;
		rc = peek(j) == '{' ? object(j) : array(j);
		j->depth--;
		return rc;
	case '"':
		return string(j, false);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	case 'N':
	case 'I':
		return fail_at(j, j->pos, "NaN and Infinity are not JSON numbers");
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(j);
	default:
		return unexpected(j, "a value");
	}
}

int ns_json_strict_check(const char *text, size_t len, size_t *at, char *why, size_t whylen)
{
	char scratch[8];
	struct js j = {.s = (const unsigned char *)text, .len = len, .why = why, .whylen = whylen};
	int rc;

	if (!why || !whylen) {
		j.why = scratch;
		j.whylen = sizeof(scratch);
	}
	j.why[0] = '\0';
	skip_ws(&j);
	rc = value(&j);
	if (rc == 0) {
		skip_ws(&j);
		if (j.pos < j.len)
			rc = j.s[j.pos] == '/' ? fail_at(&j, j.pos, "a comment (JSON has none)")
					       : fail_at(&j, j.pos, "text after the JSON value");
	}
	free(j.keys);
	free(j.arena);
	if (rc == -ENOMEM || j.err == -ENOMEM)
		return -ENOMEM;
	if (rc < 0 && at)
		*at = j.at;
	return rc;
}

void ns_json_position(const char *text, size_t len, size_t at, unsigned *line, unsigned *col)
{
	size_t bol = 0;
	unsigned l = 1;

	if (at > len)
		at = len;
	for (size_t i = 0; i < at; i++)
		if (text[i] == '\n') {
			l += l < UINT32_MAX;
			bol = i + 1;
		}
	*line = l;
	*col = at - bol >= UINT32_MAX ? UINT32_MAX : (unsigned)(at - bol + 1);
}
