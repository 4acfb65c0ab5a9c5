#!/usr/bin/env bats
# numa-plan against a real multi-node kernel (run inside the lab guest): the VMs show lists
# (stand-ins with vCPU-named threads) against numactl's placement, steal against schedstat
# read directly, and check against numa-migrate's own verdict and the real move.

load ../helpers

setup() {
	require_root
	require_nodes "${LAB_NODES:-2}"
	oom_mark
	LAST=$((LAB_NODES - 1))
	HOG=
	STANDIN_PIDS=
}

teardown() {
	[ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null
	standin_stop
}


# Run-queue wait of a thread over SECONDS as % of the time, from schedstat read here.
wait_pct() { # PID TID SECONDS
	local a b
	a=$(awk '{print $2}' "/proc/$1/task/$2/schedstat")
	sleep "$3"
	b=$(awk '{print $2}' "/proc/$1/task/$2/schedstat")
	echo $(((b - a) / ($3 * 10000000)))
}

vcpu_tids() { grep -l '^CPU [0-9]*/KVM$' /proc/"$1"/task/*/comm | cut -d/ -f5; }

# bats test_tags=nodes4
@test "lab: show: a stand-in VM bound to the last node shows its vCPUs, nodes and locality there" {
	STANDIN_WRAP=(numactl --membind="$LAST" --cpunodebind="$LAST")
	standin_start --size 32M --vcpus 2
	run "$NS_BIN/numa-plan" show --json
	assert_success
	vm=$(jq -c ".vms[] | select(.pid == $STANDIN_PID)" <<<"$output")
	[ -n "$vm" ] || fail "stand-in not listed: $(jq -c .vms <<<"$output")"
	jq -e ".named and .vcpus == 2 and .cpu_nodes == [$LAST] and .home_node == $LAST and .locality_ratio > 0.9" <<<"$vm"
	# numastat agrees on where the memory is
	on_last=$(numastat -p "$STANDIN_PID" | awk -v col=$((LAST + 2)) '/^Total/ {print int($col)}')
	[ "$on_last" -ge 32 ] || fail "numastat: $on_last MiB on node $LAST"
	standin_verify
}

# bats test_tags=nodes4
@test "lab: show: a VM whose vCPUs may run on every node spans them" {
	standin_start --size 16M --vcpus 2
	taskset -a -p -c "0-$LAST" "$STANDIN_PID" >/dev/null
	run "$NS_BIN/numa-plan" show --json
	assert_success
	all=$(seq 0 "$LAST" | paste -sd, -)
	jq -e ".vms[] | select(.pid == $STANDIN_PID) | .cpu_nodes == [$all]" <<<"$output"
	run "$NS_BIN/numa-plan" steal -i 0.5 --json "$STANDIN_PID"
	assert_success
	jq -e ".vms[0].spans_nodes and ([.causes[] | select(.cause == \"spans_nodes\") | .vm.pid] == [$STANDIN_PID])" <<<"$output"
}

@test "lab: steal: two busy vCPUs forced onto one CPU wait, idle ones do not; idle steal" {
	STANDIN_WRAP=(taskset -c 0)
	standin_start --size 8M --vcpus 2 --busy
	busy=$STANDIN_PID
	STANDIN_PIDS=$busy
	STANDIN_WRAP=()
	standin_start --size 8M --vcpus 2
	idle=$STANDIN_PID
	# independent: the kernel's own counters, read here
	for tid in $(vcpu_tids "$busy"); do
		w=$(wait_pct "$busy" "$tid" 1)
		[ "$w" -gt 20 ] || fail "schedstat: busy vCPU $tid waited only $w%"
	done
	run --separate-stderr "$NS_BIN/numa-plan" steal --interval 2 --json
	assert_success
	jq -e ".vms[] | select(.pid == $busy) | (.vcpu_threads | length == 2) and all(.vcpu_threads[]; .wait_pct > 20 and .cpu_pct > 20)" <<<"$output" ||
		fail "busy: $(jq -c ".vms[] | select(.pid == $busy) | .vcpu_threads" <<<"$output")"
	jq -e ".vms[] | select(.pid == $idle) | (.vcpu_threads | length == 2) and all(.vcpu_threads[]; .wait_pct < 5 and .cpu_pct < 5)" <<<"$output" ||
		fail "idle: $(jq -c ".vms[] | select(.pid == $idle) | .vcpu_threads" <<<"$output")"
	# the other CPUs stay idle: waits with CPU to spare are idle steal
	jq -e '.classification == "idle" and .host.spare_cpus >= 0.5' <<<"$output" || fail "host: $(jq -c '{classification, host}' <<<"$output")"
	run "$NS_BIN/numa-plan" steal --interval 1 "$busy"
	assert_success
	assert_line --regexp '^steal: idle steal'
	assert_line --regexp "^pid $busy +$busy +0 +[0-9]+ +[0-9.]+ +([2-9][0-9]|100)\.[0-9] "
}

@test "lab: steal: more busy vCPUs than CPUs is busy steal" {
	ncpus=$(nproc --all)
	standin_start --size 8M --vcpus $((2 * ncpus)) --busy
	run --separate-stderr "$NS_BIN/numa-plan" steal --interval 2 --json "$STANDIN_PID"
	assert_success
	jq -e ".classification == \"busy\" and .host.vcpu_demand > $ncpus" <<<"$output" || fail "$(jq -c '{classification, host}' <<<"$output")"
}

@test "lab: check agrees with numa-migrate on a safe move, and the move then succeeds" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 32M
	run --separate-stderr "$NS_BIN/numa-plan" check --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	jq -e '.kind == "numasafe-check" and .verdict == "safe" and .move.anon + .move.thp >= 33554432 and .headroom_after == .headroom_before - .move_total' <<<"$output" || fail "$output"
	run "$NS_BIN/numa-plan" check --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_line --regexp '^  verdict: +safe: '
	run --separate-stderr "$NS_BIN/numa-migrate" --dry-run --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	jq -e '.kind == "numasafe-check" and .verdict == "safe"' <<<"$output"
	run "$NS_BIN/numa-migrate" -q --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
	assert_no_oom
}

@test "lab: check agrees with numa-migrate on an unsafe move: exit 4, and the move is refused" {
	STANDIN_WRAP=(numactl --membind=0)
	# twice what the neighbour leaves
	standin_start --size 96M
	room=$(($(node_headroom "$LAST" 64M) / 1048576))
	hog_start "$LAST" $((room - 48))
	run --separate-stderr "$NS_BIN/numa-plan" check --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "headroom" and (.result | .kind == "numasafe-check" and .verdict == "unsafe" and .shortfall > 0 and .headroom_after < 0)' <<<"$output"
	[[ "$stderr" == "numa-plan: "*" (pid $STANDIN_PID): refused: "*" to move, node $LAST has "*" of headroom: short by "* ]] || fail "stderr: $stderr"
	run --separate-stderr "$NS_BIN/numa-plan" check --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	assert_line --regexp '^  verdict: +unsafe: short by '
	assert_line --regexp '^  headroom: +[0-9.]+[KMG]? before, -[0-9.]+[KMG] after the move$'
	run --separate-stderr "$NS_BIN/numa-migrate" --dry-run --json --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	jq -e '.kind == "numasafe-error" and .reason == "headroom" and .result.verdict == "unsafe"' <<<"$output"
	run --separate-stderr "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_failure 4
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
	assert_no_oom
}
