#!/usr/bin/env bats
# numa-migrate against a real multi-node kernel: placement checked with the kernel's own
# numa_maps (and numastat), data verified by the stand-in, the kernel log checked for OOM.

load ../helpers

setup() {
	require_root
	require_nodes 2
	oom_mark
	LAST=$((LAB_NODES - 1))
	HOG=
}

teardown() {
	[ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null
	if [ -n "${SYSLOGD:-}" ]; then
		kill "$SYSLOGD" 2>/dev/null && wait "$SYSLOGD" 2>/dev/null
		rm -f /dev/log
		SYSLOGD=
	fi
	standin_stop
	if [ -n "${PSI_TEST:-}" ]; then
		swapoff /dev/vda 2>/dev/null || true
		rmdir /sys/fs/cgroup/nsmig-hog /sys/fs/cgroup/nsmig-vm 2>/dev/null || true
	fi
}


# MiB of a process's memory on a node, as numastat (numactl's tool, not ours) counts it.
numastat_mib() { numastat -p "$1" | awk -v c=$(($2 + 2)) '/^Total/ {print $c}'; }

# Wait (up to 10 s) until 8 MiB more of the stand-in is on the last node than BEFORE (MiB):
# the move is under way.
wait_moved() { # BEFORE
	for _ in $(seq 1 100); do
		awk -v a="$(numastat_mib "$STANDIN_PID" "$LAST")" -v b="$1" 'BEGIN {exit !(a - b >= 8)}' && return
		sleep 0.1
	done
}

# A neighbour on the last node in the cgroup nsmig-hog (memory.max 16 MiB, swap on), writing
# SIZE: past 16 MiB it stalls in reclaim. Its pid in HOG, for teardown.
start_hog() { # SIZE
	echo 16M >/sys/fs/cgroup/nsmig-hog/memory.max
	(echo $BASHPID >/sys/fs/cgroup/nsmig-hog/cgroup.procs &&
		exec numactl --membind="$LAST" "$NS_HELPERS/standin" --size "$1" --ready "$BATS_TEST_TMPDIR/hog") 3>&- &
	HOG=$!
}

# The --json result's rollback account adds up: every byte moved is back or not back, and the
# document is valid against the schemas (signal tests run the command itself, not tests/bin).
assert_account() { # FILE
	jq -e '.result.rollback.bytes + .result.rollback.failed_bytes == .result.moved_total
		and ([.result.rollback.not_back[]] | add) == .result.rollback.failed_bytes' "$1" ||
		fail "account does not add up: $(cat "$1")"
	assert_json_schema "$1"
}

# Sizes: tens of MiB where the size proves nothing (every move here is hundreds of calls or
# more); a test that must catch a move under way says why its size and rate are what they are.

@test "lab: move node 0 -> last node: all of it arrives, data intact, no OOM" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M
	assert_anon_on "$STANDIN_PID" 0
	run "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_line --regexp '^done: moved (6[4-9]|7[0-3])\.?[0-9]*M '
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	theirs=$(numastat -p "$STANDIN_PID" | awk -v c=$((LAST + 2)) '/^Total/ {print int($c)}')
	[ "$theirs" -ge 64 ] || fail "numastat: $theirs MiB on node $LAST"
	standin_verify
	assert_no_oom
}

@test "lab: --json result: pages by status, longest call, adaptive chunks" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M
	run --separate-stderr "$NS_BIN/numa-migrate" --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	# anon memory arrives as base pages or as THP units (the guest's THP mode decides)
	jq -e '.kind == "numasafe-move" and .outcome == "done" and .stop == "done" and .moved.anon + .moved.thp >= 67108864
		and .pages.moved >= 32 and .pages.moved <= 16384 + 512 and .check.verdict == "safe"
		and .calls >= 1 and .longest_call_s > 0 and .rollback.done == false' <<<"$output"
	# by default two calls are in flight when the host has two CPUs or more
	jq -e --argjson cpus "$(nproc)" '.jobs == (if $cpus >= 2 then 2 else 1 end)' <<<"$output"
	echo "# longest call $(jq .longest_call_s <<<"$output") s over $(jq .calls <<<"$output") calls" >&3
	standin_verify
}

