#!/usr/bin/env bats
# Hostile files on this host: plan files that are not files (or not plans), symlinks planted
# where root writes, lock files, and the dry run that must take no lock. Each bad input: one
# line on stderr, the documented exit code, nothing written, and never a hang (every command
# runs under timeout, so a hang fails the test instead of stalling the suite).

load ../helpers

setup() {
	require_root
	# a directory an unprivileged user can reach: BATS' own temp directories are 0700
	PUB_TOP=$(mktemp -d /tmp/ns-files.XXXXXX)
	chmod 0755 "$PUB_TOP"
}

teardown() {
	standin_stop
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	rm -rf "$PUB_TOP"
}

as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }

# CMD FILE MESSAGE: `CMD --plan FILE` fails at once with exit 1 and exactly MESSAGE.
plan_refused() {
	local c=$1 file=$2 msg=$3
	# /dev/zero made the old reader grow without end: cap its memory so a regression fails
	# here instead of taking the machine's
	run --separate-stderr timeout 20 bash -c 'ulimit -v 1048576; exec "$@"' - "$NS_BIN/$c" --plan "$file"
	[ "$status" -eq 1 ] || fail "$c --plan $file: exit $status, want 1 ($stderr)"
	[ -z "$output" ] || fail "$c --plan $file: stdout: $output"
	assert_equal "$stderr" "$c: $msg"
}

@test "plan files: /dev/zero, a FIFO, a directory, a symlink and a file over 64 MiB are refused at once" {
	mkfifo "$PUB_TOP/fifo"
	mkdir "$PUB_TOP/dir"
	echo '{"version": 1, "kind": "numasafe-rebalance", "steps": []}' >"$PUB_TOP/plan.json"
	ln -s "$PUB_TOP/plan.json" "$PUB_TOP/link.json"
	truncate -s 65M "$PUB_TOP/big.json"
	for c in numa-migrate vm-pin; do
		plan_refused "$c" /dev/zero "/dev/zero: not a regular file"
		plan_refused "$c" "$PUB_TOP/fifo" "$PUB_TOP/fifo: not a regular file"
		plan_refused "$c" "$PUB_TOP/dir" "$PUB_TOP/dir: is a directory"
		plan_refused "$c" "$PUB_TOP/link.json" "$PUB_TOP/link.json: is a symbolic link; give the plan file itself"
		plan_refused "$c" "$PUB_TOP/big.json" "$PUB_TOP/big.json: larger than 64 MiB, the limit for a plan file"
		# the file itself is fine
		run timeout 20 "$NS_BIN/$c" --plan "$PUB_TOP/plan.json"
		assert_success
	done
}

@test "plan files: bad JSON is one line; trailing garbage, numbers out of range and a NUL in a name are refused, naming the field" {
	local head='{"version": 1, "kind": "numasafe-rebalance", "steps": ['
	local step='"step": 1, "vm": "a", "domain": false, "pid": 7, "to": 0, "temporary": false'
	printf '{"version": 1,' >"$PUB_TOP/cut.json"
	run --separate-stderr timeout 20 "$NS_BIN/numa-migrate" --plan "$PUB_TOP/cut.json"
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "not one line: '$stderr'"
	[[ "$stderr" == "numa-migrate: $PUB_TOP/cut.json: not valid JSON: "* ]] || fail "$stderr"
	echo "$head]} trailing" >"$PUB_TOP/trail.json"
	plan_refused numa-migrate "$PUB_TOP/trail.json" "$PUB_TOP/trail.json: not valid JSON: text after the JSON value at line 1, column 59"
	echo '{"version": 18446744073709551617, "kind": "numasafe-rebalance", "steps": []}' >"$PUB_TOP/ver.json"
	plan_refused vm-pin "$PUB_TOP/ver.json" "$PUB_TOP/ver.json: \"version\" is out of range"
	echo "$head{$step, \"start_time\": 5, \"bytes\": 18446744073709551616}]}" >"$PUB_TOP/bytes.json"
	plan_refused numa-migrate "$PUB_TOP/bytes.json" "$PUB_TOP/bytes.json: step 1: \"bytes\" is out of range"
	echo "$head{${step/\"a\"/\"std\\u0000in\"}, \"start_time\": 5, \"bytes\": 1}]}" >"$PUB_TOP/nul.json"
	plan_refused vm-pin "$PUB_TOP/nul.json" "$PUB_TOP/nul.json: step 1: \"vm\" contains a NUL or control character"
	echo "$head{$step, \"start_time\": 0, \"bytes\": 1}]}" >"$PUB_TOP/st0.json"
	plan_refused numa-migrate "$PUB_TOP/st0.json" "$PUB_TOP/st0.json: step 1: \"start_time\" is not a process start time (must be positive)"
}

