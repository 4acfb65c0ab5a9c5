#!/usr/bin/env bats
# numasafe.kvm against this host (one NUMA node, connection local): facts against numactl;
# pinning a bare QEMU judged by /proc/PID/task/*/status (changed, unchanged the second time,
# nothing in check mode); a move to the only node changes nothing; failures carry the
# contract's reason; the role installs from source, once; the placement advice.

load ansible

setup_file() {
	ns_ansible_setup
}

setup() {
	require_root
	ns_ansible_setup
	QEMUS=()
}

teardown() {
	local p
	for p in "${QEMUS[@]}"; do kill "$p" 2>/dev/null || true; done
	standin_stop
}

# A bare QEMU with named vCPU threads that idles (no boot device); sets QEMU_PID.
qemu_start() { # NAME VCPUS
	local pidf=$BATS_TEST_TMPDIR/qemu.$RANDOM
	command -v qemu-system-x86_64 >/dev/null || ns_skip "needs qemu-system-x86_64"
	qemu-system-x86_64 -name "$1,debug-threads=on" -machine pc -accel tcg -m 32 -display none -nodefaults \
		-smp "$2" -daemonize -pidfile "$pidf" 3>&- || fail "qemu did not start"
	QEMU_PID=$(cat "$pidf")
	QEMUS+=("$QEMU_PID")
}

