/* Private helpers shared by the library's /proc and /sys readers. */
#ifndef NS_LIB_UTIL_H
#define NS_LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* root + formatted path; root NULL or "/" means the real filesystem. -ENAMETOOLONG if long. */
int ns_path(char *buf, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
FILE *ns_fopen_root(const char *root, const char *rel, int *err);
/* Read a small file whole into buf (NUL-terminated). Returns bytes read or -errno. */
ssize_t ns_read_file(const char *path, char *buf, size_t len);
int ns_read_u64(const char *path, uint64_t *out);
/* Undo the kernel's \ooo escaping of blanks and backslashes in paths (seq_file), in place. */
void ns_unescape_octal(char *s);
/* Is root the live system (NULL or "/")? Probes that act on processes need it to be. */
int ns_root_is_live(const char *root);

/* Sizes saturate instead of wrapping: a sum that would pass UINT64_MAX is UINT64_MAX. */
static inline uint64_t ns_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Record or clear the detail ns_error_detail() returns (a file, a line, what was wrong). */
void ns_detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ns_detail_clear(void);

#endif