@test "plan files: strict JSON only (RFC 8259): single quotes, NaN, duplicate keys, comments, bad UTF-8 are bad-input at their position" {
	# json-c's tokener took each of these (a duplicate "vm" kept the last, so jq and the
	# policy script saw one VM and numa-migrate moved another); the commands refuse them
	# before any step runs, naming line and column
	local head='{"version": 1, "kind": "numasafe-rebalance", "steps": ['
	local step='"step": 1, "vm": "a", "domain": false, "pid": 7, "to": 0, "temporary": false, "start_time": 5, "bytes": 1'
	printf "{'version': 1, \"kind\": \"numasafe-rebalance\", \"steps\": []}\n" >"$PUB_TOP/quote.json"
	plan_refused numa-migrate "$PUB_TOP/quote.json" "$PUB_TOP/quote.json: not valid JSON: a single quote where a key in double quotes was expected (JSON strings take double quotes) at line 1, column 2"
	echo '{"version": NaN, "kind": "numasafe-rebalance", "steps": []}' >"$PUB_TOP/nan.json"
	plan_refused vm-pin "$PUB_TOP/nan.json" "$PUB_TOP/nan.json: not valid JSON: NaN and Infinity are not JSON numbers at line 1, column 13"
	printf '%s{%s,\n  "vm": "b"}]}\n' "$head" "$step" >"$PUB_TOP/dup.json"
	plan_refused numa-migrate "$PUB_TOP/dup.json" "$PUB_TOP/dup.json: not valid JSON: key \"vm\" a second time in the object (first at line 1, column 68) at line 2, column 3"
	jq -e '.steps[0].vm == "b"' "$PUB_TOP/dup.json" # what jq makes of it
	printf '%s{%s}]} // done\n' "$head" "$step" >"$PUB_TOP/comment.json"
	plan_refused vm-pin "$PUB_TOP/comment.json" "$PUB_TOP/comment.json: not valid JSON: a comment (JSON has none) at line 1, column 166"
	printf '%s{%s}], "x": "\xc0\xaf"}\n' "$head" "$step" >"$PUB_TOP/utf8.json"
	plan_refused numa-migrate "$PUB_TOP/utf8.json" "$PUB_TOP/utf8.json: not valid JSON: byte 0xc0 is not UTF-8 here at line 1, column 172"
	# the error document says bad-input, with the same message
	run --separate-stderr timeout 20 "$NS_BIN/numa-migrate" --json --plan "$PUB_TOP/dup.json"
	assert_failure 1
	jq -e '.kind == "numasafe-error" and .reason == "bad-input" and (.message | endswith("at line 2, column 3"))' <<<"$output"
	# the same plan written strictly runs its checks (the stand-in is no pid 7: stale, not bad-input)
	printf '%s{%s}]}\n' "$head" "$step" >"$PUB_TOP/ok.json"
	run --separate-stderr timeout 20 "$NS_BIN/numa-migrate" --json --plan "$PUB_TOP/ok.json"
	jq -e '.reason != "bad-input"' <<<"$output"
}

# A plan with one step for the stand-in (named VM), as numa-plan rebalance writes it.
one_step_plan() { # VMNAME START_TIME FILE
	cat >"$3" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "$1", "domain": false, "pid": $STANDIN_PID, "start_time": $2, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
}

