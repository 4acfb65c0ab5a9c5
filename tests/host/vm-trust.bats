#!/usr/bin/env bats
# What is a VM (issue 22): a process that looks like one (threads named "CPU n/KVM") is one
# only when its owner is root or a VM user and its executable is root's and not writable by
# group or others. Look-alikes run as nobody (setpriv) or from a user-writable executable
# must be neither listed, planned, pinned nor counted by any command, and are reported as
# ignored. And one bad entry (a pid file libvirt does not stand behind) never fails a listing.

load ../helpers

setup() {
	require_root
	command -v setpriv >/dev/null || ns_skip "needs setpriv"
	LA_DIR=$(mktemp -d /tmp/ns-lookalike.XXXXXX)
	chmod 1777 "$LA_DIR"
	LOOKALIKES=() PIDFILES=()
}

teardown() {
	local p
	for p in "${LOOKALIKES[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDFILES[@]}"; do rm -f "$p"; done
	standin_stop
	rm -rf "$LA_DIR"
}

# A stand-in started as a look-alike; sets LA_PID. WRAP: setpriv ... or nothing; BIN: the
# executable; extra args go to the stand-in.
lookalike_start() { # BIN [setpriv args...] -- [standin args...]
	local bin=$1 ready=$LA_DIR/ready.$RANDOM i wrap=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do wrap+=("$1"); shift; done
	shift
	"${wrap[@]}" "$bin" --size 1M --ready "$ready" "$@" 3>&- &
	for i in $(seq 1 300); do [ -s "$ready" ] && break; sleep 0.1; done
	[ -s "$ready" ] || fail "look-alike did not start"
	LA_PID=$(cat "$ready")
	LOOKALIKES+=("$LA_PID")
}

nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# A copy root owns (so only its owner makes it a look-alike) and one a user could rewrite
copies() {
	install -m 0755 "$NS_HELPERS/standin" "$LA_DIR/qemu-system-x86_64"
	install -m 0757 "$NS_HELPERS/standin" "$LA_DIR/qemu-writable"
}

@test "look-alikes run by nobody or from a user-writable executable are no VMs: not listed, counted as ignored" {
	copies
	standin_start --size 1M --vcpus 2 -- -name "vmtrust-root-$$"
	lookalike_start "$LA_DIR/qemu-system-x86_64" "${nobody[@]}" -- --vcpus 2 -- -name "vmtrust-root-$$"
	owner_pid=$LA_PID
	lookalike_start "$LA_DIR/qemu-writable" -- --vcpus 2 -- -name "vmtrust-exe-$$"
	exe_pid=$LA_PID

	run "$NS_BIN/numa-plan" show --json
	assert_success
	jq -e --argjson o "$owner_pid" --argjson e "$exe_pid" --argjson r "$STANDIN_PID" '
		([.vms[] | select(.pid == $o or .pid == $e)] | length == 0)
		and ([.vms[] | select(.pid == $r)] | length == 1)
		and .ignored.owner >= 1 and .ignored.executable >= 1' <<<"$output"

	run "$NS_BIN/vm-pin" --show --json
	assert_success
	jq -e --argjson o "$owner_pid" --argjson e "$exe_pid" --argjson r "$STANDIN_PID" '
		([.vms[] | select(.pid == $o or .pid == $e)] | length == 0)
		and ([.vms[] | select(.pid == $r)] | length == 1)
		and .ignored.owner >= 1 and .ignored.executable >= 1' <<<"$output"

	run "$NS_BIN/numa-plan" steal --interval 0.1 --json
	assert_success
	jq -e --argjson o "$owner_pid" --argjson e "$exe_pid" '
		([.vms[] | select(.pid == $o or .pid == $e)] | length == 0)
		and .ignored.owner >= 1 and .ignored.executable >= 1' <<<"$output"

	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory 1M --sample 0 --json
	[ "$status" -eq 0 ] || [ "$status" -eq 4 ]
	jq -e '(.result // .) | .ignored.owner >= 1 and .ignored.executable >= 1' <<<"$output"

	# a look-alike with a VM's name does not hide that VM's series
	run "$NS_BIN/numa-plan" metrics
	assert_success
	refute_line --partial "pid=\"$owner_pid\""
	refute_line --partial "pid=\"$exe_pid\""
	assert_line --regexp '^numasafe_ignored_processes\{reason="owner"\} [1-9][0-9]*$'
	assert_line --regexp '^numasafe_ignored_processes\{reason="executable"\} [1-9][0-9]*$'

	# -v says what was ignored, and why
	run --separate-stderr "$NS_BIN/numa-plan" show -v
	assert_success
	grep -q "pid $owner_pid (vmtrust-root-$$): ignored, not a VM: its owner" <<<"$stderr"
	grep -q "pid $exe_pid (vmtrust-exe-$$): ignored, not a VM: its executable" <<<"$stderr"

	# --vm-users nobody makes the nobody look-alike a VM again (it is root's executable)
	run "$NS_BIN/numa-plan" show --json --vm-users "root nobody"
	assert_success
	jq -e --argjson o "$owner_pid" '[.vms[] | select(.pid == $o)] | length == 1' <<<"$output"
}

