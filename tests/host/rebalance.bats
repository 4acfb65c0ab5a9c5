#!/usr/bin/env bats
# numasafe-rebalance, the script numasafe-rebalance.service runs: it executes a plan only when
# every limit of the policy holds and one trigger fires, refuses with exit 4 (a normal outcome
# for the unit) otherwise, and reads the policy as KEY=VALUE data, strictly. Plans are judged
# from their own fields; whether numa-migrate --plan ran is told by its last-run record. The
# real planner runs too (on this one-node host: nothing to do). NS_REBALANCE: the script under
# test (default: the build tree's, which runs bin/).

load ../helpers

STATE=/var/lib/numasafe
SCRIPT=${NS_REBALANCE:-$NS_TOP/build/tests/numasafe-rebalance}

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_set_aside
	export NS_HAD_RUNDIR=0
	[ -d /run/numasafe ] && NS_HAD_RUNDIR=1
	true
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_put_back
	rm -f /run/numasafe/rebalance.lock
	[ "${NS_HAD_RUNDIR:-1}" = 1 ] || rmdir /run/numasafe 2>/dev/null || true
}

setup() {
	require_root
	[ -x "$SCRIPT" ] || fail "$SCRIPT is missing: run 'make all' first"
	rm -rf "$STATE"
	CONF=$BATS_TEST_TMPDIR/policy
	PLANF=$BATS_TEST_TMPDIR/plan.json
}

teardown() {
	standin_stop
}

# policy KEY=VALUE...: the policy file the script is given
policy() {
	printf '%s\n' "# test policy" "$@" >"$CONF"
	chmod 0644 "$CONF"
}

# plan BYTES [EXCESS_BEFORE EXCESS_AFTER] [UNPLACED] [LEFT]: a plan whose one step moves a
# stand-in VM (real, so numa-migrate --plan can execute it on this host) to node 0; excess fields
# only when given; UNPLACED more VMs that fit nowhere, of which LEFT were left where they are by
# a --max-move limit (max_move.vms_left).
plan() {
	local bytes=$1 eb=${2:-} ea=${3:-} unplaced=${4:-0} left=${5:-} name start
	if [ -z "${STANDIN_PID:-}" ]; then
		standin_start --size 8M --vcpus 1
	fi
	name=$("$NS_BIN/numa-plan" show --json | jq -r ".vms[] | select(.pid == $STANDIN_PID) | .name")
	start=$(awk '{print $22}' "/proc/$STANDIN_PID/stat")
	jq -n --argjson bytes "$bytes" --arg name "$name" --argjson pid "$STANDIN_PID" --argjson start "$start" \
		--arg eb "$eb" --arg ea "$ea" --argjson unplaced "$unplaced" --arg left "$left" '
		{version: 1, kind: "numasafe-rebalance", exact: true, bytes_moved: $bytes, nodes: [],
		 vms: ([{name: $name, domain: false, pid: $pid, start_time: $start, vcpus: 1, node_now: 0, node: 0,
		 	bytes_to_move: $bytes}]
		     + ([range($unplaced)] | map({name: "big\(.)", domain: false, pid: $pid, start_time: $start,
		 	vcpus: 1, node_now: 0, node: null, bytes_to_move: 0, reason: "fits nowhere"}))),
		 steps: [{step: 1, vm: $name, domain: false, pid: $pid, start_time: $start, to: 0, bytes: $bytes,
		 	temporary: false}],
		 unordered: 0}
		+ (if $eb == "" then {} else {excess_before: ($eb | tonumber), excess_after: ($ea | tonumber)} end)
		+ (if $left == "" then {} else {max_move: {limit: 1073741824, bound: true, vms_left: ($left | tonumber),
			excess_uncapped: null, bytes_uncapped: 0, unplaced_uncapped: 0}} end)' >"$PLANF"
}

# rebalance ARGS...: the script with the test policy
rebalance() {
	run --separate-stderr "$SCRIPT" --config "$CONF" "$@"
}

assert_executed() {
	[ -f "$STATE/numa-migrate.json" ] || fail "numa-migrate --plan did not run (stdout: $output; stderr: $stderr)"
	jq -e '.code == 0' "$STATE/numa-migrate.json" >/dev/null || fail "the plan run: $(cat "$STATE/numa-migrate.json")"
}

assert_not_executed() {
	[ ! -e "$STATE/numa-migrate.json" ] || fail "numa-migrate ran: $(cat "$STATE/numa-migrate.json")"
}

