/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the plan reader's strictness (ns_plan_read) on files that are not plans or not
 * quite plans, and a step's identity check against a fixture host (ns_plan_step_verify). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numasafe/plan.h"
#include "unit.h"

#define HEAD "{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":["
#define STEP_A "\"step\":1,\"vm\":\"a\",\"domain\":false,\"pid\":7,\"to\":0,\"temporary\":false"

static char *file_with(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ns-unit-plan.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The reader's verdict on text: rc, and errmsg (without the path prefix) when it fails. */
static void expect(const char *text, int rc, const char *msg)
{
	struct ns_plan_exec_step *ex = NULL;
	char err[512], want[600], *path = file_with(text, strlen(text));
	int nr = 0;

	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), rc);
	if (rc == 0) {
		assert_non_null(ex);
		free(ex);
	} else {
		snprintf(want, sizeof(want), "%s: %s", path, msg);
		assert_string_equal(err, want);
		assert_null(strchr(err, '\n'));
		assert_null(ex);
	}
	unlink(path);
}

static void t_whole_object(void **state)
{
	(void)state;
	expect(HEAD "]}\n  \n", 0, NULL);
	expect(HEAD "]} x", -EINVAL, "not valid JSON: text after the JSON value at line 1, column 54");
	expect(HEAD "]}\n{}\n", -EINVAL, "not valid JSON: text after the JSON value at line 2, column 1");
	expect(HEAD "]", -EINVAL, "not valid JSON: the text ends where ',' or '}' was expected at line 1, column 52");
	expect("{\"version\":01,\"kind\":\"numasafe-rebalance\",\"steps\":[]}", -EINVAL,
	       "not valid JSON: a number with a leading zero at line 1, column 12");
	expect(HEAD "],}", -EINVAL, "not valid JSON: a comma before '}' at line 1, column 53");
	expect("", -EINVAL, "not valid JSON: the text ends where a value was expected at line 1, column 1");
}

/* RFC 8259 only (issue 22): each lenient form json-c's tokener accepts even in its strict mode
 * (0.16) is refused, naming the line and column; jq and the policy script would read these
 * plans differently from numa-migrate, or not at all. */
