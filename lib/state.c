/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The record of each changing command's last run (see numasafe/state.h): the root-only
 * directory check, the atomic write of one numasafe-last-run document, and its strict reader. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "numasafe/numasafe.h"
#include "file_int.h"
#include "state_int.h"
#include "util.h"

#define RECORD_MAX 4096

int ns_rootdir_open(const char *dir, int create)
{
	char msg[640];
	int rc = ns_dir_open_root(dir, create, "refusing it", msg, sizeof(msg));

	/* a missing directory is no error to explain: nothing was recorded yet */
	if (rc < 0 && !(rc == -ENOENT && !create))
		(void)ns_detail(0, "%s", msg);
	return rc;
}

/* A command name or reason keyword: [a-z-], 1 to 31 characters (it names a file, too). */
static bool word_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct ns_last_run *)0)->command) || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return false;
	return true;
}

static bool record_ok(const struct ns_last_run *r)
{
	return word_ok(r->command) && r->code >= 0 && r->code <= NS_EXIT_PARTIAL &&
	       (r->code == 0 ? r->reason[0] == '\0' : word_ok(r->reason)) && isfinite(r->time) && r->time >= 0 &&
	       isfinite(r->duration) && r->duration >= 0;
}

/* Seconds rounded to the millisecond, as every document gives times. */
static struct json_object *seconds(double s)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.3f", s);
	return json_object_new_double_s(s, buf);
}

int ns_last_run_write_in(const char *dir, const struct ns_last_run *r)
{
	struct json_object *o = NULL;
	char path[4096], *text = NULL;
	const char *s;
	size_t len;
	int dfd = -1, rc;

	ns_detail_clear();
	if (!record_ok(r))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s.json", dir, r->command) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* checked, then written by name: the directory's parent is root's, so nobody else can
	 * put another directory in its place in between */
	dfd = ns_rootdir_open(dir, 1);
	if (dfd < 0) {
		rc = dfd;
		goto out;
	}
	o = json_object_new_object();
	if (!o) {
		rc = -ENOMEM;
		goto out;
	}
	json_object_object_add(o, "version", json_object_new_int(NS_LAST_RUN_VERSION));
	json_object_object_add(o, "kind", json_object_new_string(NS_LAST_RUN_KIND));
	json_object_object_add(o, "command", json_object_new_string(r->command));
	json_object_object_add(o, "code", json_object_new_int(r->code));
	json_object_object_add(o, "reason", r->code ? json_object_new_string(r->reason) : NULL);
	json_object_object_add(o, "time_s", seconds(r->time));
	json_object_object_add(o, "duration_s", seconds(r->duration));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = s ? strlen(s) : 0;
	text = malloc(len + 1);
	if (!s || !text) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(text, s, len);
	text[len++] = '\n';
	rc = ns_file_replace(path, text, len, 0644);
	if (rc < 0)
		(void)ns_detail(0, "%s: %s", path, strerror(-rc));
out:
	free(text);
	json_object_put(o);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int ns_last_run_write(const struct ns_last_run *r)
{
	return ns_last_run_write_in(NS_STATEDIR, r);
}

/* One field of a record, checked; names the file and the field when it is wrong. */
static int field(const char *path, struct json_object *o, const char *key, enum json_type type,
		 struct json_object **v)
{
	if (!json_object_object_get_ex(o, key, v) || !json_object_is_type(*v, type)) {
		(void)ns_detail(0, "%s: \"%s\" is missing or not %s", path, key,
			      type == json_type_string ? "a string" : type == json_type_int ? "an integer" : "a number");
		return -EBADMSG;
	}
	return 0;
}

static int number(const char *path, struct json_object *o, const char *key, double *out)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)) {
		*out = (double)json_object_get_int64(v);
		return 0;
	}
	if (field(path, o, key, json_type_double, &v) < 0)
		return -EBADMSG;
	*out = json_object_get_double(v);
	return 0;
}

