#!/usr/bin/env bats
# numa-plan rebalance and its execution, in the multi-node lab: stand-in VMs whose memory is
# interleaved over every node are planned onto single nodes; the plan is executed by
# numa-migrate --plan (and vm-pin --plan); afterwards each stand-in's anonymous memory is
# >= 99% on one node (numa_maps read by awk, and numastat's total agrees), its threads are
# pinned to that node's CPUs, its data is intact, and the kernel killed nobody.

load ../helpers

setup() {
	require_root
	require_nodes 2
	oom_mark
	NODES=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
}

teardown() {
	standin_stop
}

# Three interleaved stand-ins with 2 "vCPU" threads each; pids in STANDIN_PIDS.
three_spread() {
	local i pids=
	STANDIN_WRAP=(numactl --interleave=all)
	for i in 1 2 3; do
		standin_start --size 64M --seed "$i" --vcpus 2
		pids+=" $STANDIN_PID"
	done
	STANDIN_WRAP=()
	STANDIN_PIDS=$pids
	STANDIN_PID=
}

# The node holding most of PID's anonymous memory.
main_node() {
	local n best=-1 bestmib=-1 m
	for ((n = 0; n < NODES; n++)); do
		m=$(anon_mib_on "$1" "$n")
		if [ "$m" -gt "$bestmib" ]; then
			best=$n
			bestmib=$m
		fi
	done
	echo "$best"
}

thread_cpus() { # unique Cpus_allowed_list over the process's threads
	local t
	for t in /proc/"$1"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort -u
}

assert_settled() { # every stand-in local to one node: memory, numastat total and threads
	local p n total on
	for p in $STANDIN_PIDS; do
		n=$(main_node "$p")
		assert_anon_on "$p" "$n" 99
		total=$(numastat -p "$p" | awk '/^Total/ {print $NF}')
		on=$(numastat -p "$p" | awk -v c=$((n + 2)) '/^Total/ {print $c}')
		awk -v on="$on" -v t="$total" 'BEGIN { exit !(on >= 0.95 * t) }' ||
			fail "pid $p: numastat has $on of $total MiB on node $n"
		assert_equal "$(thread_cpus "$p")" "$(cat /sys/devices/system/node/node"$n"/cpulist)"
		standin_verify "$p"
	done
}

@test "lab: rebalance three spread stand-ins, numa-migrate --plan executes it: each >= 99% local, pinned, intact" {
	three_spread
	for p in $STANDIN_PIDS; do
		[ "$(anon_mib_on "$p" 0)" -ge 8 ] && [ "$(anon_mib_on "$p" 1)" -ge 8 ] || fail "pid $p is not spread"
	done
	run "$NS_BIN/numa-plan" rebalance --cpu-overcommit 4 --reserve 32M -o "$BATS_TEST_TMPDIR/plan.json"
	assert_success
	assert_line --partial "plan written to $BATS_TEST_TMPDIR/plan.json"
	plan=$(cat "$BATS_TEST_TMPDIR/plan.json")
	# the documented shape
	jq -e '.version == 1 and .kind == "numasafe-rebalance" and (.exact | type == "boolean")
		and (.bytes_moved | type == "number") and .unordered == 0
		and (.nodes | all(has("node") and has("headroom") and has("cpus") and has("vcpus_after") and has("bytes_after")))
		and (.vms | all(has("name") and has("domain") and has("pid") and has("start_time") and has("vcpus")
			and has("node_now") and has("node") and has("bytes_to_move")))
		and (.steps | length >= 3)
		and (.steps | all(has("step") and has("vm") and has("pid") and has("to") and has("bytes") and has("temporary")))' <<<"$plan"
	for p in $STANDIN_PIDS; do
		jq -e --argjson p "$p" '[.steps[] | select(.pid == $p and (.temporary | not))] | length == 1' <<<"$plan" ||
			fail "no step for pid $p"
	done
	run "$NS_BIN/numa-migrate" --plan "$BATS_TEST_TMPDIR/plan.json" --reserve 32M
	assert_success
	assert_line --regexp '^step 1: '
	assert_settled
	# each VM landed where the plan said
	for p in $STANDIN_PIDS; do
		want=$(jq --argjson p "$p" '.vms[] | select(.pid == $p) | .node' <<<"$plan")
		assert_equal "$(main_node "$p")" "$want"
	done
	# a second plan has nothing left to do
	run "$NS_BIN/numa-plan" rebalance --cpu-overcommit 4 --reserve 32M
	assert_success
	assert_line "every VM is already on one node: nothing to do"
	assert_no_oom
}

@test "lab: vm-pin --plan executes the same kind of plan; a refused step stops it with exit 4, naming the step" {
	three_spread
	run "$NS_BIN/numa-plan" rebalance --cpu-overcommit 4 --reserve 32M -o "$BATS_TEST_TMPDIR/plan.json"
	assert_success
	# with a reserve larger than any node, the first step that moves memory is refused
	run --separate-stderr "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/plan.json" --reserve 100%
	assert_failure 4
	[[ "$stderr" == *"stopped at step 1 ("* ]] || fail "$stderr"
	run "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/plan.json" --reserve 32M
	assert_success
	assert_settled
	assert_no_oom
}
