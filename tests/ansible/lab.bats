#!/usr/bin/env bats
# numasafe.kvm inside a 2-node lab guest (Ansible with connection local, the host's installed
# ansible-core): a move changes placement (the kernel's numa_maps and numastat as judges); a
# refused move is refused: true with reason headroom, retried by until:, and leaves the memory
# where it was; fast-swapoff through the module empties and switches off a swap area, once;
# the rolling rebalance over six local host aliases runs in batches of two and stops at
# max_fail_percentage, with its per-host summary; the role installs the .deb of make deb.
#   flock /tmp/ns-lab.lock tests/lab/lab-bats --nodes 2 --mem 768 --swap 64 tests/ansible/lab.bats

load ansible

setup_file() {
	ns_ansible_setup
}

setup() {
	require_root
	require_nodes 2
	ns_ansible_setup
	# one python at a time besides the guest's own work: the guest has 2 emulated CPUs
	export ANSIBLE_FORKS=2
	oom_mark
}

teardown() {
	standin_stop
	swapoff /dev/vda 2>/dev/null || true
}

numastat_on() { # PID NODE: MiB numastat shows for the process on NODE
	numastat -p "$1" | awk -v c=$(($2 + 2)) '/^Total/ {print $c}'
}

@test "lab: numasafe_move moves a stand-in to node 1 (numa_maps, numastat); again: changed false" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M --vcpus 1
	STANDIN_WRAP=()
	assert_anon_on "$STANDIN_PID" 0
	ns_module numasafe_move --diff -- pid="$STANDIN_PID" to=1 reserve=32M
	assert_equal "$MOD_STATUS" CHANGED
	assert_mod '.changed == true and .moved_total >= 60 * 1048576 and .code == 0 and .refused == false
		and .document.kind == "numasafe-move" and .document.outcome == "done" and .document.check.to == [1]'
	assert_anon_on "$STANDIN_PID" 1
	total=$(numastat -p "$STANDIN_PID" | awk '/^Total/ {print $NF}')
	awk -v on="$(numastat_on "$STANDIN_PID" 1)" -v t="$total" 'BEGIN { exit !(on >= 0.9 * t) }' ||
		fail "numastat: $(numastat_on "$STANDIN_PID" 1) of $total MiB on node 1"
	standin_verify
	ns_module numasafe_move -- pid="$STANDIN_PID" to=1 reserve=32M
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .moved_total == 0'
	assert_anon_on "$STANDIN_PID" 1
	assert_no_oom
}

@test "lab: a move node 1 has no room for is refused (headroom), retried by until:, memory stays on node 0" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M --vcpus 1
	STANDIN_WRAP=()
	# a reserve of all of node 1: no headroom there whatever is free
	node1=$("$NS_REAL_BIN/numa-plan" show --json | jq '.nodes[] | select(.node == 1) | .mem_total')
	reserve=$((node1 / 1048576))M
	ns_module numasafe_move -- pid="$STANDIN_PID" to=1 reserve=$reserve
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.refused == true and .reason == "headroom" and .code == 4 and .changed == false and .partial == false
		and .error.kind == "numasafe-error" and .error.reason == "headroom" and .moved_total == 0'
	# the preflight that said no: numasafe(7) names a numasafe-check as the result; numa-migrate
	# prints a numasafe-move with the check inside (and outcome null)
	assert_mod '(if .document.kind == "numasafe-check" then .document else .document.check end)
		| .kind == "numasafe-check" and .verdict == "unsafe" and .shortfall > 0'
	assert_anon_on "$STANDIN_PID" 0
	# check mode says the same, before anything
	ns_module numasafe_move --check -- pid="$STANDIN_PID" to=1 reserve=$reserve
	assert_equal "$MOD_STATUS" FAILED!
	assert_mod '.refused == true and .reason == "headroom"'
	# a play treats it as "retry later": until: retries, failed_when: lets it pass
	cat >"$BATS_TEST_TMPDIR/retry.yml" <<-EOF
		- hosts: localhost
		  gather_facts: false
		  tasks:
		    - numasafe.kvm.numasafe_move:
		        pid: $STANDIN_PID
		        to: "1"
		        reserve: $reserve
		        bin_dir: $NS_MOD_BIN
		        audit: false
		      register: move
		      until: not move.refused
		      retries: 1
		      delay: 0
		      failed_when: move.failed and not move.refused
		    - ansible.builtin.assert:
		        that:
		          - move.refused
		          - move.reason == 'headroom'
	EOF
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/retry.yml"
	assert_success
	assert_output --partial "FAILED - RETRYING"
	assert_line --regexp '^localhost +: ok=2 +changed=0 +unreachable=0 +failed=0 '
	assert_anon_on "$STANDIN_PID" 0
	standin_verify
	assert_no_oom
}