@test "lab: --jobs 3 and --jobs 1 each move all of it (there and back), data intact" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M
	run --separate-stderr "$NS_BIN/numa-migrate" --json --jobs 3 --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	jq -e '.jobs == 3 and .outcome == "done"' <<<"$output"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
	run --separate-stderr "$NS_BIN/numa-migrate" --json --jobs 1 --reserve 64M --to 0 "$STANDIN_PID"
	assert_success
	jq -e '.jobs == 1 and .outcome == "done"' <<<"$output"
	assert_anon_on "$STANDIN_PID" 0 99
	theirs=$(numastat -p "$STANDIN_PID" | awk '/^Total/ {print int($2)}')
	[ "$theirs" -ge 64 ] || fail "numastat: $theirs MiB on node 0"
	standin_verify
	assert_no_oom
}

@test "lab: THP memory moves; the kernel keeps it huge when the target has room" {
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	[ -w "$thp" ] || ns_skip "needs THP"
	echo madvise >"$thp"
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M --thp
	before=$(awk '/AnonHugePages/ {print $2}' "/proc/$STANDIN_PID/smaps_rollup")
	[ "$before" -ge 32768 ] || fail "stand-in got only $before kB of THP"
	run --separate-stderr "$NS_BIN/numa-migrate" --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	moved=$(jq .thp_moved <<<"$output")
	huge=$(jq .thp_still_huge <<<"$output")
	after=$(awk '/AnonHugePages/ {print $2}' "/proc/$STANDIN_PID/smaps_rollup")
	echo "# THP: $before kB huge before, $moved moved as units, $huge still huge on arrival, $after kB huge after" >&3
	[ "$moved" -ge 16 ] || fail "only $moved THP moved as units"
	[ "$huge" -eq "$moved" ] || fail "$((moved - huge)) THP were split on the way"
	[ "$after" -ge "$before" ]
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
}

@test "lab: pages shared with another process are reported and left; --all-shared moves them" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 32M --fork
	run --separate-stderr "$NS_BIN/numa-migrate" --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	shared=$(jq .pages.shared <<<"$output")
	[ "$shared" -ge 8192 ] || fail "only $shared pages reported shared"
	assert_anon_on "$STANDIN_PID" 0 95
	run "$NS_BIN/numa-migrate" --all-shared --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
}

@test "lab: refusal: the target lacks headroom -> exit 4, nothing moved" {
	STANDIN_WRAP=(numactl --membind=0)
	# twice what the neighbour leaves (50 MiB)
	standin_start --size 100M
	hog_fill "$LAST"
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	[[ "$stderr" == *"refused: "*" to move, node $LAST has "*" of headroom: short by "* ]] || fail "stderr: $stderr"
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
	assert_no_oom
}

