/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: lib/file.c on real files in a temporary directory. Regular-file opening that
 * refuses symlinks, directories, FIFOs and devices without blocking; whole-file reads with a
 * limit; atomic replacement that sets its mode, never follows a link and refuses a directory
 * others control; lock files
 * and the refusal of unsafe lock directories. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_int.h"
#include "numasafe/file.h"
#include "numasafe/numasafe.h"
#include "numasafe/vmlock.h"
#include "unit.h"

static char top[64];

static const char *at(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", top, name);
	return buf[k];
}

static void put(const char *name, const char *text, mode_t mode)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(at(name), mode);
}

static char *slurp(const char *name)
{
	static char buf[256];
	int fd = open(at(name), O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/ns-unit-file.XXXXXX");
	assert_non_null(mkdtemp(top));
	chmod(top, 0755);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void t_open_regular(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	put("plain", "hello", 0644);
	fd = ns_file_open_regular(AT_FDCWD, at("plain"), O_RDONLY, &st);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 5);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(symlink(at("plain"), at("link")), 0);
	assert_int_equal(ns_file_open_regular(AT_FDCWD, at("link"), O_RDONLY, NULL), -ELOOP);
	assert_int_equal(mkdir(at("dir"), 0755), 0);
	assert_int_equal(ns_file_open_regular(AT_FDCWD, at("dir"), O_RDONLY, NULL), -EISDIR);
	/* a FIFO nobody writes to: refused at once, never waited on */
	assert_int_equal(mkfifo(at("fifo"), 0644), 0);
	assert_int_equal(ns_file_open_regular(AT_FDCWD, at("fifo"), O_RDONLY, NULL), -EINVAL);
	assert_int_equal(ns_file_open_regular(AT_FDCWD, "/dev/null", O_RDONLY, NULL), -EINVAL);
	assert_int_equal(ns_file_open_regular(AT_FDCWD, at("none"), O_RDONLY, NULL), -ENOENT);
	/* relative to a directory descriptor, with O_NOATIME (the owner may) */
	fd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	{
		int f = ns_file_open_regular(fd, "plain", O_RDONLY | O_NOATIME, NULL);

		assert_true(f >= 0);
		close(f);
	}
	close(fd);
}

static void t_read_all(void **state)
{
	char *buf;
	size_t len;
	int fd;

	(void)state;
	fd = open(at("nul"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "a\0b", 3), 3);
	close(fd);
	assert_int_equal(ns_file_read_all(at("nul"), 3, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);
	assert_int_equal(ns_file_read_all(at("nul"), 2, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(ns_file_read_all("/dev/zero", 1 << 20, &buf, &len), -EINVAL);
	assert_int_equal(ns_file_read_all(at("fifo2"), 10, &buf, &len), -ENOENT);
}

static void t_replace(void **state)
{
	struct stat st;
	char cmd[256];
	FILE *p;
	int n;

	(void)state;
	/* new: the mode given, whatever the umask */
	umask(077);
	assert_int_equal(ns_file_replace(at("out.json"), "one\n", 4, 0644), 0);
	umask(022);
	assert_string_equal(slurp("out.json"), "one\n");
	assert_int_equal(stat(at("out.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* existing: its mode is not kept (a set-id file of a user's stays no set-id file of root's) */
	chmod(at("out.json"), 06777);
	assert_int_equal(ns_file_replace(at("out.json"), "two\n", 4, 0644), 0);
	assert_string_equal(slurp("out.json"), "two\n");
	assert_int_equal(stat(at("out.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, geteuid());
	/* a symlink at the target is replaced, its target untouched */
	put("victim", "secret", 0600);
	assert_int_equal(symlink(at("victim"), at("planted.json")), 0);
	assert_int_equal(ns_file_replace(at("planted.json"), "three\n", 6, 0644), 0);
	assert_string_equal(slurp("victim"), "secret");
	assert_int_equal(lstat(at("planted.json"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp("planted.json"), "three\n");
	/* directories and FIFOs are not replaced */
	assert_int_equal(ns_file_replace(at("dir"), "x", 1, 0644), -EISDIR);
	assert_int_equal(ns_file_replace(at("fifo"), "x", 1, 0644), -EINVAL);
	assert_int_equal(ns_file_replace(at("nodir/x"), "x", 1, 0644), -ENOENT);
	/* directories that are not ours alone, and symbolic links anywhere in the path: refused */
	assert_int_equal(mkdir(at("pub"), 0777), 0);
	chmod(at("pub"), 0777);
	assert_int_equal(ns_file_replace(at("pub/x"), "x", 1, 0644), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "is writable by others (mode 0777)"));
	assert_int_equal(mkdir(at("sub"), 0755), 0);
	assert_int_equal(symlink(at("sub"), at("pub/link")), 0);
	assert_int_equal(ns_file_replace(at("pub/link/x"), "x", 1, 0644), -EPERM);
	assert_non_null(strstr(ns_error_detail(), "pub/link is a symbolic link"));
	assert_int_equal(access(at("sub/x"), F_OK), -1);
	if (geteuid() == 0) {
		assert_int_equal(chown(at("sub"), 65534, 65534), 0);
		assert_int_equal(ns_file_replace(at("sub/x"), "x", 1, 0644), -EPERM);
		assert_non_null(strstr(ns_error_detail(), "is owned by uid 65534, not root"));
	}
	assert_int_equal(access(at("sub/x"), F_OK), -1);
	assert_int_equal(access(at("pub/x"), F_OK), -1);
	/* no temporary file is left behind */
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '^\\.'", top);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	assert_int_equal(n, 0);
}

static void t_lock(void **state)
{
	char msg[256], buf[32];
	struct stat st;
	pid_t holder = -1;
	int fd = -1, fd2 = -1;
	ssize_t n;

	(void)state;
	/* missing: created root-owned 0755 (the tests run as root), whatever the umask */
	umask(077);
	assert_int_equal(ns_runlock_take_in(at("run"), "migrate-42", &fd, &holder, msg, sizeof(msg)), 0);
	umask(022);
	assert_int_equal(stat(at("run"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(atoi(buf), getpid());
	/* a second taker is told who holds it; the holder's pid is not truncated away */
	assert_int_equal(ns_runlock_take_in(at("run"), "migrate-42", &fd2, &holder, msg, sizeof(msg)), -EBUSY);
	assert_int_equal(fd2, -1);
	assert_int_equal(holder, getpid());
	ns_runlock_release(fd);
	assert_int_equal(ns_runlock_take_in(at("run"), "migrate-42", &fd2, &holder, msg, sizeof(msg)), 0);
	ns_runlock_release(fd2);
	/* a lock name cannot leave the directory */
	assert_int_equal(ns_runlock_take_in(at("run"), "../x", &fd, &holder, msg, sizeof(msg)), -EINVAL);
	/* a planted symlink for a lock file is not followed */
	put("victim2", "secret", 0600);
	assert_int_equal(symlink(at("victim2"), at("run/migrate-7.lock")), 0);
	assert_int_equal(ns_runlock_take_in(at("run"), "migrate-7", &fd, &holder, msg, sizeof(msg)), -ELOOP);
	assert_string_equal(slurp("victim2"), "secret");
	/* unsafe directories are refused, each saying why */
	assert_int_equal(symlink(at("run"), at("runlink")), 0);
	assert_int_equal(ns_runlock_take_in(at("runlink"), "migrate-1", &fd, &holder, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "is a symbolic link"));
	assert_int_equal(mkdir(at("gw"), 0775), 0);
	chmod(at("gw"), 0775);
	assert_int_equal(ns_runlock_take_in(at("gw"), "migrate-1", &fd, &holder, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "writable by its group"));
	assert_int_equal(mkdir(at("ww"), 01777), 0);
	chmod(at("ww"), 01777);
	assert_int_equal(ns_runlock_take_in(at("ww"), "migrate-1", &fd, &holder, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "writable by others"));
	assert_int_equal(mkdir(at("user"), 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(at("user"), 65534, 65534), 0);
		assert_int_equal(ns_runlock_take_in(at("user"), "migrate-1", &fd, &holder, msg, sizeof(msg)), -EPERM);
		assert_non_null(strstr(msg, "owned by uid 65534, not root"));
	}
	put("afile", "", 0644);
	assert_int_equal(ns_runlock_take_in(at("afile"), "migrate-1", &fd, &holder, msg, sizeof(msg)), -EPERM);
	assert_non_null(strstr(msg, "is not a directory"));
	/* nothing was created in the refused directories */
	assert_int_equal(access(at("gw/migrate-1.lock"), F_OK), -1);
	assert_int_equal(access(at("ww/migrate-1.lock"), F_OK), -1);
	assert_int_equal(access(at("user/migrate-1.lock"), F_OK), -1);
}

/* The per-VM lock: named by pid and start time, "PID COMMAND" inside, the holder's command
 * read back by the next taker; a holder's file that names no command (or a forged one) gives
 * its pid alone. */
static void t_vm_lock(void **state)
{
	struct ns_vm_holder h;
	char msg[256], buf[64];
	int fd = -1, fd2 = -1, n;

	(void)state;
	assert_int_equal(ns_vm_lock_in(at("vrun"), 4242, 777, "vm-pin", &fd, &h, msg, sizeof(msg)), 0);
	n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	{
		char want[64];

		snprintf(want, sizeof(want), "%d vm-pin\n", (int)getpid());
		assert_string_equal(buf, want);
	}
	assert_int_equal(access(at("vrun/vm-4242-777.lock"), F_OK), 0);
	/* the same VM: busy, the holder named */
	assert_int_equal(ns_vm_lock_in(at("vrun"), 4242, 777, "numa-migrate", &fd2, &h, msg, sizeof(msg)), -EBUSY);
	assert_int_equal(fd2, -1);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.command, "vm-pin");
	/* another process with the same pid (another start time) is another VM */
	assert_int_equal(ns_vm_lock_in(at("vrun"), 4242, 778, "numa-migrate", &fd2, &h, msg, sizeof(msg)), 0);
	ns_vm_unlock(fd2);
	ns_vm_unlock(fd);
	/* a holder of an older version wrote its pid only; a bad command name is not passed on */
	put("vrun/vm-1-1.lock", "", 0644);
	fd = open(at("vrun/vm-1-1.lock"), O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	for (int i = 0; i < 3; i++) {
		static const char *const text[] = {"4321\n", "4321 Evil\x1b[2J\n", "4321 numa-migrate"};

		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, text[i], strlen(text[i]), 0), (ssize_t)strlen(text[i]));
		memset(&h, 0x55, sizeof(h));
		assert_int_equal(ns_vm_lock_in(at("vrun"), 1, 1, "vm-pin", &fd2, &h, msg, sizeof(msg)), -EBUSY);
		/* anything but "PID\n" or "PID COMMAND\n" (a command without its newline: the file
		 * may be half written) names nobody */
		assert_int_equal(h.pid, i == 0 ? 4321 : 0);
		assert_string_equal(h.command, "");
	}
	close(fd);
	/* not a VM's pid, not a command name */
	assert_int_equal(ns_vm_lock_in(at("vrun"), 0, 1, "vm-pin", &fd, &h, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(ns_vm_lock_in(at("vrun"), 5, 1, "../x", &fd, &h, msg, sizeof(msg)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_open_regular),
		cmocka_unit_test(t_read_all),
		cmocka_unit_test(t_replace),
		cmocka_unit_test(t_lock),
		cmocka_unit_test(t_vm_lock),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