@test "lab: numasafe_swapoff brings a swapped stand-in back (paged in, or left in the swap cache to swapoff) and switches the area off; again: nothing" {
	require_swap_disk
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	standin_start --size 32M
	standin_pageout
	used=$(awk '$1 == "/dev/vda" {print $4}' /proc/swaps)
	[ "$used" -gt 1024 ] || fail "only $used KiB in swap"
	ns_module numasafe_swapoff --check --diff -- devices=/dev/vda
	assert_equal "$MOD_STATUS" CHANGED
	assert_mod '.document.dry_run == true and .document.areas[0].device == "/dev/vda" and .swapped_off == []'
	grep -q '^/dev/vda ' /proc/swaps || fail "check mode switched /dev/vda off"
	ns_module numasafe_swapoff -- devices=/dev/vda
	assert_equal "$MOD_STATUS" CHANGED
	assert_mod '.swapped_off == ["/dev/vda"] and .document.areas[0].back + .document.areas[0].left_in_swap_cache > 0 and .code == 0'
	grep -q '^/dev/vda ' /proc/swaps && fail "/dev/vda is still on"
	standin_verify
	ns_module numasafe_swapoff -- devices=/dev/vda
	assert_equal "$MOD_STATUS" SUCCESS
	assert_mod '.changed == false and .already_off == ["/dev/vda"] and .document == null'
	assert_no_oom
}