# bats test_tags=any-kernel
@test "lab: --reserve 18446744073709551615 (or 16383.99999999P) is a usage error, dry run and real; it wrapped into safe" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 16M
	run --separate-stderr "$NS_BIN/numa-migrate" -n --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_line --partial "verdict:    safe"
	for r in 18446744073709551615 16383.99999999P; do
		for n in -n ""; do
			run --separate-stderr "$NS_BIN/numa-migrate" $n --reserve "$r" --to "$LAST" "$STANDIN_PID"
			[ "$status" -eq 2 ] || fail "$n --reserve $r: exit $status, want 2 ($output / $stderr)"
			[[ "${stderr_lines[0]}" == "numa-migrate: --reserve: '$r' is "* ]] || fail "stderr: $stderr"
		done
		# nothing moved, by the kernel's own account
		assert_anon_on "$STANDIN_PID" 0 99
	done
	# the largest reserve the host allows leaves no headroom: refused, not safe
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 100% --to "$LAST" "$STANDIN_PID"
	[ "$status" -eq 4 ] || fail "--reserve 100%: exit $status, want 4 ($stderr)"
	[[ "$stderr" == *"refused: "*" to move, node $LAST has 0 of headroom: short by "* ]] || fail "stderr: $stderr"
	run --separate-stderr "$NS_BIN/numa-plan" check --reserve 18446744073709551615 --to "$LAST" "$STANDIN_PID"
	[ "$status" -eq 2 ] || fail "check: exit $status, want 2 ($stderr)"
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
	assert_no_oom
}
@test "lab: pressure mid-way: a neighbour fills the target -> rollback, exit 4, data intact" {
	STANDIN_WRAP=(numactl --membind=0)
	# 200 MiB: the neighbour (hundreds of MiB to write) is up seconds after the move began, and
	# more than the 50 MiB it leaves must still be to move then
	standin_start --size 200M
	"$NS_BIN/numa-migrate" --json --reserve 64M --rate 20M --to "$LAST" "$STANDIN_PID" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	# at 20 MiB/s the move needs 10 s; the neighbour takes all but 50 MiB of the headroom left
	# after the first second, so the move must run out of room well before the end
	sleep 1
	hog_fill "$LAST"
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "headroom" and (.result | .kind == "numasafe-move"
		and .outcome == "rolled_back" and .stop == "headroom" and .rollback.done and .rollback.complete
		and .rollback.failed_bytes == 0 and .moved_total > 0 and .rollback.bytes == .moved_total)' "$BATS_TEST_TMPDIR/out" ||
		fail "result: $(cat "$BATS_TEST_TMPDIR/out")"
	assert_account "$BATS_TEST_TMPDIR/out"
	grep -q "stopped: target headroom ran out; moved pages were put back" "$BATS_TEST_TMPDIR/err"
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
	assert_no_oom
}

# bats test_tags=any-kernel
@test "lab: --rate 12M for 64 MiB takes at least 4.5 s" {
	STANDIN_WRAP=(numactl --membind=0)
	# 5.3 s at the rate: long enough that the pacing, not the first chunks, sets the time
	standin_start --size 64M
	start=$(date +%s%N)
	run "$NS_BIN/numa-migrate" -q --reserve 64M --rate 12M --to "$LAST" "$STANDIN_PID"
	assert_success
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "# 64 MiB at --rate 12M took $ms ms" >&3
	[ "$ms" -ge 4500 ] || fail "took only $ms ms"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
}

@test "lab: SIGTERM mid-move rolls it back: exit 4, numastat shows the original placement, data intact" {
	STANDIN_WRAP=(numactl --membind=0)
	# 6.4 s at 20 MiB/s: still moving at the signal after 2 s, however slow the preflight
	standin_start --size 128M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	"$NS_REAL_BIN/numa-migrate" --json --reserve 64M --rate 20M --to "$LAST" "$STANDIN_PID" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	sleep 2
	kill -TERM "$mig"
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
	jq -e '.reason == "signal" and .result.stop == "signal" and .result.rollback.done and .result.rollback.complete
		and (.result.rollback.stopped | not) and .result.moved_total > 0
		and .result.rollback.bytes == .result.moved_total' "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_account "$BATS_TEST_TMPDIR/out"
	grep -q "stopped: interrupted; moved pages were put back" "$BATS_TEST_TMPDIR/err"
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	awk -v a="$after" -v b="$before" 'BEGIN {exit !(a - b < 1)}' ||
		fail "numastat: $after MiB on node $LAST after the rollback, $before before"
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
	assert_no_oom
}

