/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared bits for the cmocka unit tests: where the fixture trees are, and corrupted copies of
 * them in temporary directories (no near-duplicate trees committed). */
#ifndef NS_UNIT_H
#define NS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static inline const char *fixture(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("NS_FIXTURES");

	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : "tests/fixtures", name);
	return buf;
}

/* A copy of fixture tree name in a new temporary directory; the path stays valid until the
 * next call. tree_rm removes it. */
static inline const char *tree_copy(const char *name)
{
	static char dir[4096];
	char cmd[8300];

	snprintf(dir, sizeof(dir), "%s/ns-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		fail_msg("mkdtemp: %s", dir);
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", fixture(name), dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
	return dir;
}

static inline void tree_rm(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

/* Write text as the tree's file rel (NULL: remove it). */
static inline void tree_put(const char *dir, const char *rel, const char *text)
{
	char path[8300];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", dir, rel);
	if (!text) {
		if (remove(path) != 0)
			fail_msg("remove %s", path);
		return;
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail_msg("write %s", path);
}

/* Run a sed script on the tree's file rel (sed -i -e script). */
static inline void tree_sed(const char *dir, const char *rel, const char *script)
{
	char cmd[8300];

	snprintf(cmd, sizeof(cmd), "sed -i -e '%s' '%s%s'", script, dir, rel);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

#endif