@test "lab: rolling rebalance over six local hosts: batches of two, stops at max_fail_percentage, summary" {
	# two 1-vCPU stand-ins on node 0; a node has 1 CPU, so one of them must move to node 1
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 64M --seed 1 --vcpus 1
	a=$STANDIN_PID
	standin_start --size 64M --seed 2 --vcpus 1
	b=$STANDIN_PID
	STANDIN_WRAP=()
	STANDIN_PIDS="$a $b"
	node1=$("$NS_REAL_BIN/numa-plan" show --json | jq '.nodes[] | select(.node == 1) | .mem_total')
	# h2's limit holds its plan back; h3's reserve leaves node 1 no room: its plan is refused
	cat >"$BATS_TEST_TMPDIR/hosts" <<-EOF
		[kvm]
		h1
		h2 numasafe_max_bytes=1
		h3 numasafe_reserve=$((node1 / 1048576))M
		h4
		h5
		h6
		[kvm:vars]
		ansible_connection=local
		numasafe_reserve=32M
		numasafe_bin_dir=$NS_MOD_BIN
		numasafe_audit=false
	EOF
	summary=$BATS_TEST_TMPDIR/summary.json
	run ansible-playbook -i "$BATS_TEST_TMPDIR/hosts" "$NS_COLLECTIONS/ansible_collections/numasafe/kvm/playbooks/rolling-rebalance.yml" \
		-e numasafe_serial=2 -e numasafe_max_fail_percentage=49 -e numasafe_summary_file="$summary"
	echo "$output" | grep -A8 '"msg": \[' | tail -9 >&3
	# failed hosts: ansible-playbook's exit 2
	assert_failure 2
	# two batches of the executing play ran, not three
	[ "$(grep -c '^PLAY \[Execute host by host\]' <<<"$output")" -eq 2 ] || fail "batches: $output"
	row() { jq -c --arg h "$1" '.[] | select(.host == $h)' "$summary"; }
	jq -e 'length == 6' "$summary" >/dev/null || fail "summary: $(cat "$summary")"
	jq -e '.outcome == "moved" and .moved >= 60 * 1048576 and .steps >= 1 and .batch == ["h1", "h2"]' <<<"$(row h1)" >/dev/null ||
		fail "h1: $(row h1)"
	jq -e '.outcome == "held" and .reason == "max-bytes" and .moved == 0 and .batch == ["h1", "h2"]' <<<"$(row h2)" >/dev/null ||
		fail "h2: $(row h2)"
	jq -e '.outcome == "refused" and .reason == "unplaced" and .batch == ["h3", "h4"]' <<<"$(row h3)" >/dev/null ||
		fail "h3: $(row h3)"
	# h4 planned before h1 ran; by its turn the host was balanced: nothing moved
	jq -e '.outcome == "moved" and .moved == 0 and .batch == ["h3", "h4"]' <<<"$(row h4)" >/dev/null ||
		fail "h4: $(row h4)"
	for h in h5 h6; do
		jq -e '.outcome == "not run" and .batch == null' <<<"$(row $h)" >/dev/null || fail "$h: $(row $h)"
	done
	assert_output --partial "h3: refused (unplaced: numa-plan: rebalance:"
	assert_output --regexp "h2: held \(max-bytes: the plan moves [0-9]+ bytes, more than 1\), batch h1,h2"
	# the host itself: one stand-in on each node, by the kernel's numa_maps, data intact
	if [ "$(anon_mib_on "$a" 1)" -gt "$(anon_mib_on "$b" 1)" ]; then
		assert_anon_on "$a" 1
		assert_anon_on "$b" 0
	else
		assert_anon_on "$a" 0
		assert_anon_on "$b" 1
	fi
	standin_verify "$a"
	standin_verify "$b"
	assert_no_oom
}

@test "lab: role numasafe installs the .deb of make deb and enables the metrics timer; again: nothing" {
	deb=$(ls "$NS_TOP"/build/deb/numasafe_*.deb 2>/dev/null | grep -v dbgsym | head -n 1)
	[ -n "$deb" ] || ns_skip "no build/deb/numasafe_VERSION_ARCH.deb (make deb)"
	# the guest's package database is this machine's, copy-on-write: it must not have it yet
	if dpkg-query -W -f='${Status}' numasafe 2>/dev/null | grep -q 'install ok'; then
		fail "numasafe is installed on this machine already: the test cannot tell the role's install apart"
	fi
	cat >"$BATS_TEST_TMPDIR/role.yml" <<-EOF
		- hosts: localhost
		  gather_facts: false
		  roles:
		    - role: numasafe.kvm.numasafe
		      vars:
		        numasafe_deb: $deb
		        numasafe_metrics_timer: true
		        numasafe_timers_start: false
	EOF
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/role.yml"
	assert_success
	assert_line --regexp '^localhost +: ok=[0-9]+ +changed=[1-9]'
	assert_equal "$(dpkg-query -W -f='${Status}' numasafe)" "install ok installed"
	run /usr/sbin/numa-plan --version
	assert_success
	[ -e /etc/systemd/system/timers.target.wants/numasafe-metrics.timer ] || fail "numasafe-metrics.timer is not enabled"
	[ ! -e /etc/systemd/system/timers.target.wants/numasafe-rebalance.timer ] || fail "numasafe-rebalance.timer was enabled"
	run ansible-playbook -i localhost, -c local "$BATS_TEST_TMPDIR/role.yml"
	assert_success
	assert_line --regexp '^localhost +: ok=[0-9]+ +changed=0 '
}
