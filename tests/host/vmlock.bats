#!/usr/bin/env bats
# One changer per VM (numasafe(7), LOCKS): numa-migrate, vm-pin in every changing form, the
# plan executors and fast-swapoff's paging in of each process take the same lock, keyed by the
# process's pid and start time, in /run/numasafe. The lock file holds the holder's pid and
# command; the next taker is refused as busy (exit 4) and told who holds it; fast-swapoff skips
# a busy process and says so instead of refusing the area. A held lock is simulated here as a
# running command holds it (flock, "PID COMMAND" inside); the lab has two real commands meet
# (tests/lab/migrate.bats).

load ../helpers

setup() { require_root; }

teardown() {
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null && wait "$HOLDER" 2>/dev/null
	HOLDER=
	standin_stop
	if [ -n "${swapfile:-}" ] && awk -v d="$swapfile" '$1 == d {f = 1} END {exit !f}' /proc/swaps; then
		swapoff "$swapfile"
	fi
}

# hold_vm_lock PID: hold PID's VM lock in the background as "4321 numa-migrate" would.
hold_vm_lock() {
	local lock
	lock=$(vm_lock_file "$1")
	mkdir -p /run/numasafe
	echo "4321 numa-migrate" >"$lock"
	flock "$lock" sleep 300 3>&- &
	HOLDER=$!
	for _ in $(seq 1 100); do
		holds_flock "$HOLDER" "$lock" && return 0
		# flock(1) holds it in its own process, or in sleep's after the exec
		pgrep -P "$HOLDER" >/dev/null && holds_flock "$(pgrep -P "$HOLDER")" "$lock" && return 0
		sleep 0.1
	done
	fail "could not hold the lock"
}

affinity() { grep Cpus_allowed_list /proc/"$1"/task/*/status | sort; }

@test "vm-pin --cpus while another command holds the VM's lock: busy, exit 4, naming it; nothing pinned" {
	standin_start --size 8M --vcpus 2
	before=$(affinity "$STANDIN_PID")
	hold_vm_lock "$STANDIN_PID"
	run --separate-stderr timeout 60 "$NS_BIN/vm-pin" "$STANDIN_PID" --cpus 0
	[ "$status" -eq 4 ] || fail "exit $status, want 4 ($stderr)"
	assert_equal "$stderr" "vm-pin: pid $STANDIN_PID: numa-migrate (pid 4321) is changing it; try again when it is done"
	assert_equal "$(affinity "$STANDIN_PID")" "$before"
	run --separate-stderr timeout 60 "$NS_BIN/vm-pin" --json "$STANDIN_PID" --cpus 0 --weight
	[ "$status" -eq 4 ] || fail "exit $status, want 4 ($stderr)"
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "busy"' <<<"$output"
	# --show and a dry run change nothing and take no lock
	run timeout 60 "$NS_BIN/vm-pin" --show "$STANDIN_PID"
	assert_success
	run timeout 60 "$NS_BIN/vm-pin" -n "$STANDIN_PID" --cpus 0
	assert_success
	assert_equal "$(affinity "$STANDIN_PID")" "$before"
}

@test "a plan step on a VM whose lock is held: busy, exit 4, naming the holder; the step does not run" {
	standin_start --size 8M --vcpus 1
	st=$(awk '{print $22}' "/proc/$STANDIN_PID/stat")
	cat >"$BATS_TEST_TMPDIR/plan.json" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "standin", "domain": false, "pid": $STANDIN_PID, "start_time": $st, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
	before=$(affinity "$STANDIN_PID")
	hold_vm_lock "$STANDIN_PID"
	for c in numa-migrate vm-pin; do
		run --separate-stderr timeout 60 "$NS_BIN/$c" --plan "$BATS_TEST_TMPDIR/plan.json" --reserve 1M
		[ "$status" -eq 4 ] || fail "$c: exit $status, want 4 ($stderr)"
		assert_equal "${stderr_lines[0]}" "$c: pid $STANDIN_PID: numa-migrate (pid 4321) is changing it; try again when it is done"
		assert_equal "$(affinity "$STANDIN_PID")" "$before"
	done
}

@test "vm-pin --mem takes the VM's lock once for pin and move; the lock file names the last holder" {
	standin_start --size 8M --vcpus 1
	run --separate-stderr timeout 60 "$NS_BIN/vm-pin" "$STANDIN_PID" --cpus 0 --mem --reserve 1M
	[ "$status" -eq 0 ] || fail "exit $status ($stderr)"
	lock=$(vm_lock_file "$STANDIN_PID")
	[ -f "$lock" ] && [ ! -L "$lock" ] || fail "no lock file $lock"
	assert_equal "$(stat -c '%U %a' "$lock")" "root 644"
	run cat "$lock"
	assert_output --regexp '^[0-9]+ vm-pin$'
	run --separate-stderr timeout 60 "$NS_BIN/numa-migrate" --to 0 -q "$STANDIN_PID"
	assert_success
	run cat "$lock"
	assert_output --regexp '^[0-9]+ numa-migrate$'
	standin_verify
}

@test "fast-swapoff skips a process whose VM lock is held, says who holds it, pages in the rest" {
	swapfile=$BATS_TEST_TMPDIR/swap
	fallocate -l 64M "$swapfile" || ns_skip "no fallocate here"
	chmod 600 "$swapfile"
	mkswap "$swapfile" >/dev/null
	swapon "$swapfile" || ns_skip "this file system takes no swap file"
	standin_start --size 16M
	busy=$STANDIN_PID
	standin_pageout "$busy"
	STANDIN_PIDS=$busy
	standin_start --size 16M
	free=$STANDIN_PID
	standin_pageout "$free"
	for p in "$busy" "$free"; do
		[ "$(awk '/^VmSwap/ {print $2}' /proc/"$p"/status)" -ge 8000 ] || fail "pid $p did not swap"
	done
	hold_vm_lock "$busy"
	run --separate-stderr timeout 120 "$NS_REAL_BIN/fast-swapoff" --json --no-swapoff "$swapfile"
	[ "$status" -eq 0 ] || fail "exit $status ($stderr)"
	grep -qxF "fast-swapoff: warning: $swapfile: pid $busy (standin): skipped, numa-migrate (pid 4321) is changing it; its pages stay in swap" <<<"$stderr" ||
		fail "stderr: $stderr"
	jq -e --argjson b "$busy" --argjson f "$free" '.areas[0].processes_busy == 1
		and (.areas[0].processes[] | select(.pid == $b) | .busy_by == {"command": "numa-migrate", "pid": 4321} and .back == 0)
		and (.areas[0].processes[] | select(.pid == $f) | .busy_by == null and .back > 0)' <<<"$output" ||
		fail "document: $output"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/doc.json"
	assert_json_schema "$BATS_TEST_TMPDIR/doc.json"
	# the busy one is still in swap, the other came back
	[ "$(awk '/^VmSwap/ {print $2}' /proc/"$busy"/status)" -ge 8000 ] || fail "the busy process was paged in"
	[ "$(awk '/^VmSwap/ {print $2}' /proc/"$free"/status)" -lt 1024 ] || fail "the free process was not paged in"
	standin_verify "$free"
}
