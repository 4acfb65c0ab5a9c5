/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the libFuzzer targets in tests/fuzz share: the input as a C string, and a private
 * directory tree for the readers that take a root prefix (each input is written to the file
 * the reader opens under it). Every target checks the contract its header states, not only
 * that nothing crashes: a broken promise aborts like a sanitizer report. */
#ifndef NS_FUZZ_H
#define NS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input, exactly size + 1 bytes, so reading past the end is an
 * ASan report. free() it. */
char *fz_str(const uint8_t *data, size_t size);
/* The private tree (mkdtemp under $TMPDIR, removed at exit), made on first use. */
const char *fz_root(void);
/* Write data to ROOT/rel, making the directories above it. */
void fz_write(const char *rel, const void *data, size_t size);
/* Remove ROOT/rel and everything under it (absent is fine). */
void fz_remove(const char *rel);

#define FZ_CHECK(cond)                                                                              \
	do {                                                                                        \
		if (!(cond)) {                                                                      \
			fprintf(stderr, "fuzz: %s:%d: contract broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                    \
		}                                                                                   \
	} while (0)

#endif
