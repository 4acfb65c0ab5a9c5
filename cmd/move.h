/* One VM's memory moved with the engine, printing and mapping the outcome to an exit code. */
#ifndef NS_CMD_MOVE_H
#define NS_CMD_MOVE_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "numasafe/migrate.h"

struct ns_move_req {
	pid_t pid;
	const char *domain;	/* libvirt domain (numatune is widened/pointed), or NULL */
	const struct ns_mig_opts *o; /* o->to is the target; stop/progress are set here */
	bool dry_run;		/* preflight and verdict only */
	struct json_object *js; /* --json: "plan", "result", "domain" are added to it */
};

/* NS_EXIT_OK, NS_EXIT_FAIL, or NS_EXIT_REFUSED (refused or rolled back, nothing left moved). */
int ns_move_vm(const struct ns_move_req *r);

#endif