@test "plan steps: the VM's name must match the live process, or the plan is stale and nothing runs" {
	standin_start --size 16M --vcpus 1
	st=$(awk '{print $22}' "/proc/$STANDIN_PID/stat")
	before=$(taskset -pc "$STANDIN_PID")
	for c in numa-migrate vm-pin; do
		one_step_plan othervm "$st" "$PUB_TOP/stale.json"
		run --separate-stderr timeout 60 "$NS_BIN/$c" --plan "$PUB_TOP/stale.json"
		assert_failure 1
		assert_equal "$stderr" "$c: $PUB_TOP/stale.json: step 1: pid $STANDIN_PID is \"pid $STANDIN_PID\" (standin) now, not \"othervm\": the plan is stale"
		assert_equal "$(taskset -pc "$STANDIN_PID")" "$before"
		one_step_plan "pid $STANDIN_PID" $((st + 1)) "$PUB_TOP/reused.json"
		run --separate-stderr timeout 60 "$NS_BIN/$c" --plan "$PUB_TOP/reused.json"
		assert_failure 1
		assert_equal "$stderr" "$c: $PUB_TOP/reused.json: step 1: pid $STANDIN_PID started at $st, not $((st + 1)): another process has the pid now: the plan is stale"
	done
	# the name it has now, or its comm, is the VM the plan means: the step runs
	one_step_plan "pid $STANDIN_PID" "$st" "$PUB_TOP/ok.json"
	run timeout 60 "$NS_BIN/numa-migrate" --plan "$PUB_TOP/ok.json" --reserve 1M
	assert_success
	one_step_plan standin "$st" "$PUB_TOP/comm.json"
	run timeout 60 "$NS_BIN/vm-pin" --plan "$PUB_TOP/comm.json" --reserve 1M
	assert_success
	standin_verify
}

@test "lock files: NUMASAFE_RUNDIR is ignored; a symlink planted there is never written through" {
	standin_start --size 16M
	mkdir -m 0777 "$PUB_TOP/run"
	echo secret >"$PUB_TOP/victim"
	chmod 0600 "$PUB_TOP/victim"
	as_nobody ln -s "$PUB_TOP/victim" "$PUB_TOP/run/$(basename "$(vm_lock_file "$STANDIN_PID")")"
	NUMASAFE_RUNDIR=$PUB_TOP/run run timeout 60 "$NS_BIN/numa-migrate" --to 0 -q "$STANDIN_PID"
	assert_success
	assert_equal "$(cat "$PUB_TOP/victim")" secret
	assert_equal "$(stat -c %a "$PUB_TOP/victim")" 600
	# the lock lives in the one root-owned directory, 0755
	assert_equal "$(stat -c '%U %a %F' /run/numasafe)" "root 755 directory"
	lock=$(vm_lock_file "$STANDIN_PID")
	[ -f "$lock" ] && [ ! -L "$lock" ]
	standin_verify
}

# Hold the VM lock of pid $1 in the background, as a running move does.
hold_lock() {
	local lock
	lock=$(vm_lock_file "$1")
	mkdir -p /run/numasafe
	echo "4321 numa-migrate" >"$lock"
	flock "$lock" sleep 300 3>&- &
	HOLDER=$!
	for _ in $(seq 1 100); do
		flock -n "$lock" true || return 0
		sleep 0.1
	done
	fail "could not hold the lock"
}

@test "dry runs take no lock: numa-migrate -n works while a move holds the lock, and for a user who may read the process" {
	standin_start --size 16M
	hold_lock "$STANDIN_PID"
	run --separate-stderr timeout 60 "$NS_BIN/numa-migrate" -n --to 0 "$STANDIN_PID"
	assert_success
	assert_line --partial "verdict:    safe"
	# the real move is refused while the lock is held
	run --separate-stderr timeout 60 "$NS_BIN/numa-migrate" --to 0 "$STANDIN_PID"
	assert_failure
	assert_equal "$stderr" "numa-migrate: standin (pid $STANDIN_PID): numa-migrate (pid 4321) is changing it; try again when it is done"
	standin_stop
	# the user's own process (its ready file where that user may write)
	mkdir -m 0777 "$PUB_TOP/user"
	setpriv --reuid nobody --regid nogroup --clear-groups "$NS_HELPERS/standin" --size 16M \
		--ready "$PUB_TOP/user/ready" 3>&- &
	for _ in $(seq 1 300); do [ -s "$PUB_TOP/user/ready" ] && break; sleep 0.1; done
	STANDIN_PID=$(cat "$PUB_TOP/user/ready")
	assert_equal "$(stat -c %U "/proc/$STANDIN_PID")" nobody
	run --separate-stderr timeout 60 setpriv --reuid nobody --regid nogroup --clear-groups \
		"$NS_BIN/numa-migrate" -n --to 0 "$STANDIN_PID"
	assert_success
	assert_line --partial "verdict:    safe"
}

# numa-plan rebalance -o FILE wrote a plan: exit 0, or 4 when some VM on this shared host fits
# nowhere (the plan is written then too).
plan_out() {
	run timeout 60 "$NS_BIN/numa-plan" rebalance --sample 0 -o "$1"
	[ "$status" -eq 0 ] || [ "$status" -eq 4 ] || fail "rebalance -o $1: exit $status: $output"
}

