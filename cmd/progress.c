/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress of a long change: a meter for people on a terminal (as before), or for programs one
 * numasafe-progress JSON line a second at most (--progress=json), both on stderr. Nothing on a
 * stderr that is not a terminal unless asked. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nsc.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void nsc_progress_init(struct nsc_progress *p, const struct nsc *c)
{
	p->c = c;
	p->last = 0;
	p->drawn = false;
	p->mode = c->progress;
	if (p->mode == NSC_PROGRESS_AUTO)
		p->mode = !c->quiet && !c->json && isatty(STDERR_FILENO) ? NSC_PROGRESS_TTY : NSC_PROGRESS_NONE;
}

bool nsc_progress_on(const struct nsc_progress *p)
{
	return p->mode == NSC_PROGRESS_TTY || p->mode == NSC_PROGRESS_JSON;
}

void nsc_progress_update(struct nsc_progress *p, const char *phase, uint64_t done, uint64_t total, double elapsed,
			 const char *extra, uint64_t extra_val)
{
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
	char a[32], b[32], x[32];

	if (p->mode == NSC_PROGRESS_TTY) {
		fprintf(stderr, "\r%s: %s/%s  %s/s  ETA %.0fs", phase, nsc_size(done, a), nsc_size(total, b),
			nsc_size((uint64_t)rate, x), eta);
		if (extra)
			fprintf(stderr, "  %s %s", extra, nsc_size(extra_val, a));
		fputs("      ", stderr);
		p->drawn = true;
	} else if (p->mode == NSC_PROGRESS_JSON) {
		double now = mono();
		struct json_object *o;
		char *text;

		if (p->last > 0 && now - p->last < 1.0)
			return;
		p->last = now;
		o = nsc_doc(NSC_KIND_PROGRESS);
		json_object_object_add(o, "command", json_object_new_string(p->c->prog));
		json_object_object_add(o, "phase", json_object_new_string(phase));
		json_object_object_add(o, "done", nsc_json_u64(done));
		json_object_object_add(o, "total", nsc_json_u64(total));
		json_object_object_add(o, "rate", nsc_json_u64((uint64_t)rate));
		json_object_object_add(o, "elapsed_s", nsc_json_seconds(elapsed));
		json_object_object_add(o, "eta_s", nsc_json_seconds(eta));
		if (extra)
			json_object_object_add(o, extra, nsc_json_u64(extra_val));
		text = nsc_json_text(o, JSON_C_TO_STRING_PLAIN, NULL);
		if (text)
			fprintf(stderr, "%s\n", text);
		free(text);
		fflush(stderr);
		json_object_put(o);
	}
}

void nsc_progress_end(struct nsc_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}
