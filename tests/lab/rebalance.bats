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

# Three interleaved stand-ins with 2 "vCPU" threads each; pids in STANDIN_PIDS. Their size
# is what the 99% locality needs: with 32 MiB, a MiB the plan's moves left behind (the
# threads' own pages) was 3% (32 of 33 MiB on the node, at load 10).
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

# bats test_tags=nodes4
@test "lab: rebalance three spread stand-ins, numa-migrate --plan executes it: each >= 99% local, pinned, intact" {
	three_spread
	for p in $STANDIN_PIDS; do
		[ "$(anon_mib_on "$p" 0)" -ge $((32 / NODES)) ] && [ "$(anon_mib_on "$p" 1)" -ge $((32 / NODES)) ] ||
			fail "pid $p is not spread"
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

# vCPU run-queue wait (ns) of PID's "CPU n/KVM" threads over SECONDS, straight from schedstat.
vcpu_wait_ns() { # PID SECONDS
	local t a=0 b=0
	for t in /proc/"$1"/task/*; do
		[[ $(cat "$t/comm") == "CPU "* ]] && a=$((a + $(awk '{print $2}' "$t/schedstat")))
	done
	sleep "$2"
	for t in /proc/"$1"/task/*; do
		[[ $(cat "$t/comm") == "CPU "* ]] && b=$((b + $(awk '{print $2}' "$t/schedstat")))
	done
	echo $((b - a))
}

@test "lab: rebalance by measured demand: two busy VMs stacked on node 0 are separated, an idle one is not moved for nothing; their wait drops" {
	[ "$NODES" -eq 2 ] || skip "written for two nodes of one CPU each"
	# two busy stand-ins and one idle, all on node 0's CPU and memory
	STANDIN_WRAP=(numactl --membind=0 --cpunodebind=0)
	standin_start --size 32M --seed 1 --vcpus 1 --busy
	busy1=$STANDIN_PID
	standin_start --size 32M --seed 2 --vcpus 1 --busy
	busy2=$STANDIN_PID
	standin_start --size 32M --seed 3 --vcpus 1
	idle=$STANDIN_PID
	STANDIN_WRAP=()
	STANDIN_PIDS="$busy1 $busy2 $idle"
	STANDIN_PID=
	w1=$(vcpu_wait_ns "$busy1" 2)
	w2=$(vcpu_wait_ns "$busy2" 2)
	# place: a new VM goes to node 1, where nothing is busy
	# (four vCPUs per CPU allowed: the vCPU cap is not what this test is about)
	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory 64M --sample 2 --reserve 32M --cpu-overcommit 4
	assert_success
	assert_line --index 0 1
	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory 64M --sample 2 --reserve 32M --cpu-overcommit 4 --json
	assert_success
	jq -e '.kind == "numasafe-place" and .node == 1 and (.nodes | length == 2)
		and (.nodes[0].demand > 1.5) and (.nodes[1].demand < 0.5) and all(.nodes[]; .fits)
		and .nodes[0].excess > .nodes[1].excess' <<<"$output" || fail "$output"
	# ... and nowhere when its memory fits on no node
	mem=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory "$((mem * 9 / 10))M" --sample 0 --json
	assert_failure 4
	jq -e '.kind == "numasafe-error" and .reason == "no-fit" and .result.node == null
		and all(.result.nodes[]; .fits == false and (.reason | length > 0))' <<<"$output" || fail "$output"
	# the plan: the busy VMs apart, the idle one left alone
	run --separate-stderr "$NS_BIN/numa-plan" rebalance --sample 2 --reserve 32M --cpu-overcommit 4 -o "$BATS_TEST_TMPDIR/plan.json"
	assert_success
	echo "$output" | sed 's/^/# /' >&3
	plan=$(cat "$BATS_TEST_TMPDIR/plan.json")
	n1=$(jq --argjson p "$busy1" '.vms[] | select(.pid == $p) | .node' <<<"$plan")
	n2=$(jq --argjson p "$busy2" '.vms[] | select(.pid == $p) | .node' <<<"$plan")
	ni=$(jq --argjson p "$idle" '.vms[] | select(.pid == $p) | .node' <<<"$plan")
	[ "$n1" != "$n2" ] || fail "both busy VMs planned on node $n1"
	[ "$ni" = 0 ] || fail "the idle VM was planned off node 0 (to $ni) for nothing"
	jq -e '.excess_before > 0.5 and .excess_after < .excess_before and (.nodes | all(has("demand_before") and has("demand_after") and has("capacity")))
		and (.vms | all(.demand != null))' <<<"$plan" || fail "plan: $(jq -c '{excess_before, excess_after, nodes}' <<<"$plan")"
	run --separate-stderr "$NS_BIN/numa-migrate" --plan "$BATS_TEST_TMPDIR/plan.json" --reserve 32M
	assert_success
	assert_settled
	# each busy VM now has a CPU of its own: its vCPU waits much less
	a1=$(vcpu_wait_ns "$busy1" 2)
	a2=$(vcpu_wait_ns "$busy2" 2)
	echo "# busy vCPU wait over 2 s: before $((w1 / 1000000)) and $((w2 / 1000000)) ms, after $((a1 / 1000000)) and $((a2 / 1000000)) ms" >&3
	[ "$a1" -lt $((w1 / 2)) ] && [ "$a2" -lt $((w2 / 2)) ] || fail "the wait did not drop: $w1 $w2 -> $a1 $a2 ns"
	assert_no_oom
}

@test "lab: a look-alike owned by nobody beside a root VM: the policy script plans the root VM as without it, and never touches the look-alike" {
	[ "$NODES" -eq 2 ] || skip "written for two nodes of one CPU each"
	local script=$NS_TOP/build/tests/numasafe-rebalance conf=$BATS_TEST_TMPDIR/policy la_dir ready i
	local plan=/var/lib/numasafe/rebalance-plan.json with without la before_aff
	[ -x "$script" ] || fail "$script is missing: run 'make all' first"
	command -v setpriv >/dev/null || fail "needs setpriv"
	rm -rf /var/lib/numasafe
	printf '%s\n' REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G REBALANCE_RESERVE=32M REBALANCE_CPU_OVERCOMMIT=1 >"$conf"
	# the root VM: busy, local to node 0
	STANDIN_WRAP=(numactl --membind=0 --cpunodebind=0)
	standin_start --size 32M --seed 1 --vcpus 1 --busy
	STANDIN_WRAP=()
	root_vm=$STANDIN_PID
	# the look-alike: the stand-in's own (root-owned) binary, run by nobody, as busy and on
	# the same node, with the same name
	la_dir=$(mktemp -d /tmp/ns-lookalike.XXXXXX)
	chmod 1777 "$la_dir"
	install -m 0755 "$NS_HELPERS/standin" "$la_dir/qemu-system-x86_64"
	ready=$la_dir/ready
	numactl --membind=0 --cpunodebind=0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$la_dir/qemu-system-x86_64" --size 32M --seed 2 --vcpus 2 --busy --ready "$ready" 3>&- &
	for i in $(seq 1 300); do [ -s "$ready" ] && break; sleep 0.1; done
	[ -s "$ready" ] || fail "look-alike did not start"
	la=$(cat "$ready")
	STANDIN_PIDS="$root_vm $la"
	STANDIN_PID=
	before_aff=$(thread_cpus "$la")

	run --separate-stderr "$script" --config "$conf"
	echo "# with the look-alike: exit $status: $output $stderr" | sed 's/^/# /' >&3
	[ "$status" -eq 0 ] || fail "exit $status: $output $stderr"
	with=$(jq -c --argjson p "$root_vm" '[.vms[] | select(.pid == $p) | {node_now, node}], [.steps[] | select(.pid == $p)]' "$plan")
	jq -e --argjson p "$la" '[.vms[], .steps[] | select(.pid == $p)] | length == 0' "$plan" ||
		fail "the look-alike is in the plan: $(cat "$plan")"
	# nothing of either moved: the root VM stays on node 0, the look-alike unpinned
	assert_anon_on "$root_vm" 0 99
	assert_equal "$(thread_cpus "$la")" "$before_aff"
	assert_anon_on "$la" 0 99

	kill "$la"
	wait "$la" 2>/dev/null || true
	STANDIN_PIDS=$root_vm
	run --separate-stderr "$script" --config "$conf"
	[ "$status" -eq 0 ] || fail "exit $status: $output $stderr"
	without=$(jq -c --argjson p "$root_vm" '[.vms[] | select(.pid == $p) | {node_now, node}], [.steps[] | select(.pid == $p)]' "$plan")
	assert_equal "$with" "$without"
	assert_anon_on "$root_vm" 0 99
	rm -rf "$la_dir"
	assert_no_oom
}
