/* SPDX-License-Identifier: GPL-2.0-or-later */
/* shmseg: shared memory with known contents for fast-swapoff's tests.
 *   shmseg sysv MIB SEED            create a SysV segment, fill it, print its shmid
 *   shmseg file PATH MIB SEED       create a file (on tmpfs), fill it
 *   shmseg check-sysv SHMID SEED    "ok" (exit 0) when every word is as written, else exit 1
 *   shmseg check-file PATH SEED
 *   shmseg rm SHMID
 *   shmseg flip DIR N               as a hostile user would: N names DIR/fI that are a regular
 *                                   file one moment and a FIFO the next (renameat2 exchanging
 *                                   each with DIR/xI), for ever; a reader that checks the
 *                                   type by name and then opens the name meets a FIFO
 * The pattern is a function of the word's index and the seed, so a page that came back from
 * the wrong place, or as zeros, is caught. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t word(uint64_t i, uint64_t seed)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void fill(uint64_t *p, size_t bytes, uint64_t seed)
{
	for (size_t i = 0; i < bytes / 8; i++)
		p[i] = word(i, seed);
}

static int check(const uint64_t *p, size_t bytes, uint64_t seed)
{
	for (size_t i = 0; i < bytes / 8; i++)
		if (p[i] != word(i, seed)) {
			printf("bad word %zu\n", i);
			return 1;
		}
	printf("ok\n");
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "shmseg: %s: %s\n", what, strerror(errno));
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "sysv") == 0) {
		size_t bytes = strtoull(argv[2], NULL, 10) << 20;
		int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
		void *p;

		if (id < 0)
			die("shmget");
		p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			die("shmat");
		fill(p, bytes, strtoull(argv[3], NULL, 10));
		shmdt(p);
		printf("%d\n", id);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "file") == 0) {
		size_t bytes = strtoull(argv[3], NULL, 10) << 20;
		int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
		void *p;

		if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0)
			die(argv[2]);
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		fill(p, bytes, strtoull(argv[4], NULL, 10));
		munmap(p, bytes);
		close(fd);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "check-sysv") == 0) {
		struct shmid_ds ds;
		int id = atoi(argv[2]);
		void *p;

		if (shmctl(id, IPC_STAT, &ds) < 0)
			die("shmctl");
		p = shmat(id, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			die("shmat");
		return check(p, ds.shm_segsz, strtoull(argv[3], NULL, 10));
	}
	if (argc == 4 && strcmp(argv[1], "check-file") == 0) {
		int fd = open(argv[2], O_RDONLY);
		struct stat st;
		void *p;

		if (fd < 0 || fstat(fd, &st) < 0)
			die(argv[2]);
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		return check(p, (size_t)st.st_size, strtoull(argv[3], NULL, 10));
	}
	if (argc == 4 && strcmp(argv[1], "flip") == 0) {
		int n = atoi(argv[3]);
		char a[4096], b[4096];

		for (int i = 0; i < n; i++) {
			int fd;

			snprintf(a, sizeof(a), "%s/f%d", argv[2], i);
			snprintf(b, sizeof(b), "%s/x%d", argv[2], i);
			fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0 || write(fd, "data", 4) != 4 || mkfifo(b, 0644) < 0)
				die(a);
			close(fd);
		}
		for (;;)
			for (int i = 0; i < n; i++) {
				snprintf(a, sizeof(a), "%s/f%d", argv[2], i);
				snprintf(b, sizeof(b), "%s/x%d", argv[2], i);
				if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0)
					die("renameat2");
			}
	}
	if (argc == 3 && strcmp(argv[1], "rm") == 0)
		return shmctl(atoi(argv[2]), IPC_RMID, NULL) < 0 ? 2 : 0;
	fprintf(stderr, "usage: shmseg sysv MIB SEED | file PATH MIB SEED | check-sysv SHMID SEED | "
			"check-file PATH SEED | rm SHMID | flip DIR N\n");
	return 2;
}
