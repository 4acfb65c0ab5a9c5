/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private helpers shared by the library's /proc and /sys readers: paths under a root prefix,
 * small-file and line-by-line reading that names the file and line of what it refuses, and
 * the per-thread detail of the last failure (ns_error_detail). */
#ifndef NS_LIB_UTIL_H
#define NS_LIB_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* root + formatted path; root NULL or "/" means the real filesystem. -ENAMETOOLONG if long. */
int ns_path(char *buf, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Open a regular file for reading without blocking on a FIFO or following a final symlink a
 * user may have planted under a fixture root. Returns an fd or -errno (-EINVAL: not a regular
 * file). */
int ns_open_ro(const char *path);
/* Read a small file whole into buf (NUL-terminated). Returns bytes read or -errno. */
ssize_t ns_read_file(const char *path, char *buf, size_t len);
/* A file holding one decimal number (sysfs, cgroupfs): strict (ns_uint_parse), trailing
 * newline allowed. -ENOENT, -EINVAL (not a number; empty), -ERANGE. Sets the error detail
 * ("PATH: ..."); a caller that tolerates the failure clears it (ns_detail_clear). */
int ns_read_u64(const char *path, uint64_t *out);
/* The decimal digits at *p through ns_uint_parse (the one integer parser); *p moves past all
 * of them, even when the value is out of range. -EINVAL when *p is not a digit. */
int ns_uint_take(const char **p, unsigned long long max, unsigned long long *v);
/* Undo the kernel's \ooo escaping of blanks and backslashes in paths (seq_file), in place. */
void ns_unescape_octal(char *s);
/* Is root the live system (NULL or "/")? Probes that act on processes need it to be. */
int ns_root_is_live(const char *root);

/* The detail behind ns_error_detail(): set by the reader that refuses its input (returning
 * err, so "return ns_detail(-EINVAL, ...)" reads naturally), cleared at the start of each
 * public reader and by callers that tolerate a failure. */
int ns_detail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ns_detail_clear(void);

/* Line-by-line reading of a /proc or /sys text file under a root, remembering the path (as
 * opened, root included) and the line number for the error detail. */
#define NS_LINE_MAX 16384 /* longer than any line the kernel writes in the files we read */
struct ns_lines {
	FILE *f;
	unsigned lineno;
	char path[4096];
	char buf[NS_LINE_MAX + 1];
};
/* 0, or -errno with the detail "PATH: strerror". */
int ns_lines_open(struct ns_lines *l, const char *root, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 1 with *line (newline stripped), 0 at the end, -EINVAL for a line longer than NS_LINE_MAX
 * or holding a NUL byte, -errno on a read error; each failure with the detail. */
int ns_lines_next(struct ns_lines *l, char **line);
/* Set the detail "PATH:LINE: message" (or "PATH: message" before the first line) and return err. */
int ns_lines_fail(const struct ns_lines *l, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ns_lines_close(struct ns_lines *l);

/* A kernel count of units (kB, pages) to bytes: -ERANGE when the product does not fit. */
static inline int ns_bytes_of(uint64_t count, uint64_t unit, uint64_t *out)
{
	return __builtin_mul_overflow(count, unit, out) ? -ERANGE : 0;
}

#endif