@test "look-alikes are not pinned, planned or moved by root" {
	copies
	lookalike_start "$LA_DIR/qemu-system-x86_64" "${nobody[@]}" -- --vcpus 2
	owner_pid=$LA_PID
	before=$(cat /proc/"$owner_pid"/task/*/status | awk '/^Cpus_allowed_list/ {print $2}' | sort | uniq -c)

	run --separate-stderr "$NS_BIN/vm-pin" --json "$owner_pid" --cpus 0
	assert_failure 1
	jq -e '.reason == "not-a-vm"' <<<"$output"
	run "$NS_BIN/vm-pin" "$owner_pid" --cpus 0
	assert_failure 1
	assert_output --partial "pid $owner_pid is not a VM: its owner is not root or a VM user"
	assert_equal "$(cat /proc/"$owner_pid"/task/*/status | awk '/^Cpus_allowed_list/ {print $2}' | sort | uniq -c)" "$before"

	run --separate-stderr "$NS_BIN/numa-plan" rebalance --sample 0 --json -o "$BATS_TEST_TMPDIR/plan.json"
	[ "$status" -eq 0 ] || [ "$status" -eq 4 ]
	jq -e --argjson o "$owner_pid" '[.. | objects | select(.pid? == $o)] | length == 0' "$BATS_TEST_TMPDIR/plan.json"
	# numa-migrate --plan with a step forged for the look-alike is refused as stale (it was
	# executed: pinned and moved)
	jq --argjson o "$owner_pid" --argjson st "$(awk '{print $22}' /proc/"$owner_pid"/stat)" \
		'.steps = [{step: 1, vm: "pid \($o)", domain: false, pid: $o, start_time: $st, to: 0, bytes: 0, temporary: false}]' \
		"$BATS_TEST_TMPDIR/plan.json" >"$BATS_TEST_TMPDIR/forged.json"
	run --separate-stderr "$NS_BIN/numa-migrate" --plan "$BATS_TEST_TMPDIR/forged.json" --json
	assert_failure 1
	grep -q "step 1: pid $owner_pid .*the plan is stale" <<<"$stderr"
	run --separate-stderr "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/forged.json" --json
	assert_failure 1
	assert_equal "$(cat /proc/"$owner_pid"/task/*/status | awk '/^Cpus_allowed_list/ {print $2}' | sort | uniq -c)" "$before"
}