@test "numa-plan rebalance -o: planted symlinks are never followed; the plan is replaced whole, root's, mode 0644" {
	mkdir -m 0755 "$PUB_TOP/pub"
	echo secret >"$PUB_TOP/victim"
	chmod 0600 "$PUB_TOP/victim"
	plan_out "$PUB_TOP/pub/plan.json"
	jq -e '.kind == "numasafe-rebalance"' "$PUB_TOP/pub/plan.json"
	assert_equal "$(stat -c '%U %a' "$PUB_TOP/pub/plan.json")" "root 644"
	# a user's set-id file at the target lends neither its mode nor anything else
	rm "$PUB_TOP/pub/plan.json"
	echo x >"$PUB_TOP/pub/plan.json"
	chown nobody:nogroup "$PUB_TOP/pub/plan.json"
	chmod 6777 "$PUB_TOP/pub/plan.json"
	plan_out "$PUB_TOP/pub/plan.json"
	assert_equal "$(stat -c '%U %G %a' "$PUB_TOP/pub/plan.json")" "root root 644"
	jq -e '.kind == "numasafe-rebalance"' "$PUB_TOP/pub/plan.json"
	# no temporary file is left behind
	assert_equal "$(find "$PUB_TOP/pub" -name '.plan.json.*' | wc -l)" 0
	# a symlink where the plan goes is replaced by the plan, not followed
	rm "$PUB_TOP/pub/plan.json"
	ln -s "$PUB_TOP/victim" "$PUB_TOP/pub/plan.json"
	plan_out "$PUB_TOP/pub/plan.json"
	assert_equal "$(cat "$PUB_TOP/victim")" secret
	[ ! -L "$PUB_TOP/pub/plan.json" ]
	jq -e '.kind == "numasafe-rebalance"' "$PUB_TOP/pub/plan.json"
}

# CMD... -o FILE is refused at once: exit 1, one line naming FILE and why, nothing written.
out_refused() { # FILE MESSAGE CMD...
	local file=$1 msg=$2
	shift 2
	run --separate-stderr timeout 60 "$NS_BIN/numa-plan" "$@" -o "$file"
	[ "$status" -eq 1 ] || fail "$* -o $file: exit $status, want 1 ($stderr)"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "not one line: '$stderr'"
	assert_equal "$stderr" "numa-plan: $file: $msg"
	[ "$1" = metrics ] && return 0 # (metrics has no --json: its output is Prometheus' format)
	run --separate-stderr timeout 60 "$NS_BIN/numa-plan" "$@" --json -o "$file"
	[ "$status" -eq 1 ] || fail "$* --json -o $file: exit $status, want 1"
	jq -e '.kind == "numasafe-error" and .reason == "bad-input" and .code == 1' <<<"$output" >/dev/null ||
		fail "error document: $output"
}

@test "-o through a symlinked or user-owned directory is refused, one line, exit 1, nothing written" {
	# the attack of the issue: the owner of a directory above the target (prometheus owns
	# /var/lib/prometheus) swaps the target's directory for a link to one of root's
	mkdir -m 0755 "$PUB_TOP/owned" "$PUB_TOP/etc"
	chown nobody:nogroup "$PUB_TOP/owned"
	as_nobody ln -s "$PUB_TOP/etc" "$PUB_TOP/owned/node-exporter"
	for sub in "metrics --sample 0" "rebalance --sample 0"; do
		# shellcheck disable=SC2086
		out_refused "$PUB_TOP/owned/node-exporter/numasafe.prom" \
			"refusing it: $PUB_TOP/owned/node-exporter is a symbolic link (owned by uid 65534); an output path may hold none" $sub
		# a directory nobody owns (and could fill with links of its own)
		# shellcheck disable=SC2086
		out_refused "$PUB_TOP/owned/numasafe.prom" \
			"refusing it: directory $PUB_TOP/owned is owned by uid 65534, not root" $sub
	done
	# even root's own links: one a user could move is no different
	ln -s "$PUB_TOP/etc" "$PUB_TOP/rootlink"
	out_refused "$PUB_TOP/rootlink/numasafe.prom" \
		"refusing it: $PUB_TOP/rootlink is a symbolic link (owned by uid 0); an output path may hold none" metrics --sample 0
	# a directory anyone may write, sticky or not
	mkdir -m 1777 "$PUB_TOP/tmp"
	out_refused "$PUB_TOP/tmp/plan.json" "refusing it: directory $PUB_TOP/tmp is writable by others (mode 1777)" rebalance --sample 0
	assert_equal "$(find "$PUB_TOP/etc" "$PUB_TOP/owned" "$PUB_TOP/tmp" -type f | wc -l)" 0
	# a link in the middle of the path is refused as well
	mkdir -m 0755 "$PUB_TOP/real"
	ln -s "$PUB_TOP/real" "$PUB_TOP/mid"
	mkdir -m 0755 "$PUB_TOP/real/sub"
	out_refused "$PUB_TOP/mid/sub/numasafe.prom" \
		"refusing it: $PUB_TOP/mid is a symbolic link (owned by uid 0); an output path may hold none" metrics --sample 0
	[ ! -e "$PUB_TOP/real/sub/numasafe.prom" ]
	# the packaged path's shape is accepted: root's 0755 directory under a user's directory
	mkdir -m 0755 "$PUB_TOP/owned/textfile"
	run timeout 60 "$NS_BIN/numa-plan" metrics --sample 0 -o "$PUB_TOP/owned/textfile/numasafe.prom"
	assert_success
	assert_equal "$(stat -c '%U %a' "$PUB_TOP/owned/textfile/numasafe.prom")" "root 644"
}

