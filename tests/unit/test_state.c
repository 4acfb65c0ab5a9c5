/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the last-run records (lib/state.c) in a temporary directory: a record written
 * and read back, the directory and file checks (a symlink, group- or world-writable, not
 * root's), and records that are refused (another version or command, a code out of range, a
 * reason with code 0, not JSON, too large). The ownership checks need root, as the commands do. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/numasafe.h"
#include "state_int.h"
#include "unit.h"

static char top[256];	/* the test's root prefix */
static char sdir[512];	/* top + NS_STATEDIR */

static int setup(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/ns-state-test.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(sdir, sizeof(sdir), "%s%s", top, NS_STATEDIR);
	/* the parents, as the system has them */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/var/lib'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void put(const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const struct ns_last_run refused = {
	.command = "numa-migrate", .code = 4, .reason = "headroom", .time = 1764400000.5, .duration = 2.25};

static void t_round_trip(void **state)
{
	struct ns_last_run r, ok = {.command = "vm-pin", .code = 0, .time = 1764400001.125, .duration = 0};
	struct stat st;
	char path[1024];

	(void)state;
	need_root();
	assert_int_equal(ns_last_run_read(top, "numa-migrate", &r), -ENOENT); /* no directory yet */
	assert_int_equal(ns_last_run_write_in(sdir, &refused), 0);
	/* created root-only, whatever the umask */
	assert_int_equal(stat(sdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/numa-migrate.json", sdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(ns_last_run_read(top, "numa-migrate", &r), 0);
	assert_string_equal(r.command, "numa-migrate");
	assert_int_equal(r.code, 4);
	assert_string_equal(r.reason, "headroom");
	assert_true(r.time == 1764400000.5);
	assert_true(r.duration == 2.25);
	assert_int_equal(ns_last_run_read(top, "vm-pin", &r), -ENOENT);
	assert_int_equal(ns_last_run_write_in(sdir, &ok), 0);
	assert_int_equal(ns_last_run_read(top, "vm-pin", &r), 0);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.reason, "");
	/* a second run replaces the first */
	ok.code = 5;
	snprintf(ok.reason, sizeof(ok.reason), "pressure");
	assert_int_equal(ns_last_run_write_in(sdir, &ok), 0);
	assert_int_equal(ns_last_run_read(top, "vm-pin", &r), 0);
	assert_int_equal(r.code, 5);
	assert_string_equal(r.reason, "pressure");
}

static void t_bad_fields_not_written(void **state)
{
	struct ns_last_run r = refused;

	(void)state;
	need_root();
	snprintf(r.command, sizeof(r.command), "../etc");
	assert_int_equal(ns_last_run_write_in(sdir, &r), -EINVAL);
	r = refused;
	r.code = 6;
	assert_int_equal(ns_last_run_write_in(sdir, &r), -EINVAL);
	r = refused;
	r.code = 0; /* a reason with success */
	assert_int_equal(ns_last_run_write_in(sdir, &r), -EINVAL);
	r = refused;
	r.reason[0] = '\0'; /* a failure without one */
	assert_int_equal(ns_last_run_write_in(sdir, &r), -EINVAL);
	r = refused;
	r.time = -1;
	assert_int_equal(ns_last_run_write_in(sdir, &r), -EINVAL);
	assert_int_equal(access(sdir, F_OK), -1); /* nothing made */
}

static void t_unsafe_directory(void **state)
{
	struct ns_last_run r;
	char other[600];

	(void)state;
	need_root();
	/* a symlink in its place, even to a good directory */
	snprintf(other, sizeof(other), "%s/elsewhere", top);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(symlink(other, sdir), 0);
	assert_int_equal(ns_last_run_write_in(sdir, &refused), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "symbolic link"));
	assert_int_equal(ns_last_run_read(top, "numa-migrate", &r), -EPERM);
	assert_int_equal(unlink(sdir), 0);
	/* writable by others, by its group, or not root's */
	assert_int_equal(mkdir(sdir, 0755), 0);
	assert_int_equal(chmod(sdir, 0777), 0);
	assert_int_equal(ns_last_run_write_in(sdir, &refused), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "writable by others"));
	assert_int_equal(chmod(sdir, 0775), 0);
	assert_int_equal(ns_last_run_write_in(sdir, &refused), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "writable by its group"));
	assert_int_equal(ns_last_run_read(top, "numa-migrate", &r), -EPERM);
	assert_int_equal(chmod(sdir, 0755), 0);
	assert_int_equal(chown(sdir, 65534, 65534), 0);
	assert_int_equal(ns_last_run_write_in(sdir, &refused), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "owned by uid 65534"));
	assert_int_equal(access(other, F_OK), 0); /* what the link pointed to is untouched */
}

