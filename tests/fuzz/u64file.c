/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_read_u64, the reader of every one-number file (cpu.weight, cpu.shares,
 * memory.current, hugepage counts, libvirt's pid files), in a private tree. Contract: 0 with
 * the file's leading decimal number, or -errno; a file too long for its buffer is cut, never
 * overrun. */
#include <errno.h>

#include "util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4200];
	uint64_t v;

	fz_write("file", data, size);
	snprintf(path, sizeof(path), "%s/file", fz_root());
	FZ_CHECK(ns_read_u64(path, &v) <= 0);
	return 0;
}