@test "a vCPU thread's number is a label: one thread named CPU 9999999/KVM is one vCPU" {
	standin_start --size 1M --vcpus 1 --vcpu-base 9999999
	grep -qx "CPU 9999999/KVM" /proc/"$STANDIN_PID"/task/*/comm
	run "$NS_BIN/numa-plan" show --json
	assert_success
	jq -e --argjson p "$STANDIN_PID" '[.vms[] | select(.pid == $p)][0].vcpus == 1' <<<"$output"
}

@test "220 look-alikes with vCPU labels near ten million do not change place's answer" {
	local i
	copies
	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory 1M --sample 0 --json
	before_status=$status
	before=$(jq -c '(.result // .) | [.nodes[] | {node, fits}]' <<<"$output")
	for i in $(seq 1 220); do
		"${nobody[@]}" "$LA_DIR/qemu-system-x86_64" --size 4K --vcpus 1 --vcpu-base 9999999 \
			--ready "$LA_DIR/r.$i" 3>&- &
		LOOKALIKES+=($!)
	done
	for i in $(seq 1 300); do [ "$(ls "$LA_DIR" | grep -c '^r\.')" -ge 220 ] && break; sleep 0.1; done
	run --separate-stderr "$NS_BIN/numa-plan" place --vcpus 1 --memory 1M --sample 0 --json
	assert_equal "$status" "$before_status"
	assert_equal "$(jq -c '(.result // .) | [.nodes[] | {node, fits}]' <<<"$output")" "$before"
	jq -e '(.result // .) | .ignored.owner >= 220 and ([.nodes[].vcpus] | max) < 100000' <<<"$output"
}

@test "a pid file libvirt does not stand behind fails no listing: the entry is named, the others listed" {
	local name=vmtrust-stale-$$ pf
	standin_start --size 1M --vcpus 1 -- -name "$name"
	mkdir -p /run/libvirt/qemu
	pf=/run/libvirt/qemu/$name.pid
	PIDFILES+=("$pf")
	echo "$STANDIN_PID" >"$pf"
	standin_pid_named=$STANDIN_PID
	STANDIN_PIDS=$STANDIN_PID
	standin_start --size 1M --vcpus 1 -- -name "vmtrust-other-$$"

	run --separate-stderr "$NS_BIN/vm-pin" --show --json
	assert_success
	jq -e --argjson a "$standin_pid_named" --argjson b "$STANDIN_PID" '
		([.vms[] | select(.pid == $a)] | length == 1) and ([.vms[] | select(.pid == $b)] | length == 1)' <<<"$output"
	grep -q "$name" <<<"$stderr"

	run "$NS_BIN/numa-plan" show --json
	assert_success
	jq -e --argjson a "$standin_pid_named" '[.vms[] | select(.pid == $a)] | length == 1' <<<"$output"

	# a pid past pid_t is no pid: 2^32 + PID does not name PID (it did, cut to 32 bits)
	echo $((4294967296 + standin_pid_named)) >"$pf"
	run "$NS_BIN/numa-plan" show --json
	assert_success
	jq -e --argjson a "$standin_pid_named" '[.vms[] | select(.pid == $a)][0].domain == false' <<<"$output"

	# a pid file a user could have written names no domain
	echo "$standin_pid_named" >"$pf"
	chmod 0666 "$pf"
	run "$NS_BIN/numa-plan" show --json
	assert_success
	jq -e --argjson a "$standin_pid_named" '[.vms[] | select(.pid == $a)][0].domain == false' <<<"$output"
}

@test "a domain name is kept whole or refused the same way by every command" {
	local long
	long=$(printf 'd%.0s' $(seq 1 300))
	run "$NS_BIN/vm-pin" --show --domain "$long"
	assert_failure 2
	assert_line --index 0 "vm-pin: --domain: a name of 300 bytes (at most 255)"
	run "$NS_BIN/numa-plan" show --domain "$long"
	assert_failure 2
	assert_line --index 0 "numa-plan: --domain: a name of 300 bytes (at most 255)"
	run "$NS_BIN/numa-migrate" --to 0 --domain "$long"
	assert_failure 2
	assert_line --index 0 "numa-migrate: --domain: a name of 300 bytes (at most 255)"
}

@test "--vm-users: a bad list is a usage error" {
	run "$NS_BIN/numa-plan" show --vm-users "no-such-user-numasafe"
	assert_failure 2
	assert_line --index 0 --partial "--vm-users: no such user: no-such-user-numasafe"
	run "$NS_BIN/vm-pin" --show --vm-users ""
	assert_failure 2
}

@test "--domain: a look-alike run by nobody with the domain's -uuid is not taken for the domain" {
	local uuid
	command -v virsh >/dev/null || ns_skip "needs virsh (libvirt's test:///default driver)"
	uuid=$(virsh -c test:///default domuuid test) || ns_skip "no test:///default driver"
	copies
	lookalike_start "$LA_DIR/qemu-system-x86_64" "${nobody[@]}" -- --vcpus 1 -- -uuid "$uuid" -name test
	run --separate-stderr "$NS_BIN/numa-migrate" --connect test:///default --domain test --to 0 --dry-run --json
	assert_failure 1
	jq -e '.kind == "numasafe-error" and .reason == "libvirt"' <<<"$output"
	grep -q "no QEMU process with -uuid $uuid" <<<"$stderr"
	run --separate-stderr "$NS_BIN/vm-pin" --connect test:///default --domain test --show --json
	refute_output --partial "\"pid\":$LA_PID"
}