@test "lab: a second SIGTERM stops the rollback where it is: exit 5, and the account matches numastat" {
	STANDIN_WRAP=(numactl --membind=0)
	# 9.6 s at 10 MiB/s: still moving at the signal after 3 s
	standin_start --size 96M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	"$NS_REAL_BIN/numa-migrate" --json --reserve 64M --rate 10M --to "$LAST" "$STANDIN_PID" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	# ~30 MiB moved; the rollback, paced at the same rate, needs ~3 s: stop it early
	sleep 3
	kill -TERM "$mig"
	sleep 0.5
	kill -TERM "$mig"
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 5 ] || fail "exit $rc, want 5: $(cat "$BATS_TEST_TMPDIR/err")"
	jq -e '.reason == "signal" and .result.stop == "signal" and .result.rollback.done and .result.rollback.stopped
		and (.result.rollback.complete | not) and .result.rollback.bytes > 0
		and .result.rollback.not_back.stopped > 0' "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_account "$BATS_TEST_TMPDIR/out"
	grep -q "stopped: interrupted; the rollback was stopped: .* not back (see the result); run the same command again" "$BATS_TEST_TMPDIR/err"
	# what the result says is still on the target is what numastat sees there
	left=$(jq '.result.rollback.failed_bytes / 1048576' "$BATS_TEST_TMPDIR/out")
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	echo "# moved $(jq '.result.moved_total / 1048576' "$BATS_TEST_TMPDIR/out") MiB, $left MiB left on node $LAST; numastat: $after MiB there ($before before)" >&3
	awk -v a="$after" -v b="$before" -v l="$left" 'BEGIN {d = a - b - l; exit !(d < 1 && d > -1)}' ||
		fail "numastat: $after MiB on node $LAST ($before before), the result says $left MiB"
	standin_verify
	assert_no_oom
}

# The audit trail in a file: busybox syslogd on /dev/log (teardown stops it).
start_syslog() {
	[ ! -e /dev/log ] || fail "/dev/log exists already"
	busybox syslogd -n -O "$BATS_TEST_TMPDIR/syslog" &
	SYSLOGD=$!
	for _ in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
	[ -S /dev/log ] || fail "syslogd did not make /dev/log"
}

# A move interrupted by a stop request and rolled back left its records: the audit's rollback
# end and move end (outcome rolled_back, code 4, something moved), and the last run (code 4,
# reason signal). numastat shows the stand-in back where it was (BEFORE: MiB on the last node).
assert_rolled_back_records() { # BEFORE
	local log after
	sleep 0.5
	log=$(cat "$BATS_TEST_TMPDIR/syslog")
	grep -qE "numa-migrate\[[0-9]+\]: rollback end .*pid=$STANDIN_PID outcome=done rollback_bytes=[1-9][0-9]* rollback_failed_bytes=0" <<<"$log" ||
		fail "no rollback end record: $log"
	grep -qE "numa-migrate\[[0-9]+\]: move end .*pid=$STANDIN_PID to=$LAST outcome=rolled_back code=4 moved=[1-9]" <<<"$log" ||
		fail "no move end record: $log"
	jq -e '.command == "numa-migrate" and .code == 4 and .reason == "signal"' /var/lib/numasafe/numa-migrate.json ||
		fail "last run: $(cat /var/lib/numasafe/numa-migrate.json)"
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	awk -v a="$after" -v b="$1" 'BEGIN {exit !(a - b < 1)}' ||
		fail "numastat: $after MiB on node $LAST after the rollback, $1 before"
	assert_anon_on "$STANDIN_PID" 0 99
}

@test "lab: SIGHUP mid-move acts as SIGTERM: rolled back (numastat), exit 4, the error document, audit and last-run records" {
	start_syslog
	rm -f /var/lib/numasafe/numa-migrate.json
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	# SIGHUP at its default, as in a terminal's session (an ignored one, nohup's, stays so)
	env --default-signal=HUP "$NS_REAL_BIN/numa-migrate" --json --reserve 32M --rate 8M --to "$LAST" "$STANDIN_PID" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	wait_moved "$before"
	kill -HUP "$mig"
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
	jq -e '.kind == "numasafe-error" and .reason == "signal" and .result.stop == "signal" and .result.rollback.complete
		and .result.moved_total > 0' "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_account "$BATS_TEST_TMPDIR/out"
	assert_rolled_back_records "$before"
	standin_verify
	assert_no_oom
}