@test "this host: the real planner finds nothing to do; the plan is kept in /var/lib/numasafe" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	rebalance
	# one node: nothing moves; a VM of someone else's with more vCPUs than the host has CPUs
	# would fit nowhere (4)
	case $status in
	0) assert_output --partial "numasafe-rebalance: nothing to do: every VM is already local" ;;
	4) [[ $stderr == *"numasafe-rebalance: nothing to execute: every VM that can be placed is local; "* ]] || fail "$stderr" ;;
	*) fail "exit $status: $output $stderr" ;;
	esac
	# the byte limit went to the planner: the best plan within it
	jq -e '.max_move.limit == 1073741824' "$STATE/rebalance-plan.json"
	assert_json_schema "$STATE/rebalance-plan.json"
	run stat -c '%u %a' "$STATE" "$STATE/rebalance-plan.json"
	assert_output $'0 755\n0 644'
	assert_not_executed
}

@test "allowed: within the byte limit and enough VMs made local; executed with numa-migrate --plan" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=64M REBALANCE_MIN_VMS=1
	plan 8388608
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "numasafe-rebalance: executing $PLANF: it makes 1 VM(s) local (REBALANCE_MIN_VMS=1)"
	assert_executed
}

@test "a plan that moves more than REBALANCE_MAX_BYTES is refused: exit 4, nothing run" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=4M
	plan 8388608
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 4 ] || fail "exit $status: $output $stderr"
	assert_equal "$stderr" "numasafe-rebalance: refused by policy: the plan moves 8388608 bytes, more than REBALANCE_MAX_BYTES (4194304)"
	assert_not_executed
	# 8M is read as a size: the same plan passes
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=8M
	rebalance --from-plan "$PLANF"
	assert_success
	assert_executed
}

@test "too few VMs to make local: not worth it, exit 0, nothing run" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=unlimited REBALANCE_MIN_VMS=2
	plan 8388608
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "not worth it by policy: 1 VM(s) to make local"
	assert_not_executed
}

@test "the excess trigger: fires on the plan's excess_before - excess_after, never without those fields" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=unlimited REBALANCE_MIN_VMS= REBALANCE_MIN_EXCESS=1.5
	plan 8388608 2.25 1.0
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "numasafe-rebalance: not worth it by policy"
	assert_not_executed
	plan 8388608 2.5 0.5
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "it removes 2 CPUs of demand beyond capacity (REBALANCE_MIN_EXCESS=1.5)"
	assert_executed
	rm "$STATE/numa-migrate.json"
	# a plan from a planner that does not measure demand: the trigger cannot fire
	plan 8388608
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "the plan does not measure CPU demand (no excess_before/excess_after): REBALANCE_MIN_EXCESS cannot fire"
	assert_not_executed
}

@test "a plan with no step and a VM that fits nowhere: nothing to execute, refused as the planner does (4)" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	plan 0 "" "" 1
	jq '.steps = []' "$PLANF" >"$PLANF.new" && mv "$PLANF.new" "$PLANF"
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 4 ] || fail "exit $status: $output $stderr"
	assert_equal "$stderr" "numasafe-rebalance: nothing to execute: every VM that can be placed is local; 1 VM(s) cannot be placed (see $PLANF)"
	assert_not_executed
}

@test "a partial plan (a VM fits nowhere) is refused unless REBALANCE_PARTIAL=yes" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	plan 8388608 "" "" 1
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 4 ]
	assert_equal "$stderr" "numasafe-rebalance: refused by policy: 1 VM(s) cannot be placed (REBALANCE_PARTIAL=no); see $PLANF"
	assert_not_executed
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G REBALANCE_PARTIAL=yes
	rebalance --from-plan "$PLANF"
	assert_success
	assert_executed
}

@test "VMs the planner's byte limit left where they are: the plan's steps run; with no step it is refused (4)" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	plan 8388608 "" "" 1 1
	rebalance --from-plan "$PLANF"
	assert_success
	assert_executed
	rm "$STATE/numa-migrate.json"
	plan 0 "" "" 1 1
	jq '.steps = []' "$PLANF" >"$PLANF.new" && mv "$PLANF.new" "$PLANF"
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 4 ] || fail "exit $status: $output $stderr"
	assert_equal "$stderr" "numasafe-rebalance: refused by policy: within REBALANCE_MAX_BYTES no VM can be made local; 1 VM(s) left where they are (see $PLANF)"
	assert_not_executed
}

