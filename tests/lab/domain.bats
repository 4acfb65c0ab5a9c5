#!/usr/bin/env bats
# numa-migrate --domain against a real libvirtd and a real (software-emulated) QEMU domain,
# inside the multi-node lab: libvirt's numatune is read, widened and pointed at the new node
# where the memory mode allows it; placement is checked with numastat, policy with virsh.

load ../helpers

setup_file() {
	"$BATS_TEST_DIRNAME/../libvirt.sh" up
}

setup() {
	require_root
	require_nodes 2
	require_libvirt
	oom_mark
}

teardown() {
	"$NS_TOP/tests/libvirt.sh" destroy nstest
}

qemu_mib_on() { # NODE: MiB of the domain's QEMU process on NODE, per numastat
	numastat -p "$(cat /run/libvirt/qemu/nstest.pid)" | awk -v c=$(($1 + 2)) '/^Total/ {print int($c)}'
}

@test "lab: --domain, restrictive: memory moves, numatune follows to the new node" {
	"$NS_TOP/tests/libvirt.sh" domain nstest 1 restrictive 0
	sleep 2
	run "$NS_BIN/numa-migrate" --domain nstest --to 1 --reserve 64M
	assert_success
	assert_line "domain nstest: numatune nodeset 0 -> 1 (restrictive, live)"
	run virsh numatune nstest
	assert_line --regexp '^numa_nodeset +: 1$'
	assert_line --regexp '^numa_mode +: restrictive$'
	[ "$(qemu_mib_on 0)" -le 1 ] || fail "$(qemu_mib_on 0) MiB still on node 0"
	[ "$(qemu_mib_on 1)" -ge 20 ] || fail "only $(qemu_mib_on 1) MiB on node 1"
	assert_no_oom
}

@test "lab: --domain, strict: refused with what to change, nothing changed" {
	"$NS_TOP/tests/libvirt.sh" domain nstest 1 strict 0
	sleep 2
	before0=$(qemu_mib_on 0)
	before1=$(qemu_mib_on 1)
	run --separate-stderr "$NS_BIN/numa-migrate" --domain nstest --to 1 --reserve 64M
	assert_failure 1
	[[ "$stderr" == "numa-migrate: domain nstest: node 1 is outside its numatune nodeset (0, mode strict)"*"virsh numatune nstest --nodeset 1 --config"* ]] || fail "stderr: $stderr"
	run virsh numatune nstest
	assert_line --regexp '^numa_nodeset +: 0$'
	# QEMU's own libraries may sit on node 1 already; what matters is that nothing moved
	[ "$(qemu_mib_on 1)" -le $((before1 + 1)) ] || fail "memory moved to node 1"
	[ "$(qemu_mib_on 0)" -ge $((before0 - 2)) ]
}

@test "lab: --domain --dry-run changes neither memory nor numatune" {
	"$NS_TOP/tests/libvirt.sh" domain nstest 1 restrictive 0
	sleep 2
	before1=$(qemu_mib_on 1)
	run --separate-stderr "$NS_BIN/numa-migrate" --domain nstest --to 1 --reserve 64M --dry-run --json
	assert_success
	jq -e '.plan.verdict == "safe" and .plan.move_total > 0 and .result == null' <<<"$output"
	run virsh numatune nstest
	assert_line --regexp '^numa_nodeset +: 0$'
	[ "$(qemu_mib_on 1)" -le $((before1 + 1)) ] || fail "memory moved to node 1"
}
