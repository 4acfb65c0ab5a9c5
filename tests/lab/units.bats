#!/usr/bin/env bats
# numasafe-rebalance, the script of numasafe-rebalance.service, in the multi-node lab: two
# stand-in VMs (one vCPU each: a lab node may have one CPU) interleaved over the nodes are planned by the real planner; a policy whose byte
# limit no move fits refuses (exit 4) and no page moves (numa_maps as before); within
# the limit the plan is executed: each stand-in ends >= 99% on one node, its data intact, no
# OOM kill, numa-migrate's last-run record says done, and numa-plan metrics reports that run.

load ../helpers

SCRIPT=$NS_TOP/build/tests/numasafe-rebalance

setup() {
	require_root
	require_nodes 2
	[ -x "$SCRIPT" ] || fail "$SCRIPT is missing: run 'make all' first"
	oom_mark
	rm -rf /var/lib/numasafe # the guest's overlay: gone with the guest
	NODES=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
	CONF=$BATS_TEST_TMPDIR/policy
}

teardown() {
	standin_stop
	[ -z "${THP_WAS:-}" ] || echo "$THP_WAS" >/sys/kernel/mm/transparent_hugepage/enabled
}

# khugepaged (THP "always" in both lab kernels) may collapse 2 MiB of an interleaved stand-in
# onto one node at any moment: a 1 MiB shift that no numasafe command made (18/14 where 17/15
# was, in a CI replica). The test's "nothing moves" is about numasafe, so no THP here.
thp_off() {
	THP_WAS=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled)
	echo never >/sys/kernel/mm/transparent_hugepage/enabled
}

# MiB of anonymous memory per node of every stand-in, one line per stand-in.
spread() {
	local p n
	for p in $STANDIN_PIDS; do
		for ((n = 0; n < NODES; n++)); do printf '%s ' "$(anon_mib_on "$p" "$n")"; done
		echo
	done
}

@test "over REBALANCE_MAX_BYTES the plan is refused and nothing moves; within it the plan is executed" {
	local i pids= before p
	thp_off
	STANDIN_WRAP=(numactl --interleave=all)
	for i in 1 2; do
		standin_start --size 32M --seed "$i" --vcpus 1
		pids+=" $STANDIN_PID"
	done
	STANDIN_WRAP=()
	STANDIN_PIDS=$pids
	STANDIN_PID=
	before=$(spread)

	printf '%s\n' REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1M >"$CONF"
	run --separate-stderr "$SCRIPT" --config "$CONF"
	[ "$status" -eq 4 ] || fail "exit $status: $output $stderr"
	# the planner got the limit (--max-move): no VM can be made local within 1 MiB
	# (numa-plan says first that the VMs cannot be placed: the limit left them where they are)
	[[ ${stderr_lines[-1]} == "numasafe-rebalance: refused by policy: within REBALANCE_MAX_BYTES no VM can be made local; 2 VM(s) left where they are"* ]] ||
		fail "stderr: $stderr"
	assert_equal "$(spread)" "$before"
	[ ! -e /var/lib/numasafe/numa-migrate.json ] || fail "numa-migrate ran"
	assert_json_schema /var/lib/numasafe/rebalance-plan.json

	printf '%s\n' REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G >"$CONF"
	run --separate-stderr "$SCRIPT" --config "$CONF"
	assert_success
	assert_output --partial "numasafe-rebalance: executing /var/lib/numasafe/rebalance-plan.json"
	for p in $STANDIN_PIDS; do
		assert_anon_on "$p" "$(main_node "$p")" 99
		standin_verify "$p"
	done
	assert_no_oom
	jq -e '.code == 0 and .reason == null' /var/lib/numasafe/numa-migrate.json
	run "$NS_BIN/numa-plan" metrics --sample 0
	assert_success
	assert_line 'numasafe_last_run_exit_code{command="numa-migrate",reason="none"} 0'
}