@test "lab: numa-migrate ... | head -1 mid-move: the closed pipe is one stop request: rolled back, exit 4, audit and last-run records" {
	start_syslog
	rm -f /var/lib/numasafe/numa-migrate.json
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	# stdout and the progress lines into the pipe; head leaves after the first line, with the
	# move under way. Before, the next write was a SIGPIPE death with the VM split.
	set +e
	"$NS_REAL_BIN/numa-migrate" --progress json --reserve 32M --rate 8M --to "$LAST" "$STANDIN_PID" 2>&1 |
		head -1 >"$BATS_TEST_TMPDIR/first"
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4 (141: killed by SIGPIPE)"
	jq -e '.kind == "numasafe-progress" and .phase == "moving"' "$BATS_TEST_TMPDIR/first" ||
		fail "first line: $(cat "$BATS_TEST_TMPDIR/first")"
	assert_rolled_back_records "$before"
	standin_verify
	assert_no_oom
}

@test "lab: vm-pin --cpus 0 while numa-migrate --to LAST runs on the same VM: busy, exit 4, names numa-migrate" {
	STANDIN_WRAP=(numactl --membind=0 --cpunodebind=0)
	standin_start --size 64M --vcpus 1
	# slow (32 s for all of it): the two vm-pin runs below come while it moves
	"$NS_REAL_BIN/numa-migrate" -q --reserve 32M --rate 2M --to "$LAST" "$STANDIN_PID" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	lock=$(vm_lock_file "$STANDIN_PID")
	for _ in $(seq 1 100); do holds_flock "$mig" "$lock" && break; sleep 0.1; done
	holds_flock "$mig" "$lock" || fail "numa-migrate holds no lock $lock"
	before=$(grep Cpus_allowed_list /proc/"$STANDIN_PID"/task/*/status | sort)
	run --separate-stderr "$NS_BIN/vm-pin" "$STANDIN_PID" --cpus 0
	st=$status err=$stderr
	run --separate-stderr "$NS_BIN/vm-pin" --json "$STANDIN_PID" --to "$LAST" --mem --reserve 32M
	st2=$status doc=$output
	after=$(grep Cpus_allowed_list /proc/"$STANDIN_PID"/task/*/status | sort)
	holds_flock "$mig" "$lock" || fail "the move ended before the vm-pin runs were done: $(cat "$BATS_TEST_TMPDIR/err")"
	kill -INT "$mig"
	wait "$mig" || true
	[ "$st" -eq 4 ] || fail "vm-pin exit $st, want 4 ($err)"
	# (after the lab's warning that NUMA balancing is on)
	assert_equal "${err##*$'\n'}" "vm-pin: pid $STANDIN_PID: numa-migrate (pid $mig) is changing it; try again when it is done"
	[ "$st2" -eq 4 ] || fail "vm-pin --mem exit $st2, want 4"
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "busy"' <<<"$doc"
	assert_equal "$after" "$before"
	standin_verify
}

# bats test_tags=any-kernel
@test "lab: an unsafe /run/numasafe is refused: symlink, writable by others, not root's; nothing written" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 16M
	rm -rf /run/numasafe
	mkdir -m 0777 "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" /run/numasafe
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 16M --to "$LAST" "$STANDIN_PID"
	rm /run/numasafe
	assert_failure 1
	assert_equal "$stderr" "numa-migrate: lock for pid $STANDIN_PID: /run/numasafe: is a symbolic link; refusing to keep lock files there"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ""
	mkdir -m 0777 /run/numasafe
	chmod 0777 /run/numasafe
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 16M --to "$LAST" "$STANDIN_PID"
	assert_failure 1
	assert_equal "$stderr" "numa-migrate: lock for pid $STANDIN_PID: /run/numasafe: writable by others (mode 0777); refusing to keep lock files there"
	chmod 0755 /run/numasafe
	chown 65534 /run/numasafe
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 16M --to "$LAST" "$STANDIN_PID"
	assert_failure 1
	assert_equal "$stderr" "numa-migrate: lock for pid $STANDIN_PID: /run/numasafe: owned by uid 65534, not root; refusing to keep lock files there"
	assert_equal "$(ls -A /run/numasafe)" ""
	assert_anon_on "$STANDIN_PID" 0 99
	# put right, and made when missing: root's, 0755
	rm -rf /run/numasafe
	run "$NS_BIN/numa-migrate" -q --reserve 16M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_equal "$(stat -c '%U %a' /run/numasafe)" "root 755"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
}

