/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz ns_plan_read (a rebalance plan, as numa-migrate --plan and vm-pin --plan take it from a
 * file written to a private tree). Contract (plan.h): 0 with steps in order whose fields are in
 * range, or -errno with a one-line message naming the file; never a step without a VM name or
 * pid. The reader takes strict JSON only (RFC 8259, lib/json_strict.h): what it accepts passes
 * the strict check, parses whole under json-c's own strict, UTF-8-validating tokener, and has
 * as many members in json-c's objects as the text has members (a key given twice would lose
 * one); what the strict check refuses is refused as "not valid JSON" naming line and column. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "json_strict.h"
#include "numasafe/plan.h"
#include "fuzz.h"

/* The members the text holds, counted apart from both parsers: the colons outside strings. */
static size_t text_members(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int in = 0;

	for (size_t i = 0; i < size; i++) {
		if (in && data[i] == '\\')
			i++;
		else if (data[i] == '"')
			in = !in;
		else if (!in && data[i] == ':')
			n++;
	}
	return n;
}

static size_t obj_members(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_array))
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += obj_members(json_object_array_get_idx(o, i));
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			n += 1 + obj_members(v);
		}
	}
	return n;
}

/* Accepted text: json-c, strict and validating UTF-8, parses all of it into as many members. */
static void check_accepted(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(NS_JSON_MAX_DEPTH + 1);
	char *s = fz_str(data, size);
	struct json_object *o;

	FZ_CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* with its NUL, as the reader does: json-c waits for more after a bare "1" otherwise */
	o = json_tokener_parse_ex(tok, s, (int)size + 1);
	FZ_CHECK(o || json_tokener_get_error(tok) == json_tokener_success); /* "null" parses to NULL */
	FZ_CHECK(json_tokener_get_error(tok) == json_tokener_success);
	FZ_CHECK(obj_members(o) == text_members(data, size));
	json_object_put(o);
	json_tokener_free(tok);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ns_plan_exec_step *steps = NULL;
	char path[4200], err[1024], why[160];
	int nr = -1, rc, strict;
	size_t at = SIZE_MAX;

	if (size > 1 << 20)
		return 0;
	fz_write("plan.json", data, size);
	snprintf(path, sizeof(path), "%s/plan.json", fz_root());
	rc = ns_plan_read(path, &steps, &nr, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM || rc == -EFBIG || rc == -E2BIG);
	strict = ns_json_strict_check((const char *)data, size, &at, why, sizeof(why));
	FZ_CHECK(strict == 0 || strict == -EINVAL || strict == -ENOMEM);
	if (strict == -EINVAL) {
		FZ_CHECK(at <= size && why[0] != '\0' && !strchr(why, '\n'));
		FZ_CHECK(rc == -EINVAL && strstr(err, ": not valid JSON: ") && strstr(err, ", column "));
	}
	if (strict == 0)
		check_accepted(data, size);
	if (rc == 0) {
		FZ_CHECK(strict == 0);
		FZ_CHECK(nr >= 0 && (nr == 0 || steps));
		for (int i = 0; i < nr; i++) {
			FZ_CHECK(steps[i].index == i + 1);
			FZ_CHECK(steps[i].vm[0] != '\0' && memchr(steps[i].vm, '\0', sizeof(steps[i].vm)));
			FZ_CHECK(steps[i].pid > 0 && steps[i].to_node >= 0 && steps[i].to_node < 4096);
			FZ_CHECK(steps[i].is_domain == 0 || steps[i].is_domain == 1);
			FZ_CHECK(steps[i].temporary == 0 || steps[i].temporary == 1);
		}
	} else {
		FZ_CHECK(!steps && err[0] != '\0' && strncmp(err, path, strlen(path)) == 0);
		FZ_CHECK(!strchr(err, '\n'));
	}
	free(steps);
	return 0;
}