static void t_file_in_place_of_directory(void **state)
{
	FILE *f;

	(void)state;
	need_root();
	f = fopen(sdir, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(ns_last_run_write_in(sdir, &refused), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "not a directory"));
}

static void t_bad_records(void **state)
{
	static const struct {
		const char *text, *detail;
	} bad[] = {
		{"not json\n", "not a JSON object"},
		{"[1]\n", "not a JSON object"},
		{"{\"version\":2,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":0,\"reason\":null,"
		 "\"time_s\":1,\"duration_s\":0}",
		 "version 2"},
		{"{\"version\":1,\"kind\":\"numasafe-show\",\"command\":\"fast-swapoff\",\"code\":0,\"reason\":null,"
		 "\"time_s\":1,\"duration_s\":0}",
		 "kind is not"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"vm-pin\",\"code\":0,\"reason\":null,"
		 "\"time_s\":1,\"duration_s\":0}",
		 "another command"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":9,\"reason\":\"busy\","
		 "\"time_s\":1,\"duration_s\":0}",
		 "code 9"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":\"4\",\"reason\":"
		 "\"busy\",\"time_s\":1,\"duration_s\":0}",
		 "\"code\" is missing or not an integer"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":0,\"reason\":\"busy\","
		 "\"time_s\":1,\"duration_s\":0}",
		 "out of range"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":4,\"reason\":\"Busy\","
		 "\"time_s\":1,\"duration_s\":0}",
		 "out of range"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":0,\"reason\":null,"
		 "\"time_s\":-5,\"duration_s\":0}",
		 "out of range"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":0,\"reason\":null,"
		 "\"duration_s\":0}",
		 "\"time_s\" is missing"},
		{"{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":0,\"time_s\":1,"
		 "\"duration_s\":0}",
		 "\"reason\" is missing"},
	};
	struct ns_last_run r;
	char big[8192];

	(void)state;
	need_root();
	assert_int_equal(mkdir(sdir, 0755), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("fast-swapoff.json", bad[i].text);
		assert_int_equal(ns_last_run_read(top, "fast-swapoff", &r), -EBADMSG);
		if (!strstr(ns_error_detail(), bad[i].detail))
			fail_msg("record %zu: detail '%s', want '%s'", i, ns_error_detail(), bad[i].detail);
		assert_non_null(strstr(ns_error_detail(), "fast-swapoff.json"));
	}
	/* integers are numbers too; the good form is read */
	put("fast-swapoff.json", "{\"version\":1,\"kind\":\"numasafe-last-run\",\"command\":\"fast-swapoff\",\"code\":4,"
				 "\"reason\":\"busy\",\"time_s\":17,\"duration_s\":0.5}\n");
	assert_int_equal(ns_last_run_read(top, "fast-swapoff", &r), 0);
	assert_true(r.time == 17);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("fast-swapoff.json", big);
	assert_int_equal(ns_last_run_read(top, "fast-swapoff", &r), -EFBIG);
}

static void t_file_not_regular(void **state)
{
	struct ns_last_run r;
	char path[1024], other[1024];

	(void)state;
	need_root();
	assert_int_equal(mkdir(sdir, 0755), 0);
	snprintf(other, sizeof(other), "%s/record", top);
	snprintf(path, sizeof(path), "%s/vm-pin.json", sdir);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(ns_last_run_read(top, "vm-pin", &r), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "symbolic link"));
	assert_int_equal(unlink(path), 0);
	/* a FIFO: neither blocks the reader nor passes */
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(ns_last_run_read(top, "vm-pin", &r), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "not a regular file"));
	assert_int_equal(ns_last_run_read(top, "../x", &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_fields_not_written, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unsafe_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(t_file_in_place_of_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(t_file_not_regular, setup, teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
