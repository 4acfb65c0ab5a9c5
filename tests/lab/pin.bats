#!/usr/bin/env bats
# vm-pin across nodes, in the multi-node lab: a bare QEMU (software emulated, idle: no boot
# device) started on node 0 is pinned to the last node with --mem. Its threads' affinity is
# read from /proc, its memory placement from numastat; afterwards it must still be running.
#
# Automatic NUMA balancing is off unless a test turns it on: it marks a running process's
# pages for hinting faults, and the lab's kernel (6.1) answers move_pages with -ENOENT for
# such pages although they are present, so they stay where they are (a fifth to half of
# this busy TCG guest's memory, seen). vm-pin warns that balancing fights pinning and says
# to turn it off.

load ../helpers

setup() {
	require_root
	require_nodes 2
	oom_mark
	LAST=$(ls -d /sys/devices/system/node/node[0-9]* | sed 's/.*node//' | sort -n | tail -n 1)
	QEMU_PID=
	BALANCING=
	if [ -w /proc/sys/kernel/numa_balancing ]; then
		BALANCING=$(cat /proc/sys/kernel/numa_balancing)
		echo 0 >/proc/sys/kernel/numa_balancing
	fi
}

teardown() {
	[ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null || true
	[ -z "$BALANCING" ] || echo "$BALANCING" >/proc/sys/kernel/numa_balancing
}

# Its threads on node 0's CPUs and the default (local) memory policy put its memory there with
# nothing else tying it to node 0. A policy from numactl --preferred or --membind would
# outlive the move (no call changes another process's policy) and send every page the VM
# allocates afterwards back to node 0: with --preferred=0 that made --show say "not local"
# right after a move numastat had passed (0.3-0.45 MiB back on node 0, over 1% of its memory).
qemu_on_node0() {
	local pidf=$BATS_TEST_TMPDIR/qemu.pid
	numactl --cpunodebind=0 qemu-system-x86_64 -name labvm,debug-threads=on -machine pc \
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

@test "lab: vm-pin --node LAST --mem: every thread on the node's CPUs, the memory on the node, and it stays local" {
	qemu_on_node0
	node_cpus=$(cat /sys/devices/system/node/node"$LAST"/cpulist)
	before0=$(mib_on 0)
	[ "$before0" -ge 5 ] || fail "only $before0 MiB on node 0 before the move"
	run --separate-stderr "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST" --mem --reserve 32M
	assert_success
	[ -z "$stderr" ] || fail "warned with balancing off: $stderr"
	assert_line --partial "labvm (pid $QEMU_PID): vcpu 0: CPUs"
	assert_line --regexp '^done: moved '
	assert_equal "$(thread_cpus)" "$node_cpus"
	[ "$(mib_on 0)" -le 1 ] || fail "$(mib_on 0) MiB still on node 0 (was $before0)"
	[ $(($(mib_on "$LAST") * 10)) -ge $((before0 * 9)) ] || fail "only $(mib_on "$LAST") MiB on node $LAST"
	kill -0 "$QEMU_PID"
	# local as --show counts it (>= 99% of its anonymous, shmem and hugetlb memory), and still
	# local a while later: what the running VM allocates after the move lands on the node too
	for when in now later; do
		[ "$when" = now ] || sleep 3
		run "$NS_BIN/vm-pin" --show "$QEMU_PID" --json
		assert_success
		jq -e --argjson n "$LAST" '.vms[0].local and .vms[0].home_node == $n' <<<"$output" ||
			fail "not local to node $LAST $when: $(jq -c '.vms[0].memory' <<<"$output"); $(grep -c ' N0=' /proc/"$QEMU_PID"/numa_maps) VMAs with pages on node 0"
	done
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST" --mem --reserve 32M
	assert_success
	assert_line --partial "labvm (pid $QEMU_PID): already pinned as asked ("
	assert_no_oom
}

@test "lab: vm-pin with automatic NUMA balancing on: pins, and says balancing fights it" {
	[ -n "$BALANCING" ] || ns_skip "the kernel has no kernel.numa_balancing"
	echo 1 >/proc/sys/kernel/numa_balancing
	qemu_on_node0
	node_cpus=$(cat /sys/devices/system/node/node"$LAST"/cpulist)
	run --separate-stderr "$NS_BIN/vm-pin" "$QEMU_PID" --node "$LAST"
	assert_success
	[[ $stderr == *"vm-pin: warning: automatic NUMA balancing is on (kernel.numa_balancing)"* ]] ||
		fail "no balancing warning: $stderr"
	assert_equal "$(thread_cpus)" "$node_cpus"
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
