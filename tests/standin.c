/* SPDX-License-Identifier: GPL-2.0-or-later */
/* standin: a stand-in for a VM's memory in tests. It maps SIZE bytes (private anonymous by
 * default; THP, shared anonymous or file-backed on request), fills them with a pattern that
 * depends on each word's offset and a seed, writes its pid to --ready when done, then waits:
 *   SIGUSR1  verify the whole pattern; write "ok BYTES" or "corrupt OFFSET" to --report
 *   SIGUSR2  push its own memory (and the --sparse mapping's pages) to swap (madvise
 *            MADV_PAGEOUT), then write "paged" to --report
 *   SIGTERM/SIGINT  exit 0
 * With --fork, a child shares the memory (mapcount 2), as a second process sharing a VM's
 * pages would; it dies with the parent.
 * With --vcpus N, N threads named "CPU n/KVM" as QEMU names its vCPU threads (so VM discovery
 * takes the stand-in for a VM); they sleep, or spin with --busy. --vcpu-base B numbers them
 * from B (a label, as QEMU's cpu-index is). Arguments after "--" are kept on the command line
 * only (a QEMU-like "-name NAME" there names the stand-in).
 * With --sparse SIZE --touch N, a second mapping of SIZE bytes (MAP_NORESERVE, private
 * anonymous) holds N pages written at even strides: terabytes of address space, a few pages of
 * memory, as a process that reserves address space has (sanitizers, some VMs).
 * With --vmas N, N one-page mappings, each written, between PROT_NONE pages (2N VMAs): a
 * process whose maps take long to read, so a test can signal a command while it reads them.
 * Pattern check is how tests prove data survived moves and swap intact. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static volatile sig_atomic_t want_verify, want_pageout, want_exit;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		want_verify = 1;
	else if (sig == SIGUSR2)
		want_pageout = 1;
	else
		want_exit = 1;
}

static void *vcpu_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *vcpu_busy(void *arg)
{
	volatile uint64_t n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

static uint64_t pattern(uint64_t seed, uint64_t word)
{
	uint64_t x = (word + 1) * 0x9E3779B97F4A7C15ULL ^ seed;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	return x ^ (x >> 29);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);

	switch (*end) {
	case 'T': case 't': return v << 40;
	case 'G': case 'g': return v << 30;
	case 'M': case 'm': case '\0': return v << 20; /* bare numbers are MiB */
	case 'K': case 'k': return v << 10;
	default:
		fprintf(stderr, "standin: bad size '%s'\n", s);
		exit(2);
	}
}