static void t_strict_json(void **state)
{
	(void)state;
	/* keys: single quotes (json-c takes them), unquoted, a key given twice (json-c keeps the
	 * last: the step would run as "b"), the same key spelled with an escape */
	expect("{'version':1,\"kind\":\"numasafe-rebalance\",\"steps\":[]}", -EINVAL,
	       "not valid JSON: a single quote where a key in double quotes was expected (JSON strings take double "
	       "quotes) at line 1, column 2");
	expect("{version:1}", -EINVAL, "not valid JSON: 'v' where a key in double quotes was expected at line 1, column 2");
	expect(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":1,\n\"vm\":\"b\"}]}", -EINVAL,
	       "not valid JSON: key \"vm\" a second time in the object (first at line 1, column 61) at line 2, column 1");
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[],\"\\u0076ersion\":2}", -EINVAL,
	       "not valid JSON: key \"version\" a second time in the object (first at line 1, column 2) at line 1, column 53");
	/* numbers: NaN, Infinity (json-c takes both), "1." (json-c takes it), ".5", "+1" */
	expect("{\"version\":NaN}", -EINVAL, "not valid JSON: NaN and Infinity are not JSON numbers at line 1, column 12");
	expect("{\"version\":-Infinity}", -EINVAL, "not valid JSON: -Infinity is not a JSON number at line 1, column 12");
	expect("{\"version\":1.}", -EINVAL, "not valid JSON: a number with no digit after its '.' at line 1, column 12");
	expect("{\"version\":1e}", -EINVAL, "not valid JSON: a number with no digit in its exponent at line 1, column 12");
	expect("{\"version\":.5}", -EINVAL, "not valid JSON: '.' where a value was expected at line 1, column 12");
	expect("{\"version\":+1}", -EINVAL, "not valid JSON: '+' where a value was expected at line 1, column 12");
	/* comments, a byte order mark, a NUL byte, a trailing comma in an array */
	expect("{\"version\":1 /* c */}", -EINVAL, "not valid JSON: a comment (JSON has none) at line 1, column 14");
	expect("// c\n{}", -EINVAL, "not valid JSON: a comment (JSON has none) at line 1, column 1");
	expect("\xef\xbb\xbf{}", -EINVAL, "not valid JSON: a byte order mark before the text at line 1, column 1");
	expect(HEAD "1,]}", -EINVAL, "not valid JSON: a comma before ']' at line 1, column 53");
	expect("{\"a\":\"\t\"}", -EINVAL,
	       "not valid JSON: control character 0x09 in a string (JSON needs it escaped) at line 1, column 7");
	expect("{\"a\":'x'}", -EINVAL,
	       "not valid JSON: a single quote where a value was expected (JSON strings take double quotes) at line 1, column 6");
	expect("{\"a\":\"\\x41\"}", -EINVAL, "not valid JSON: \\x is not a JSON escape at line 1, column 7");
	expect("{\"a\":tRue}", -EINVAL, "not valid JSON: 't' where a value was expected at line 1, column 6");
	/* UTF-8: a stray byte, overlong, an encoded surrogate, above U+10FFFF, cut short; a lone
	 * escaped surrogate */
	expect("{\"a\":\"\xff\"}", -EINVAL, "not valid JSON: byte 0xff is not UTF-8 here at line 1, column 7");
	expect("{\"a\":\"\xc0\x80\"}", -EINVAL, "not valid JSON: byte 0xc0 is not UTF-8 here at line 1, column 7");
	expect("{\"a\":\"\xe0\x80\x80\"}", -EINVAL,
	       "not valid JSON: invalid UTF-8 (overlong, a surrogate, above U+10FFFF or cut short) at line 1, column 7");
	expect("{\"a\":\"\xed\xa0\x80\"}", -EINVAL,
	       "not valid JSON: invalid UTF-8 (overlong, a surrogate, above U+10FFFF or cut short) at line 1, column 7");
	expect("{\"a\":\"\xf4\x90\x80\x80\"}", -EINVAL,
	       "not valid JSON: invalid UTF-8 (overlong, a surrogate, above U+10FFFF or cut short) at line 1, column 7");
	expect("{\"a\":\"\xe2\x82\"}", -EINVAL, "not valid JSON: invalid UTF-8 (a sequence cut short) at line 1, column 7");
	expect("{\"a\":\"\\ud800\"}", -EINVAL,
	       "not valid JSON: \\ud800 is half of a UTF-16 pair without its second half at line 1, column 7");
	expect("{\"a\":\"\\udc00\"}", -EINVAL,
	       "not valid JSON: \\udc00 is half of a UTF-16 pair without its first half at line 1, column 7");
	/* what RFC 8259 allows still reads: escapes, pairs, multibyte names, exponents and
	 * fields the reader does not know, CRLF line ends, nesting up to the limit */
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"x\":[1E5,-0.5e-3,\"\\ud83d\\ude00\\u00e9\\/\"],"
	       "\"y\":{\"a\":{\"a\":null}},\r\n\"steps\":[{\"step\":1,\"vm\":\"caf\xc3\xa9-\xf0\x9f\x98\x80\","
	       "\"domain\":false,\"pid\":7,\"to\":0,\"temporary\":false,\"start_time\":5,\"bytes\":1}]}",
	       0, NULL);
	{
		char deep[200];
		int n = sprintf(deep, "{\"version\":1,\"kind\":\"numasafe-rebalance\",\"steps\":[],\"x\":");

		/* the object and 31 arrays: 32 deep, the limit (json-c's default depth) */
		for (int i = 0; i < 31; i++)
			deep[n + i] = '[', deep[n + 31 + i] = ']';
		strcpy(deep + n + 62, "}");
		expect(deep, 0, NULL);
		for (int i = 0; i < 32; i++)
			deep[n + i] = '[', deep[n + 32 + i] = ']';
		strcpy(deep + n + 64, "}");
		expect(deep, -EINVAL, "not valid JSON: nested deeper than 32 at line 1, column 88");
	}
}

