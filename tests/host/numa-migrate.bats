#!/usr/bin/env bats
# numa-migrate on this host: bad input and the one-node no-op. Cross-node moves are in
# tests/lab/migrate.bats.

load ../helpers

teardown() { standin_stop; }

# Each bad invocation: one clear line (plus the hint for usage errors), the documented exit
# code, and nothing moved (checked by the stand-in's placement and data afterwards).
bad() {
	local want=$1 msg=$2
	shift 2
	run --separate-stderr "$NS_BIN/numa-migrate" "$@"
	[ "$status" -eq "$want" ] || fail "numa-migrate $*: exit $status, want $want ($stderr)"
	[ -z "$output" ] || fail "numa-migrate $*: stdout: $output"
	[ "${stderr_lines[0]}" = "numa-migrate: $msg" ] || fail "numa-migrate $*: got '${stderr_lines[0]}', want '$msg'"
}

@test "numa-migrate: bad input gives one clear line and the documented exit code" {
	require_root
	standin_start --size 16M
	bad 2 "pid: '0' is not a process id" --to 0 0
	bad 2 "--to is required" "$STANDIN_PID"
	bad 2 "--to: '9' names a node that does not exist (nodes $(cat /sys/devices/system/node/online))" --to 9 "$STANDIN_PID"
	bad 2 "--to: 'zero' is not a node list (like 0, 0-1,3, all or !0)" --to zero "$STANDIN_PID"
	bad 2 "--to: '1-0' is not a node list (like 0, 0-1,3, all or !0)" --to 1-0 "$STANDIN_PID"
	bad 2 "--to: '!all' is not a node list (like 0, 0-1,3, all or !0)" --to '!all' "$STANDIN_PID"
	bad 2 "--from and --to name the same node: memory on a target node stays where it is" --to 0 --from 0 "$STANDIN_PID"
	bad 2 "--rate: '-1' is not a size (like 512M, 2G or 1.5GiB; KB/MB/GB are powers of 1000)" --to 0 --rate -1 "$STANDIN_PID"
	bad 2 "--chunk: '0' is not a whole number from 1 to 16384" --to 0 --chunk 0 "$STANDIN_PID"
	bad 2 "--chunk: '-1' is not a whole number from 1 to 16384" --to 0 --chunk -1 "$STANDIN_PID"
	bad 2 "--jobs: '0' is not a whole number from 1 to 16" --to 0 --jobs 0 "$STANDIN_PID"
	bad 2 "--jobs: '17' is not a whole number from 1 to 16" --to 0 --jobs 17 "$STANDIN_PID"
	bad 2 "--jobs: '-1' is not a whole number from 1 to 16" --to 0 --jobs -1 "$STANDIN_PID"
	bad 2 "--jobs: '0x10' is not a whole number from 1 to 16" --to 0 --jobs 0x10 "$STANDIN_PID"
	bad 2 "--on-pressure: 'panic' is neither rollback nor stop" --to 0 --on-pressure panic "$STANDIN_PID"
	bad 2 "--max-psi: '150' is not a number from 0 to 100" --to 0 --max-psi 150 "$STANDIN_PID"
	bad 2 "--max-psi: '0x10' is not a number from 0 to 100" --to 0 --max-psi 0x10 "$STANDIN_PID"
	bad 2 "--psi-grace: '1e3' is not a number from 0 to 86400" --to 0 --psi-grace 1e3 "$STANDIN_PID"
	bad 2 "--reserve: '18446744073709551615' is more than the host's memory ($("$NS_REAL_BIN/numa-plan" show --json | jq -r '.host.mem_total' | numfmt --to=iec))" --to 0 --reserve 18446744073709551615 "$STANDIN_PID"
	bad 2 "no target: give a PID or --domain NAME" --to 0
	pid=999999
	while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
	bad 1 "pid $pid: No such process" --to 0 "$pid"
	bad 1 "pid 2: a kernel thread has no memory" --to 0 2
	bad 1 "domain nosuch: no such domain" --to 0 -c test:///default -d nosuch
	standin_verify
}

@test "numa-migrate: --to 0 on a one-node host is a successful no-op" {
	require_root
	standin_start --size 32M
	run "$NS_BIN/numa-migrate" --to 0 "$STANDIN_PID"
	assert_success
	assert_line --partial "verdict:    safe"
	assert_line 'done: nothing to move'
	standin_verify
}