@test "numasafe_facts: ansible_facts.numasafe.show has numactl's nodes and CPUs; steal on request" {
	command -v numactl >/dev/null || ns_skip "needs numactl"
	ns_module numasafe_facts -- steal=true steal_interval=0.2
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .code == 0 and .refused == false and .reason == null'
	assert_mod '.ansible_facts.numasafe.show.kind == "numasafe-show" and .ansible_facts.numasafe.show.version == 2'
	assert_mod '.ansible_facts.numasafe.steal.kind == "numasafe-steal" and .ansible_facts.numasafe.steal.interval_s == 0.2'
	nodes=$(numactl -H | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')
	assert_mod --argjson n "$nodes" '.ansible_facts.numasafe.show.nodes | length == $n'
	cpus0=$(numactl -H | sed -n 's/^node 0 cpus: //p' | tr ' ' ',')
	assert_mod --arg c "$cpus0" '.ansible_facts.numasafe.show.nodes[0].cpus | map(tostring) | join(",") == $c'
	ns_module numasafe_facts
	assert_mod '.ansible_facts.numasafe.steal == null'
}

@test "numasafe_pin: a bare QEMU pinned (changed), the same again (unchanged), check mode changes nothing" {
	[ "$(nproc)" -ge 2 ] || ns_skip "needs 2 CPUs"
	online=$(cat /sys/devices/system/cpu/online)
	qemu_start ans-pin 2
	before=$(thread_cpus "$QEMU_PID")
	grep -qvx "$online" <<<"$before" && fail "QEMU starts pinned: $before"

	# check mode: says what would change, the kernel's affinity stays as it was
	ns_module numasafe_pin --check --diff -- pid="$QEMU_PID" cpus=1
	assert_equal "$MOD_STATUS" CHANGED
	assert_mod '.document.kind == "numasafe-pin" and .document.dry_run == true and .threads_changed >= 3'
	assert_equal "$(thread_cpus "$QEMU_PID")" "$before"

	ns_module numasafe_pin -- pid="$QEMU_PID" cpus=1
	assert_equal "$MOD_STATUS" CHANGED
	assert_mod '.changed == true and .document.dry_run == false and .threads_changed >= 3'
	assert_mod '.document.threads | map(select(.kind == "vcpu")) | length == 2'
	run thread_cpus "$QEMU_PID"
	refute_line --regexp "^(${online//,/|})\$"
	assert_equal "$(thread_cpus "$QEMU_PID" | sort -u)" 1

	ns_module numasafe_pin -- pid="$QEMU_PID" cpus=1
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .threads_changed == 0 and .code == 0'
	assert_equal "$(thread_cpus "$QEMU_PID" | sort -u)" 1

	# check mode back to every CPU: would change, changes nothing
	ns_module numasafe_pin --check -- pid="$QEMU_PID" to=0
	assert_equal "$MOD_STATUS" CHANGED
	assert_equal "$(thread_cpus "$QEMU_PID" | sort -u)" 1
}

@test "numasafe_move: to the only node, changed false (check mode and for real); the move document returned" {
	standin_start --size 32M --vcpus 1
	ns_module numasafe_move --check -- pid="$STANDIN_PID" to=0
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .document.kind == "numasafe-check" and .document.move_total == 0'
	ns_module numasafe_move --diff -- pid="$STANDIN_PID" to=0
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .moved_total == 0 and .document.kind == "numasafe-move"
		and .document.outcome == "done" and .document.vm.pid == '"$STANDIN_PID"
	standin_verify
}

@test "numasafe_move: failures carry the contract's code and reason; not refused" {
	pid=999999
	while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
	ns_module numasafe_move -- pid=$pid to=0
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.code == 1 and .reason == "no-such-process" and .refused == false and .partial == false
		and .error.kind == "numasafe-error" and .changed == false and (.msg | startswith("numa-migrate: "))'
	ns_module numasafe_move -- pid=$$ to=7
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.code == 2 and .reason == "usage" and .refused == false'
	# the module's own argument checks: exactly one of pid and domain
	ns_module numasafe_move -- to=0
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.msg | test("one of the following is required: pid, domain")'
}

@test "numasafe_swapoff: an area that is not on is left alone; a path that does not exist fails (not-swap)" {
	swapfile=$BATS_TEST_TMPDIR/not-on
	truncate -s 1M "$swapfile"
	grep -q "^$swapfile " /proc/swaps && fail "$swapfile is on"
	ns_module numasafe_swapoff -- devices="$swapfile"
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod --arg f "$swapfile" '.changed == false and .already_off == [$f] and .document == null'
	ns_module numasafe_swapoff -- devices="$BATS_TEST_TMPDIR/nothing-here"
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.code == 1 and .reason == "not-swap" and .refused == false'
}

@test "numasafe_rebalance, check mode: a plan, nothing executed" {
	ns_module numasafe_rebalance --check -- max_bytes=0
	# a plan with steps over max_bytes=0 is refused (max-bytes); without steps it is just a plan
	if jq -e '.plan.steps | length > 0' <<<"$MOD" >/dev/null; then
		assert_equal "$MOD_STATUS" FAILED!
		assert_mod '.refused == true and .reason == "max-bytes" and .run == null'
	else
		assert_equal "$MOD_STATUS" SUCCESS
		assert_mod '.changed == false and .run == null and .plan_bytes == 0'
	fi
	assert_mod '.plan.kind == "numasafe-rebalance" and .plan.version == 1'
}

@test "role numasafe: from source under a DESTDIR, once; a changed installed file is put back" {
	root=$BATS_TEST_TMPDIR/root
	cat >"$BATS_TEST_TMPDIR/role.yml" <<-EOF
		- hosts: localhost
		  gather_facts: false
		  roles:
		    - role: numasafe.kvm.numasafe
		      vars:
		        numasafe_source_dir: $NS_TOP
		        numasafe_destdir: $root
		        numasafe_build_deps: false
	EOF
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/role.yml"
	assert_success
	assert_line --regexp '^localhost +: ok=[0-9]+ +changed=1 '
	for c in numa-plan numa-migrate fast-swapoff vm-pin; do
		installed=$(find "$root/usr/local" -path "*bin/$c" -type f)
		[ -n "$installed" ] || fail "no $c under $root"
		cmp "$NS_REAL_BIN/$c" "$installed" || fail "$installed is not this build's"
	done
	man7=$root/usr/local/share/man/man7/numasafe.7
	cmp "$NS_TOP/man/numasafe.7" "$man7"
	run "$(find "$root/usr/local" -path "*bin/numa-plan" -type f)" --version
	assert_success
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/role.yml"
	assert_success
	assert_line --regexp '^localhost +: ok=[0-9]+ +changed=0 '
	echo damaged >"$man7"
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/role.yml"
	assert_success
	assert_line --regexp '^localhost +: ok=[0-9]+ +changed=1 '
	cmp "$NS_TOP/man/numasafe.7" "$man7"
}

@test "numasafe_place: the advice for a new VM; too big for any node is refused (no-fit)" {
	"$NS_REAL_BIN/numa-plan" place --help >/dev/null 2>&1 || ns_skip "numa-plan has no place subcommand in this tree"
	ns_module numasafe_place -- vcpus=1 memory=16M
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .node == 0 and .document.kind == "numasafe-place" and .document.node == 0'
	# more than node 0's headroom, less than the host's memory (which would be a usage error)
	headroom=$("$NS_REAL_BIN/numa-plan" show --json | jq '.nodes[0].headroom')
	ns_module numasafe_place -- vcpus=1 memory=$((headroom / 1048576 + 64))M
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.refused == true and .reason == "no-fit" and .code == 4 and .node == null'
}