static void t_numbers(void **state)
{
	(void)state;
	/* json-c clamps both to UINT64_MAX: neither may pass as that, or as anything */
	expect("{\"version\":18446744073709551617,\"kind\":\"numasafe-rebalance\",\"steps\":[]}", -EINVAL,
	       "\"version\" is out of range");
	expect(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":18446744073709551616}]}", -EINVAL,
	       "step 1: \"bytes\" is out of range");
	expect(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":18446744073709551615}]}", -EINVAL,
	       "step 1: \"bytes\" is out of range");
	expect(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":18446744073709551614}]}", 0, NULL);
	expect(HEAD "{" STEP_A ",\"start_time\":99999999999999999999999,\"bytes\":1}]}", -EINVAL,
	       "step 1: \"start_time\" is out of range");
	expect(HEAD "{" STEP_A ",\"start_time\":-99999999999999999999999,\"bytes\":1}]}", -EINVAL,
	       "step 1: \"start_time\" is negative");
	expect(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":1.0}]}", -EINVAL, "step 1: \"bytes\" is not an integer");
	/* the pid-reuse guard is required and cannot be switched off */
	expect(HEAD "{" STEP_A ",\"start_time\":0,\"bytes\":1}]}", -EINVAL,
	       "step 1: \"start_time\" is not a process start time (must be positive)");
	expect(HEAD "{" STEP_A ",\"bytes\":1}]}", -EINVAL, "step 1: \"start_time\" is missing");
}

static void t_names(void **state)
{
	(void)state;
	expect(HEAD "{\"step\":1,\"vm\":\"std\\u0000in\",\"domain\":false,\"pid\":7,\"start_time\":5,\"to\":0,"
		    "\"bytes\":1,\"temporary\":false}]}",
	       -EINVAL, "step 1: \"vm\" contains a NUL or control character");
	expect(HEAD "{\"step\":1,\"vm\":\"a\\nb\",\"domain\":false,\"pid\":7,\"start_time\":5,\"to\":0,"
		    "\"bytes\":1,\"temporary\":false}]}",
	       -EINVAL, "step 1: \"vm\" contains a NUL or control character");
	expect(HEAD "{\"step\":1,\"vm\":\"\",\"domain\":false,\"pid\":7,\"start_time\":5,\"to\":0,"
		    "\"bytes\":1,\"temporary\":false}]}",
	       -EINVAL, "step 1: \"vm\" is empty");
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\\u0000x\",\"steps\":[]}", -EINVAL,
	       "\"kind\" is not \"numasafe-rebalance\"");
}

/* The CPUs the plan kept for the host reach every step; a plan without them (written before the
 * field) has none; anything but a CPU list is refused. */
static void t_exclude_cpus(void **state)
{
	const char *text = "{\"version\":1,\"kind\":\"numasafe-rebalance\",\"exclude_cpus\":\"0,2-3\",\"steps\":["
			   "{" STEP_A ",\"start_time\":5,\"bytes\":1},{\"step\":2,\"vm\":\"b\",\"domain\":true,"
			   "\"pid\":8,\"start_time\":6,\"to\":1,\"temporary\":false,\"bytes\":0}]}";
	struct ns_plan_exec_step *ex = NULL;
	char err[512], *path = file_with(text, strlen(text));
	struct ns_set want;
	int nr = 0;

	(void)state;
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(nr, 2);
	assert_int_equal(ns_set_parse("0,2,3", 64, &want), 0);
	assert_true(ns_set_equal(&ex[0].exclude, &want));
	assert_true(ns_set_equal(&ex[1].exclude, &want));
	free(ex);
	ex = NULL;
	path = file_with(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":1}]}", strlen(HEAD "{" STEP_A ",\"start_time\":5,\"bytes\":1}]}"));
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), 0);
	unlink(path);
	assert_true(ns_set_empty(&ex[0].exclude));
	free(ex);
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"exclude_cpus\":\"0-x\",\"steps\":[]}", -EINVAL,
	       "\"exclude_cpus\" is not a CPU list");
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"exclude_cpus\":3,\"steps\":[]}", -EINVAL,
	       "\"exclude_cpus\" is not a CPU list");
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"exclude_cpus\":\"99999\",\"steps\":[]}", -EINVAL,
	       "\"exclude_cpus\" is not a CPU list");
	/* a CPU listed twice is no list numa-plan writes */
	expect("{\"version\":1,\"kind\":\"numasafe-rebalance\",\"exclude_cpus\":\"0-3,2\",\"steps\":[]}", -EINVAL,
	       "\"exclude_cpus\" is not a CPU list");
}