@test "lab: THPs split after they arrived all come back in a rollback, and are counted" {
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	[ -w "$thp" ] || ns_skip "needs THP"
	echo madvise >"$thp"
	[ -w /sys/kernel/debug/split_huge_pages ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
	[ -w /sys/kernel/debug/split_huge_pages ] || ns_skip "needs debugfs split_huge_pages"
	STANDIN_WRAP=(numactl --membind=0)
	# 200 MiB at 16 MiB/s: THPs moved and split for seconds before the neighbour, and more than
	# the 50 MiB it leaves still to move when it is up
	standin_start --size 200M --thp
	range=
	while read -r r _; do
		if (((16#${r#*-}) - (16#${r%-*}) >= 200 * 1048576)); then
			range=0x${r%-*},0x${r#*-}
			break
		fi
	done <"/proc/$STANDIN_PID/maps"
	[ -n "$range" ] || fail "no 200 MiB mapping in the stand-in"
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	"$NS_REAL_BIN/numa-migrate" --json --reserve 64M --rate 16M --to "$LAST" "$STANDIN_PID" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	# meanwhile every THP of the stand-in is split, those already moved among them: moving a
	# split THP's head back moves one base page of 512
	(for _ in $(seq 1 40); do
		sleep 0.25
		echo "$STANDIN_PID,$range" >/sys/kernel/debug/split_huge_pages 2>/dev/null || true
	done) &
	splitter=$!
	# and a neighbour takes the target's room: the move stops and rolls back
	sleep 1.5
	hog_fill "$LAST"
	rc=0
	wait "$mig" || rc=$?
	kill "$splitter" 2>/dev/null || true
	wait "$splitter" 2>/dev/null || true
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	echo "# moved $(jq '.result.moved_total / 1048576' "$BATS_TEST_TMPDIR/out") MiB ($(jq .result.thp_moved "$BATS_TEST_TMPDIR/out") THP, $(jq .result.thp_still_huge "$BATS_TEST_TMPDIR/out") still huge); numastat on node $LAST: $before MiB before, $after after the rollback" >&3
	awk -v a="$after" -v b="$before" 'BEGIN {exit !(a - b < 1)}' ||
		fail "numastat: $after MiB on node $LAST after the rollback, $before before"
	jq -e '.result.rollback.done and .result.rollback.complete and .result.moved_total > 0
		and .result.thp_moved > 0' "$BATS_TEST_TMPDIR/out" || fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_account "$BATS_TEST_TMPDIR/out"
	standin_verify
	assert_no_oom
}

@test "lab: the process exiting mid-run: clear message, exit 1" {
	STANDIN_WRAP=(numactl --membind=0)
	# 8 s at 8 MiB/s: the stand-in is gone long before the move could end
	standin_start --size 64M
	"$NS_BIN/numa-migrate" --progress=json --reserve 64M --rate 8M --to "$LAST" "$STANDIN_PID" >/dev/null \
		2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	# the move has begun once a progress line says so (under load the preflight alone can take
	# seconds; a process gone before it is another case: "No such process")
	for _ in $(seq 1 300); do
		grep -q '"phase":"moving"' "$BATS_TEST_TMPDIR/err" && break
		kill -0 "$mig" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '"phase":"moving"' "$BATS_TEST_TMPDIR/err" || fail "the move never began: $(cat "$BATS_TEST_TMPDIR/err")"
	standin_stop
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 1 ] || fail "exit $rc, want 1: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q "the process exited during the move" "$BATS_TEST_TMPDIR/err" || fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

# bats test_tags=any-kernel
@test "lab: two concurrent runs on one process: the second names the first: busy, exit 4" {
	STANDIN_WRAP=(numactl --membind=0)
	# 10.7 s at 6 MiB/s: the first run is still moving when the second looks, on a busy machine too
	standin_start --size 64M
	"$NS_BIN/numa-migrate" -q --reserve 64M --rate 6M --to "$LAST" "$STANDIN_PID" &
	first=$!
	sleep 1
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	assert_equal "$stderr" "numa-migrate: standin (pid $STANDIN_PID): numa-migrate (pid $first) is changing it; try again when it is done"
	kill -INT "$first"
	wait "$first" || true
	standin_verify
}

@test "lab: memory pressure starts mid-move: held at the next chunk, then stopped; rollback, exit 4, data intact" {
	require_swap_disk
	PSI_TEST=1
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	# the VM in a cgroup of its own: its memory.pressure is watched too
	mkdir -p /sys/fs/cgroup/nsmig-vm /sys/fs/cgroup/nsmig-hog
	STANDIN_WRAP=(sh -c 'echo $$ >/sys/fs/cgroup/nsmig-vm/cgroup.procs && exec numactl --membind=0 "$@"' sh)
	# 200 MiB at 8 MiB/s (25 s): the PSI averages lag by seconds, the move must outlast them
	standin_start --size 200M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	# --psi-grace 0: pressure, once seen, ends the move; at 8 MiB/s it would take 25 s
	"$NS_REAL_BIN/numa-migrate" --json --reserve 64M --rate 8M --psi-grace 0 --to "$LAST" "$STANDIN_PID" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	wait_moved "$before"
	at_hog=$(numastat_mib "$STANDIN_PID" "$LAST")
	# a neighbour on the target writing 160 MiB through a 16 MiB memory.max: from its first
	# seconds it stalls in reclaim, pushing its own pages to swap. The host's memory "some"
	# pressure rises at once; the 10 s average that sampling reads lags by seconds.
	start_hog 160M
	rc=0
	wait "$mig" || rc=$?
	out=$BATS_TEST_TMPDIR/out
	moved=$(jq '.result.moved_total / 1048576' "$out")
	echo "# $(awk -v a="$at_hog" -v b="$before" 'BEGIN {print a - b}') MiB on node $LAST when the neighbour started, $moved MiB moved in all; pressure: $(jq -c .result.pressure "$out"), last call $(jq .result.last_call_end_s "$out") s" >&3
	[ "$rc" -eq 4 ] || fail "exit $rc, want 4: $(cat "$BATS_TEST_TMPDIR/err") $(cat "$out")"
	# seen by the trigger (armed on the host and the VM's cgroup), and no chunk went after it
	jq -e '.reason == "pressure" and (.result | .stop == "pressure" and .outcome == "rolled_back"
		and .pressure.triggers == 2 and .pressure.cgroup_trigger and .pressure.events >= 1
		and .pressure.first_s != null and .pressure.calls_after == 0
		and .pressure.stall_files == 2 and .pressure.holds >= 1 and .pressure.first_hold_s <= .pressure.first_s
		and .last_call_end_s > 0 and .last_call_end_s <= .duration_s
		and .rollback.complete and .rollback.bytes == .moved_total)' "$out" || fail "result: $(cat "$out")"
	assert_account "$out"
	# what moved after the neighbour started: well short of the whole (it was 7.5-14 MiB in the
	# lab; the bound leaves room for a slow, busy machine, where the neighbour stalls later)
	awk -v m="$moved" -v a="$at_hog" -v b="$before" 'BEGIN {exit !(m - (a - b) <= 100)}' ||
		fail "$moved MiB moved, $(awk -v a="$at_hog" -v b="$before" 'BEGIN {print a - b}') of it before the neighbour started"
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	awk -v a="$after" -v b="$before" 'BEGIN {exit !(a - b < 1)}' ||
		fail "numastat: $after MiB on node $LAST after the rollback, $before before"
	standin_verify
	assert_no_oom
}

@test "lab: a brief stall mid-move holds it, then it goes on: exit 0, held and resumed, all moved, data intact" {
	require_swap_disk
	PSI_TEST=1
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	mkdir -p /sys/fs/cgroup/nsmig-hog
	STANDIN_WRAP=(numactl --membind=0)
	# 96 MiB at 16 MiB/s: the stall (seconds) must fall inside the move, and the move go on after it
	standin_start --size 96M
	before=$(numastat_mib "$STANDIN_PID" "$LAST")
	# at 16 MiB/s the move takes 6 s; the default grace (10 s) outlasts the stall
	"$NS_REAL_BIN/numa-migrate" --json --reserve 64M --rate 16M --to "$LAST" "$STANDIN_PID" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	wait_moved "$before"
	# a neighbour on the target writes 24 MiB through a 16 MiB memory.max, then sits still:
	# a stall while it pushes 8 MiB to swap, then none
	start_hog 24M
	rc=0
	wait "$mig" || rc=$?
	out=$BATS_TEST_TMPDIR/out
	echo "# pressure: $(jq -c .pressure "$out")" >&3
	[ "$rc" -eq 0 ] || fail "exit $rc, want 0: $(cat "$BATS_TEST_TMPDIR/err") $(cat "$out")"
	# held on the stall, then calls went out after it: the hold ended calm
	jq -e '.stop == "done" and .pressure.stall_files >= 1 and .pressure.holds >= 1 and .pressure.held_s > 0
		and .pressure.first_hold_s != null and .last_call_end_s > .pressure.first_hold_s' "$out" ||
		fail "result: $(cat "$out")"
	after=$(numastat_mib "$STANDIN_PID" "$LAST")
	awk -v a="$after" 'BEGIN {exit !(a >= 95)}' || fail "numastat: $after MiB on node $LAST, want all 96"
	standin_verify
	assert_no_oom
}

# Only more than two nodes show these: pages moved from one node of several, the others' left
# alone, spread over two targets by their room (each chunk goes to the target with the most).
# bats test_tags=nodes4-only
@test "lab: --from 1 --to 2,3 on four nodes: node 1's pages go to both targets, node 0's stay" {
	require_nodes 4
	STANDIN_WRAP=(numactl --interleave=all)
	standin_start --size 64M
	n0=$(anon_mib_on "$STANDIN_PID" 0)
	n1=$(anon_mib_on "$STANDIN_PID" 1)
	n2=$(anon_mib_on "$STANDIN_PID" 2)
	n3=$(anon_mib_on "$STANDIN_PID" 3)
	[ "$n1" -ge 12 ] || fail "only $n1 MiB on node 1 to begin with"
	run --separate-stderr "$NS_BIN/numa-migrate" --json --from 1 --to 2,3 --reserve 32M "$STANDIN_PID"
	assert_success
	jq -e '.outcome == "done" and .check.to == [2, 3]' <<<"$output" || fail "$output"
	echo "# MiB on nodes 0-3 before: $n0 $n1 $n2 $n3; after: $(for n in 0 1 2 3; do printf '%s ' "$(anon_mib_on "$STANDIN_PID" "$n")"; done)" >&3
	[ "$(anon_mib_on "$STANDIN_PID" 1)" -le 1 ] || fail "$(anon_mib_on "$STANDIN_PID" 1) MiB left on node 1"
	a0=$(anon_mib_on "$STANDIN_PID" 0)
	[ $((a0 - n0)) -le 1 ] && [ $((n0 - a0)) -le 1 ] || fail "node 0 went from $n0 to $a0 MiB"
	a2=$(anon_mib_on "$STANDIN_PID" 2)
	a3=$(anon_mib_on "$STANDIN_PID" 3)
	[ $((a2 + a3 - n2 - n3)) -ge $((n1 - 1)) ] || fail "nodes 2 and 3 gained $((a2 + a3 - n2 - n3)) MiB, node 1 had $n1"
	# both targets took some of it
	[ $((a2 - n2)) -ge 2 ] && [ $((a3 - n3)) -ge 2 ] || fail "node 2: $n2 -> $a2, node 3: $n3 -> $a3 MiB"
	standin_verify
	assert_no_oom
}
