#!/usr/bin/env bats
# vm-pin across nodes, in the multi-node lab: a bare QEMU (software emulated, idle: no boot
# device) started on node 0 is pinned to the last node with --mem. Its threads' affinity is
# read from /proc, its memory placement from numastat; afterwards it must still be running.

load ../helpers

setup() {
	require_root
	require_nodes 2
	oom_mark
	LAST=$(ls -d /sys/devices/system/node/node[0-9]* | sed 's/.*node//' | sort -n | tail -n 1)
	QEMU_PID=
}

teardown() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null || true
}

qemu_on_node0() {
	local pidf=$BATS_TEST_TMPDIR/qemu.pid
	numactl --cpunodebind=0 --preferred=0 qemu-system-x86_64 -name labvm,debug-threads=on -machine pc \
		-accel tcg -m 32 -display none -nodefaults -smp 2 -daemonize -pidfile "$pidf" 3>&-
	QEMU_PID=$(cat "$pidf")
	sleep 1
}

mib_on() { # NODE: the QEMU's MiB on NODE per numastat
	numastat -p "$QEMU_PID" | awk -v c=$(($1 + 2)) '/^Total/ {print int($c)}'
}

thread_cpus() { # every thread's Cpus_allowed_list, one per line, unique
	local t
	for t in /proc/"$QEMU_PID"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort -u
}

@test "lab: vm-pin --node LAST --mem: every thread on the node's CPUs, the memory on the node" {
	qemu_on_node0
	node_cpus=$(cat /sys/devices/system/node/node"$LAST"/cpulist)
	before0=$(mib_on 0)
	[ "$before0" -ge 5 ] || fail "only $before0 MiB on node 0 before the move"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST" --mem --reserve 32M
	assert_success
	assert_line --partial "labvm (pid $QEMU_PID): vcpu 0: CPUs"
	# the lab kernel balances NUMA automatically, which fights pinning: said, not hidden
	if [ "$(cat /proc/sys/kernel/numa_balancing)" != 0 ]; then
		assert_line --partial "vm-pin: warning: automatic NUMA balancing is on (kernel.numa_balancing)"
	fi
	assert_line --regexp '^done: moved '
	assert_equal "$(thread_cpus)" "$node_cpus"
	[ "$(mib_on 0)" -le 1 ] || fail "$(mib_on 0) MiB still on node 0 (was $before0)"
	[ $(($(mib_on "$LAST") * 10)) -ge $((before0 * 9)) ] || fail "only $(mib_on "$LAST") MiB on node $LAST"
	kill -0 "$QEMU_PID"
	run "$NS_BIN/vm-pin" --show "$QEMU_PID" --json
	jq -e --argjson n "$LAST" '.vms[0].local and .vms[0].local_node == $n' <<<"$output"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST" --mem --reserve 32M
	assert_success
	assert_line --partial "labvm (pid $QEMU_PID): already pinned as asked ("
	was=$(cat /proc/sys/kernel/numa_balancing)
	echo 0 >/proc/sys/kernel/numa_balancing
	run --separate-stderr "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST"
	echo "$was" >/proc/sys/kernel/numa_balancing
	assert_success
	[ -z "$stderr" ] || fail "warned with balancing off: $stderr"
	assert_no_oom
}

@test "lab: vm-pin --mem refused for lack of headroom: exit 4, pinning and memory as they were" {
	qemu_on_node0
	before=$(thread_cpus)
	before0=$(mib_on 0)
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST" --mem --reserve 100%
	assert_failure 4
	assert_line --partial "refused:"
	assert_line "vm-pin: labvm (pid $QEMU_PID): the previous pinning was restored"
	assert_equal "$(thread_cpus)" "$before"
	[ "$(mib_on 0)" -ge "$before0" ] || fail "memory left node 0: $(mib_on 0) MiB of $before0"
	assert_no_oom
}