static int record_parse(const char *path, const char *command, const char *text, struct ns_last_run *r)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *v;
	int rc = -EBADMSG;

	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object)) {
		(void)ns_detail(0, "%s: not a JSON object", path);
		goto out;
	}
	memset(r, 0, sizeof(*r));
	if (field(path, o, "version", json_type_int, &v) < 0)
		goto out;
	if (json_object_get_int64(v) != NS_LAST_RUN_VERSION) {
		(void)ns_detail(0, "%s: version %lld, this reader knows %d", path, (long long)json_object_get_int64(v),
			      NS_LAST_RUN_VERSION);
		goto out;
	}
	if (field(path, o, "kind", json_type_string, &v) < 0)
		goto out;
	if (strcmp(json_object_get_string(v), NS_LAST_RUN_KIND) != 0) {
		(void)ns_detail(0, "%s: kind is not %s", path, NS_LAST_RUN_KIND);
		goto out;
	}
	if (field(path, o, "command", json_type_string, &v) < 0)
		goto out;
	if (strcmp(json_object_get_string(v), command) != 0) {
		(void)ns_detail(0, "%s: the record of another command", path);
		goto out;
	}
	snprintf(r->command, sizeof(r->command), "%s", command);
	if (field(path, o, "code", json_type_int, &v) < 0)
		goto out;
	if (json_object_get_int64(v) < 0 || json_object_get_int64(v) > NS_EXIT_PARTIAL) {
		(void)ns_detail(0, "%s: code %lld is not an exit code of numasafe(7)", path, (long long)json_object_get_int64(v));
		goto out;
	}
	r->code = (int)json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "reason", &v)) {
		(void)ns_detail(0, "%s: \"reason\" is missing", path);
		goto out;
	}
	if (v && (!json_object_is_type(v, json_type_string) || strlen(json_object_get_string(v)) >= sizeof(r->reason))) {
		(void)ns_detail(0, "%s: \"reason\" is not a reason keyword", path);
		goto out;
	}
	if (v)
		snprintf(r->reason, sizeof(r->reason), "%s", json_object_get_string(v));
	if (number(path, o, "time_s", &r->time) < 0 || number(path, o, "duration_s", &r->duration) < 0)
		goto out;
	if (!record_ok(r)) {
		(void)ns_detail(0, "%s: a field is out of range (reason with code %d, or a negative time)", path, r->code);
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

int ns_last_run_read(const char *root, const char *command, struct ns_last_run *r)
{
	char dir[4096], path[4096 + 64], text[RECORD_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int dfd = -1, fd = -1, rc;

	ns_detail_clear();
	if (!word_ok(command))
		return -EINVAL;
	rc = ns_path(dir, sizeof(dir), root, "%s", NS_STATEDIR);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/%s.json", dir, command);
	dfd = ns_rootdir_open(dir, 0);
	if (dfd < 0) {
		rc = dfd;
		goto out;
	}
	snprintf(text, sizeof(text), "%s.json", command);
	fd = openat(dfd, text, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ELOOP ? -EPERM : -errno;
		if (rc != -ENOENT)
			(void)ns_detail(0, "%s: %s", path, rc == -EPERM ? "is a symbolic link; refusing it" : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		(void)ns_detail(0, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EPERM;
		(void)ns_detail(0, "%s: not a regular file; refusing it", path);
		goto out;
	}
	/* one byte past the limit tells a file that is (or grew) too large */
	while (off <= RECORD_MAX) {
		n = read(fd, text + off, RECORD_MAX + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			(void)ns_detail(0, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off > RECORD_MAX) {
		rc = -EFBIG;
		(void)ns_detail(0, "%s: larger than %d bytes", path, RECORD_MAX);
		goto out;
	}
	text[off] = '\0';
	if (strlen(text) != off) {
		rc = -EBADMSG;
		(void)ns_detail(0, "%s: holds a NUL byte", path);
		goto out;
	}
	rc = record_parse(path, command, text, r);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}
