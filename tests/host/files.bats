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
	plan_refused numa-migrate "$PUB_TOP/trail.json" "$PUB_TOP/trail.json: not valid JSON: unexpected text after the plan at line 1"
	echo '{"version": 18446744073709551617, "kind": "numasafe-rebalance", "steps": []}' >"$PUB_TOP/ver.json"
	plan_refused vm-pin "$PUB_TOP/ver.json" "$PUB_TOP/ver.json: \"version\" is out of range"
	echo "$head{$step, \"start_time\": 5, \"bytes\": 18446744073709551616}]}" >"$PUB_TOP/bytes.json"
	plan_refused numa-migrate "$PUB_TOP/bytes.json" "$PUB_TOP/bytes.json: step 1: \"bytes\" is out of range"
	echo "$head{${step/\"a\"/\"std\\u0000in\"}, \"start_time\": 5, \"bytes\": 1}]}" >"$PUB_TOP/nul.json"
	plan_refused vm-pin "$PUB_TOP/nul.json" "$PUB_TOP/nul.json: step 1: \"vm\" contains a NUL or control character"
	echo "$head{$step, \"start_time\": 0, \"bytes\": 1}]}" >"$PUB_TOP/st0.json"
	plan_refused numa-migrate "$PUB_TOP/st0.json" "$PUB_TOP/st0.json: step 1: \"start_time\" is not a process start time (must be positive)"
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

@test "numa-plan rebalance -o: planted symlinks are never followed; the plan is replaced whole, its mode kept" {
	mkdir -m 0777 "$PUB_TOP/pub"
	echo secret >"$PUB_TOP/victim"
	chmod 0600 "$PUB_TOP/victim"
	# every temporary name the old writer could pick (FILE.tmp.PID for the next pids), planted
	# by one process so that planting them uses up no pids
	as_nobody /usr/bin/python3 -c 'import os, sys
last = int(open("/proc/sys/kernel/ns_last_pid").read())
for p in range(last + 1, last + 3000):
    os.symlink(sys.argv[1], "%s/plan.json.tmp.%d" % (sys.argv[2], p))' "$PUB_TOP/victim" "$PUB_TOP/pub"
	run timeout 60 "$NS_BIN/numa-plan" rebalance -o "$PUB_TOP/pub/plan.json"
	assert_success
	assert_equal "$(cat "$PUB_TOP/victim")" secret
	jq -e '.kind == "numasafe-rebalance"' "$PUB_TOP/pub/plan.json"
	[ ! -L "$PUB_TOP/pub/plan.json" ]
	assert_equal "$(stat -c '%U %a' "$PUB_TOP/pub/plan.json")" "root 644"
	# an existing plan keeps its mode; no temporary file is left behind
	chmod 0640 "$PUB_TOP/pub/plan.json"
	run timeout 60 "$NS_BIN/numa-plan" rebalance -o "$PUB_TOP/pub/plan.json"
	assert_success
	assert_equal "$(stat -c %a "$PUB_TOP/pub/plan.json")" 640
	assert_equal "$(find "$PUB_TOP/pub" -name '.plan.json.*' | wc -l)" 0
	# a symlink where the plan goes is replaced by the plan, not followed
	rm "$PUB_TOP/pub/plan.json"
	as_nobody ln -s "$PUB_TOP/victim" "$PUB_TOP/pub/plan.json"
	run timeout 60 "$NS_BIN/numa-plan" rebalance -o "$PUB_TOP/pub/plan.json"
	assert_success
	assert_equal "$(cat "$PUB_TOP/victim")" secret
	[ ! -L "$PUB_TOP/pub/plan.json" ]
	jq -e '.kind == "numasafe-rebalance"' "$PUB_TOP/pub/plan.json"
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