@test "numa-migrate: 16 TB of reserved address space with 64 pages: the dry run and the no-op run count the pages and finish" {
	require_root
	sparse_start
	run --separate-stderr timeout 20 "$NS_BIN/numa-migrate" --to 0 --dry-run --json "$STANDIN_PID"
	assert_success
	# 4 MiB, the 64 sparse pages (256 KiB) and the stand-in's own heap, stack and libc data
	# (well under 4 MiB): the walk found the pages out in the 16 TB
	jq -e '.verdict == "safe" and .move_total == 0 and .on_target.anon >= 4194304 + 262144
		and .on_target.anon < 8388608' <<<"$output" || fail "$output"
	run --separate-stderr timeout 20 "$NS_BIN/numa-migrate" --to 0 --json "$STANDIN_PID"
	assert_success
	jq -e '.kind == "numasafe-move" and .stop == "done" and .check.on_target.anon >= 4194304 + 262144' <<<"$output" ||
		fail "$output"
	standin_verify
}

@test "numa-migrate: SIGTERM while it reads the maps of a sparse 16 TB process ends the dry run and the move: exit 4, reason signal" {
	require_root
	# 60000 VMAs on top: reading them lasts long enough to be caught in it
	sparse_start --vmas 30000
	for args in --dry-run --quiet; do
		"$NS_REAL_BIN/numa-migrate" --json --to 0 "$args" "$STANDIN_PID" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
		mig=$!
		wait_scanning "$mig" "$STANDIN_PID" || fail "numa-migrate $args ended before it was seen reading: $(cat "$BATS_TEST_TMPDIR/out")"
		kill -TERM "$mig"
		wait_guard "$mig"
		[ "$RC" -eq 4 ] || fail "numa-migrate $args: exit $RC, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
		# in the preflight (an error document) or in the move (a result, rolled back)
		jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "signal"
			and (.result == null or (.result.stop == "signal" and .result.rollback.complete))' \
			"$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
		grep -q "interrupted" "$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
	done
	standin_verify
}

@test "numa-migrate: --dry-run --json parses and changes nothing" {
	require_root
	standin_start --size 32M
	run --separate-stderr "$NS_BIN/numa-migrate" --to 0 --dry-run --json "$STANDIN_PID"
	assert_success
	jq -e ".version == 2 and .kind == \"numasafe-check\" and .vm.pid == $STANDIN_PID and .verdict == \"safe\" and .on_target.anon >= 33554432" <<<"$output"
}

@test "numa-migrate: a second run on the same process says who holds the lock: busy, exit 4" {
	require_root
	standin_start --size 16M
	mkdir -p /run/numasafe
	# hold the lock the way numa-migrate does: flock on the per-VM file, pid and command inside
	exec 9>"$(vm_lock_file "$STANDIN_PID")"
	flock -n 9
	echo "4321 numa-migrate" >&9
	bad 4 "standin (pid $STANDIN_PID): numa-migrate (pid 4321) is changing it; try again when it is done" --to 0 "$STANDIN_PID"
	run --separate-stderr "$NS_BIN/numa-migrate" --json --to 0 "$STANDIN_PID"
	assert_failure 4
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "busy"' <<<"$output"
	# a dry run changes nothing and takes no lock
	run --separate-stderr "$NS_BIN/numa-migrate" -n --to 0 "$STANDIN_PID"
	assert_success
	exec 9>&-
	run "$NS_BIN/numa-migrate" --to 0 -q "$STANDIN_PID"
	assert_success
}

@test "numa-migrate: --all-shared without CAP_SYS_NICE is refused, exit 1" {
	require_root
	command -v capsh >/dev/null || ns_skip "needs capsh (libcap2-bin)"
	standin_start --size 16M
	run --separate-stderr capsh --drop=cap_sys_nice -- -c "'$NS_BIN/numa-migrate' --to 0 --all-shared $STANDIN_PID"
	assert_failure 1
	assert_equal "$stderr" "numa-migrate: --all-shared needs CAP_SYS_NICE (moving pages of other processes: MPOL_MF_MOVE_ALL)"
}

@test "numa-migrate -v says what it does on stderr; without it, nothing" {
	require_root
	standin_start --size 16M
	run --separate-stderr "$NS_BIN/numa-migrate" -v --to 0 "$STANDIN_PID"
	assert_success
	[[ "$stderr" == *"standin (pid $STANDIN_PID): locked for this run"* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"standin (pid $STANDIN_PID): preflight: "*" bytes to move"* ]] || fail "stderr: $stderr"
	run --separate-stderr "$NS_BIN/numa-migrate" --to 0 "$STANDIN_PID"
	assert_success
	[ -z "$stderr" ] || fail "stderr without -v: $stderr"
}