static void t_not_files(void **state)
{
	struct ns_plan_exec_step *ex;
	char err[512], path[64];
	int nr;

	(void)state;
	assert_int_equal(ns_plan_read("/dev/zero", &ex, &nr, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/dev/zero: not a regular file");
	snprintf(path, sizeof(path), "/tmp/ns-unit-fifo.%d", (int)getpid());
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ns_plan_read(path, &ex, &nr, err, sizeof(err)), -EINVAL);
	unlink(path);
	/* 64 MiB and one byte, sparse */
	{
		char *p = file_with("{", 1);

		assert_int_equal(truncate(p, NS_PLAN_MAX_BYTES + 1), 0);
		assert_int_equal(ns_plan_read(p, &ex, &nr, err, sizeof(err)), -EFBIG);
		assert_non_null(strstr(err, ": larger than 64 MiB, the limit for a plan file"));
		unlink(p);
	}
}

static struct ns_plan_exec_step step(const char *vm, int domain, pid_t pid, unsigned long long st)
{
	struct ns_plan_exec_step s;

	memset(&s, 0, sizeof(s));
	s.index = 1;
	snprintf(s.vm, sizeof(s.vm), "%s", vm);
	s.is_domain = domain;
	s.pid = pid;
	s.start_time = st;
	return s;
}

static void verify(const struct ns_plan_exec_step s, int rc, const char *msg)
{
	char err[256];

	assert_int_equal(ns_plan_step_verify(fixture("qemu1"), &s, err, sizeof(err)), rc);
	if (msg)
		assert_string_equal(err, msg);
}

/* qemu1: domain web1 is pid 100 (start 5000, -name guest=web1); pid 200 a QEMU without
 * -name (start 6000); pid 300 bash (start 7000). */
static void t_step_verify(void **state)
{
	(void)state;
	verify(step("web1", 1, 100, 5000), 0, NULL);
	verify(step("web1", 1, 100, 5001), -ESTALE, "pid 100 started at 5000, not 5001: another process has the pid now");
	verify(step("web2", 1, 100, 5000), -ESTALE, "domain web2 has no QEMU process here (no /run/libvirt/qemu/web2.pid)");
	verify(step("web1", 1, 200, 6000), -ESTALE, "domain web1 runs as pid 100 now, not 200");
	/* a bare process: its -name, or its comm */
	verify(step("web1", 0, 100, 5000), 0, NULL);
	verify(step("qemu-system-x86", 0, 100, 5000), 0, NULL);
	verify(step("web9", 0, 100, 5000), -ESTALE, "pid 100 is \"web1\" (qemu-system-x86) now, not \"web9\"");
	verify(step("pid 200", 0, 200, 6000), 0, NULL);
	verify(step("bash", 0, 300, 7000), -ESTALE, "pid 300 (bash) is not a VM now");
	verify(step("gone", 0, 999, 1), -ESTALE, "gone (pid 999) is gone");
	verify(step("web1", 0, 100, 0), -EINVAL, "the step names no process start time");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_whole_object),
		cmocka_unit_test(t_strict_json),
		cmocka_unit_test(t_numbers),
		cmocka_unit_test(t_names),
		cmocka_unit_test(t_exclude_cpus),
		cmocka_unit_test(t_not_files),
		cmocka_unit_test(t_step_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