static void report(const char *path, const char *msg)
{
	FILE *f = path ? fopen(path, "a") : stdout;

	if (!f)
		return;
	fprintf(f, "%s\n", msg);
	if (path)
		fclose(f);
	else
		fflush(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'}, {"thp", no_argument, NULL, 't'},
		{"shared", no_argument, NULL, 'S'},	{"file", required_argument, NULL, 'f'},
		{"ready", required_argument, NULL, 'r'}, {"report", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, 'x'}, {"fork", no_argument, NULL, 'F'},
		{"vcpus", required_argument, NULL, 'v'}, {"busy", no_argument, NULL, 'b'},
		{"vcpu-base", required_argument, NULL, 'B'},
		{"sparse", required_argument, NULL, 'p'}, {"touch", required_argument, NULL, 'T'},
		{"vmas", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *ready = NULL, *rep = NULL, *file = NULL;
	uint64_t size = 64ULL << 20, seed = 1, *mem, words, sparse = 0, touch = 64, nvmas = 0;
	uint8_t *sp = NULL;
	int thp = 0, shared = 0, do_fork = 0, vcpus = 0, busy = 0, base = 0, c, fd = -1, flags;
	struct sigaction sa;
	sigset_t block, old;
	char msg[128];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': size = parse_size(optarg); break;
		case 't': thp = 1; break;
		case 'S': shared = 1; break;
		case 'f': file = optarg; break;
		case 'r': ready = optarg; break;
		case 'o': rep = optarg; break;
		case 'x': seed = strtoull(optarg, NULL, 0); break;
		case 'F': do_fork = 1; break;
		case 'v': vcpus = atoi(optarg); break;
		case 'b': busy = 1; break;
		case 'B': base = atoi(optarg); break;
		case 'p': sparse = parse_size(optarg); break;
		case 'T': touch = strtoull(optarg, NULL, 0); break;
		case 'V': nvmas = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	flags = (shared || file) ? MAP_SHARED : MAP_PRIVATE;
	if (file) {
		fd = open(file, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
			perror("standin: file");
			return 1;
		}
	} else
		flags |= MAP_ANONYMOUS;
	if (thp) {
		/* over-allocate to align on 2 MiB so the kernel can use huge pages throughout */
		uint8_t *raw = mmap(NULL, size + (2 << 20), PROT_READ | PROT_WRITE, flags, fd, 0);

		if (raw == MAP_FAILED) {
			perror("standin: mmap");
			return 1;
		}
		mem = (uint64_t *)(((uintptr_t)raw + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
		if (madvise(mem, size, MADV_HUGEPAGE) < 0)
			perror("standin: MADV_HUGEPAGE");
	} else {
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
		if (mem == MAP_FAILED) {
			perror("standin: mmap");
			return 1;
		}
	}
	if (sparse) {
		long ps = sysconf(_SC_PAGESIZE);
		uint64_t pages = sparse / (uint64_t)ps, stride;
		sp = mmap(NULL, sparse, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);

		if (sp == MAP_FAILED) {
			perror("standin: mmap --sparse");
			return 1;
		}
		/* base pages only: a THP per touch would make it 512 times as much memory */
		madvise(sp, sparse, MADV_NOHUGEPAGE);
		if (touch > pages)
			touch = pages;
		stride = touch ? pages / touch : 0;
		for (uint64_t i = 0; i < touch; i++)
			sp[(i * stride + stride / 2) * (uint64_t)ps] = 1;
	}
	if (nvmas) {
		uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE);
		uint8_t *r = mmap(NULL, 2 * nvmas * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (r == MAP_FAILED) {
			perror("standin: mmap --vmas");
			return 1;
		}
		for (uint64_t i = 0; i < nvmas; i++) {
			if (mprotect(r + 2 * i * ps, ps, PROT_READ | PROT_WRITE) < 0) {
				perror("standin: mprotect --vmas");
				return 1;
			}
			r[2 * i * ps] = 1;
		}
	}
	words = size / sizeof(uint64_t);
	for (uint64_t i = 0; i < words; i++)
		mem[i] = pattern(seed, i);

	if (do_fork) {
		pid_t parent = getpid(), child = fork();

		if (child < 0) {
			perror("standin: fork");
			return 1;
		}
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			for (;;)
				pause();
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* keep the signals blocked except inside sigsuspend, so none is lost between checks */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	/* threads start with the signals blocked, so the main loop below still gets them all */
	for (int i = 0; i < vcpus; i++) {
		pthread_t th;
		char name[32];

		if (pthread_create(&th, NULL, busy ? vcpu_busy : vcpu_idle, NULL) != 0) {
			fprintf(stderr, "standin: cannot start vCPU thread %d\n", i);
			return 1;
		}
		snprintf(name, sizeof(name), "CPU %d/KVM", base ? base + i : i % 10000);
		pthread_setname_np(th, name);
	}
	if (ready) {
		char tmp[4096];
		FILE *f;

		/* write then rename, so a waiting test never reads a half-written file */
		snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, ready) < 0) {
			perror("standin: ready");
			return 1;
		}
	}
	while (!want_exit) {
		if (want_verify) {
			uint64_t bad = words;

			want_verify = 0;
			for (uint64_t i = 0; i < words; i++)
				if (mem[i] != pattern(seed, i)) {
					bad = i;
					break;
				}
			if (bad == words)
				snprintf(msg, sizeof(msg), "ok %llu", (unsigned long long)size);
			else
				snprintf(msg, sizeof(msg), "corrupt %llu", (unsigned long long)(bad * 8));
			report(rep, msg);
		}
		if (want_pageout) {
			want_pageout = 0;
			if (madvise(mem, size, MADV_PAGEOUT) < 0 || (sp && madvise(sp, sparse, MADV_PAGEOUT) < 0))
				snprintf(msg, sizeof(msg), "pageout-failed %s", strerror(errno));
			else
				snprintf(msg, sizeof(msg), "paged");
			report(rep, msg);
		}
		if (!want_verify && !want_pageout && !want_exit)
			sigsuspend(&old);
	}
	return 0;
}