@test "numa-plan show --root: a FIFO in place of a /sys or /proc file fails at once, never hangs" {
	cp -r "$NS_TOP/tests/fixtures/lab2" "$PUB_TOP/tree"
	# (the files read through lib/util.c; topo.c, procmem.c and steal.c still fopen() theirs)
	for f in sys/devices/system/node/online proc/zoneinfo proc/meminfo; do
		rm -f "$PUB_TOP/tree/$f"
		mkfifo "$PUB_TOP/tree/$f"
		run --separate-stderr timeout 20 "$NS_BIN/numa-plan" show --root "$PUB_TOP/tree"
		# (what it then says is the host-fact readers' business; here: it must not hang)
		[ "$status" -ne 124 ] || fail "$f as a FIFO: numa-plan hung"
		rm "$PUB_TOP/tree/$f"
		cp "$NS_TOP/tests/fixtures/lab2/$f" "$PUB_TOP/tree/$f"
	done
}

# debian/numasafe.postrm remove, run on the real path in a private mount namespace where
# /var/lib/prometheus is a tmpfs set up by SETUP (a shell snippet run there first); prints
# "left" or "removed" for node-exporter/numasafe.prom afterwards.
postrm_in_ns() { # SETUP
	unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /var/lib/prometheus && cd /var/lib/prometheus && '"$1"' &&
		sh "$0" remove && if [ -e node-exporter/numasafe.prom ]; then echo left; else echo removed; fi' \
		"$NS_TOP/debian/numasafe.postrm"
}

@test "postrm removes the metrics file only under -o's rule: no link followed, a directory root's alone" {
	command -v unshare >/dev/null || ns_skip "needs unshare (util-linux)"
	[ -d /var/lib/prometheus ] || ns_skip "needs /var/lib/prometheus (prometheus-node-exporter)"
	mkdir -m 0755 "$PUB_TOP/etc"
	echo keep >"$PUB_TOP/etc/numasafe.prom"
	# user prometheus (here: nobody) owns the directory above and puts a link in place
	run --separate-stderr postrm_in_ns "chown nobody . && setpriv --reuid nobody --regid nogroup --clear-groups ln -s '$PUB_TOP/etc' node-exporter"
	assert_success
	assert_output left
	assert_equal "$(cat "$PUB_TOP/etc/numasafe.prom")" keep
	assert_equal "$stderr" "numasafe: /var/lib/prometheus/node-exporter is a symbolic link (or reached through one): not removing numasafe.prom there"
	# a directory others may write
	run --separate-stderr postrm_in_ns "mkdir -m 0777 node-exporter && chmod 0777 node-exporter && echo x >node-exporter/numasafe.prom"
	assert_success
	assert_output left
	assert_equal "$stderr" "numasafe: /var/lib/prometheus/node-exporter is not root's alone (owner uid 0, mode 777): not removing numasafe.prom there"
	# the packaged layout: removed
	run --separate-stderr postrm_in_ns "chown nobody . && mkdir -m 0755 node-exporter && echo x >node-exporter/numasafe.prom"
	assert_success
	assert_output removed
	assert_equal "$stderr" ""
}