@test "REBALANCE_EXECUTE=no and --dry-run judge the plan and run nothing" {
	policy REBALANCE_MAX_BYTES=1G
	plan 8388608
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "the policy allows it: it makes 1 VM(s) local (REBALANCE_MIN_VMS=1); not executed (REBALANCE_EXECUTE=no)"
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	rebalance --dry-run --from-plan "$PLANF"
	assert_success
	assert_output --partial "not executed (--dry-run)"
	assert_not_executed
}

@test "the shipped policy is valid and only plans" {
	local shipped=$NS_TOP/systemd/numasafe.default
	[[ $SCRIPT == */build/tests/numasafe-rebalance ]] || shipped=/etc/default/numasafe # this tree's, or the UBSan copy's
	plan 8388608
	run --separate-stderr "$SCRIPT" --config "$shipped" --from-plan "$PLANF"
	assert_success
	assert_output --partial "the policy allows it: it makes 1 VM(s) local (REBALANCE_MIN_VMS=1); not executed (REBALANCE_EXECUTE=no)"
	assert_not_executed
}

@test "no policy file: plans only (the defaults never execute)" {
	rm -f "$CONF"
	plan 8388608
	rebalance --from-plan "$PLANF"
	assert_success
	assert_output --partial "not executed (REBALANCE_EXECUTE=no)"
	assert_not_executed
}

@test "bad policies are refused before anything is planned, naming the file and line" {
	plan 8388608
	local -a cases=(
		"REBALANCE_EXECUTE=maybe|$CONF: REBALANCE_EXECUTE: 'maybe' is neither yes nor no"
		"REBALANCE_MAX_BYTES=4GiB|$CONF: REBALANCE_MAX_BYTES: '4GiB' is not a size (like 512M, 4G or unlimited)"
		"REBALANCE_MAX_BYTES=-1|$CONF: REBALANCE_MAX_BYTES: '-1' is not a size (like 512M, 4G or unlimited)"
		"REBALANCE_MIN_VMS=two|$CONF: REBALANCE_MIN_VMS: 'two' is not a whole number"
		"REBALANCE_MIN_EXCESS=1e3|$CONF: REBALANCE_MIN_EXCESS: '1e3' is not a number of CPUs"
		"REBALANCE_MIN_VMS=|$CONF: no trigger: set REBALANCE_MIN_VMS or REBALANCE_MIN_EXCESS"
		"REBALANCE_RATE=1G|$CONF:2: unknown setting 'REBALANCE_RATE'"
		'$(touch /tmp/ns-pwned)|'"$CONF:2: not KEY=VALUE"
		'REBALANCE_RESERVE=$(touch /tmp/ns-pwned)|'
	)
	local c
	for c in "${cases[@]}"; do
		policy "${c%%|*}"
		rebalance --dry-run --from-plan "$PLANF"
		if [ -n "${c#*|}" ]; then
			[ "$status" -eq 1 ] || fail "${c%%|*}: exit $status"
			assert_equal "$stderr" "numasafe-rebalance: ${c#*|}"
		fi
	done
	[ ! -e /tmp/ns-pwned ] || fail "a value of the policy was run by a shell"
	# executing needs a byte limit
	policy REBALANCE_EXECUTE=yes
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "numasafe-rebalance: $CONF: REBALANCE_MAX_BYTES is required to execute (a size, or unlimited)"
	assert_not_executed
}

@test "a policy or plan that others may change is refused" {
	policy REBALANCE_EXECUTE=yes REBALANCE_MAX_BYTES=1G
	plan 8388608
	chmod 0666 "$CONF"
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "numasafe-rebalance: $CONF: writable by group or others (mode 666); refusing it as policy"
	chmod 0644 "$CONF"
	chown 65534 "$PLANF"
	rebalance --from-plan "$PLANF"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "numasafe-rebalance: $PLANF: owned by uid 65534, not root; refusing it as a plan"
	assert_not_executed
}

@test "one run at a time: a second one while the lock is held is refused as busy (exit 4)" {
	policy REBALANCE_MAX_BYTES=1G
	plan 8388608
	mkdir -p /run/numasafe
	exec 9>>/run/numasafe/rebalance.lock
	flock -n 9
	rebalance --from-plan "$PLANF"
	exec 9>&-
	[ "$status" -eq 4 ]
	assert_equal "$stderr" "numasafe-rebalance: busy: another numasafe-rebalance is running"
}
