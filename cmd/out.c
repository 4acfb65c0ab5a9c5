/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output shared by the commands: sizes and plurals for people, the JSON building blocks of the
 * one model (documents with version and kind, rounded numbers, a VM's identity, memory per
 * node), and the end of every run (the document, or the numasafe-error document, then the
 * check of stdout). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsc.h"

const char *nsc_size(uint64_t bytes, char buf[32])
{
	return ns_size_format(bytes, buf, 32);
}

const char *nsc_plural(long long n)
{
	return n == 1 ? "" : "s";
}

struct json_object *nsc_doc(const char *kind, int version)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_int(version));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	return o;
}

struct json_object *nsc_json_u64(uint64_t v)
{
	/* sizes saturate in the library; int64 holds every byte count a host can have */
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

struct json_object *nsc_json_set(const struct ns_set *s)
{
	struct json_object *a = json_object_new_array();

	for (int i = ns_set_next(s, 0); i >= 0; i = ns_set_next(s, (unsigned)i + 1))
		json_object_array_add(a, json_object_new_int(i));
	return a;
}

struct json_object *nsc_json_round(double v, int decimals)
{
	char buf[64];
	char *dot, *end;

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	/* "1.500" -> "1.5", "2.000" -> "2.0": a number a reader sees as a number, not noise */
	dot = strchr(buf, '.');
	if (dot) {
		end = buf + strlen(buf) - 1;
		while (end > dot + 1 && *end == '0')
			*end-- = '\0';
	}
	if (strcmp(buf, "-0.0") == 0 || strcmp(buf, "-0") == 0)
		snprintf(buf, sizeof(buf), "0.0");
	return json_object_new_double_s(v, buf);
}

struct json_object *nsc_json_seconds(double s)
{
	return nsc_json_round(s, 3);
}

char *nsc_json_text(struct json_object *o, int flags, size_t *len)
{
	const char *s = json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = NULL;
	size_t n = 0;

	/* json-c copies a string's bytes as they are: a name with invalid UTF-8 would make the
	 * whole document invalid for a strict reader */
	if (!s || ns_json_utf8(s, strlen(s), &out, &n) < 0)
		return NULL;
	if (len)
		*len = n;
	return out;
}

void nsc_json_print(const struct nsc *c, struct json_object *o)
{
	int flags = isatty(STDOUT_FILENO) ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN;
	char *text = nsc_json_text(o, flags, NULL);

	(void)c;
	if (!text) {
		/* out of memory: stdout gets nothing rather than half a document, and the error */
		fprintf(stderr, "%s: %s\n", c->prog, strerror(ENOMEM));
		return;
	}
	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
}

int nsc_finish(struct nsc *c, int rc, struct json_object *doc)
{
	/* a run that changes nothing and was asked to stop: its answer may be cut short, so it is
	 * not given as one (a changing run says itself how its change ended) */
	if (rc == NS_EXIT_OK && !c->record && (nsc_stopped() || nsc_output_watch()))
		rc = nsc_fail(c, NS_EXIT_REFUSED, NSC_R_SIGNAL, "interrupted");
	if (c->json && rc == NS_EXIT_OK && doc)
		nsc_json_print(c, doc);
	else if (c->json && rc != NS_EXIT_OK) {
		struct json_object *e = nsc_doc(NSC_KIND_ERROR);

		json_object_object_add(e, "command", json_object_new_string(c->prog));
		json_object_object_add(e, "code", json_object_new_int(rc));
		json_object_object_add(e, "reason", json_object_new_string(c->reason ? c->reason : NSC_R_FAILED));
		json_object_object_add(e, "message", json_object_new_string(c->message));
		if (doc)
			json_object_object_add(e, "result", json_object_get(doc));
		nsc_json_print(c, e);
		json_object_put(e);
	}
	json_object_put(doc);
	/* a full disk or a closed pipe must not look like success */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "%s: write error: %s\n", c->prog, strerror(errno ? errno : EIO));
		rc = rc ? rc : NS_EXIT_FAIL;
	}
	if (c->record)
		nsc_last_run_record(c, rc);
	return rc;
}

void nsc_vmid_from_vm(struct nsc_vmid *id, const struct ns_vm *vm)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "%s", vm->name);
	id->domain = vm->is_domain;
	id->pid = vm->pid;
	id->start_time = vm->start_time;
}

struct json_object *nsc_vmid_json(const struct nsc_vmid *id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(id->name));
	json_object_object_add(o, "domain", json_object_new_boolean(id->domain));
	json_object_object_add(o, "pid", id->pid > 0 ? json_object_new_int(id->pid) : NULL);
	json_object_object_add(o, "start_time", id->pid > 0 ? nsc_json_u64(id->start_time) : NULL);
	return o;
}

const char *nsc_safe(const char *s, char *buf, size_t len)
{
	return ns_text_safe(s, buf, len);
}

const char *nsc_vmid_text(const struct nsc_vmid *id, char *buf, size_t len)
{
	char name[sizeof(id->name)];

	nsc_safe(id->name, name, sizeof(name));
	if (id->domain)
		snprintf(buf, len, "domain %s", name);
	else if (strncmp(name, "pid ", 4) == 0) /* a QEMU without -name is called "pid N" */
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s (pid %d)", name, (int)id->pid);
	return buf;
}

struct json_object *nsc_json_memory(const struct ns_topo *t, const uint64_t *per_node)
{
	struct json_object *a = json_object_new_array();

	for (int i = 0; i < ns_topo_nr_nodes(t); i++) {
		int id = ns_topo_node(t, i)->id;
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "node", json_object_new_int(id));
		json_object_object_add(m, "bytes", nsc_json_u64(id < NS_MAX_NODES ? per_node[id] : 0));
		json_object_array_add(a, m);
	}
	return a;
}
