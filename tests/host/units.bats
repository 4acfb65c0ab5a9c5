#!/usr/bin/env bats
# The systemd units. PID 1 is not systemd here, so they are not started: systemd-analyze verify
# passes on each; they come disabled (only the timers can be enabled); and each service's
# command, as its unit spells it, works with no capability but those its CapabilityBoundingSet
# keeps (setpriv with that bounding set and no_new_privs), on processes of another user, as
# QEMU runs under libvirt; without the capability the unit names for that, it does not. The
# units are the build tree's with this tree's paths filled in, or the installed ones
# (NS_REAL_BIN=/usr/sbin).

load ../helpers

STATE=/var/lib/numasafe
PROM=/var/lib/prometheus/node-exporter/numasafe.prom

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_set_aside
	export NS_HAD_PROM=0
	[ -e "$PROM" ] && NS_HAD_PROM=1
	true
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_put_back
	[ "${NS_HAD_PROM:-1}" = 1 ] || rm -f "$PROM"
}

setup() {
	require_root
	if [ "$NS_REAL_BIN" = /usr/sbin ]; then
		UNITS=/lib/systemd/system
		VERIFY=(systemd-analyze verify)
	else
		UNITS=$BATS_TEST_TMPDIR/units
		mkdir -p "$UNITS"
		for u in numasafe-metrics.service numasafe-rebalance.service; do
			sed -e "s|@SBINDIR@|$NS_REAL_BIN|g" -e "s|@LIBEXECDIR@/numasafe|$NS_TOP/build/tests|g" \
				-e "s|@SYSCONFDIR@|/etc|g" "$NS_TOP/systemd/$u.in" >"$UNITS/$u"
		done
		cp "$NS_TOP"/systemd/*.timer "$UNITS/"
		# the man pages are not installed: Documentation= is not checked
		VERIFY=(systemd-analyze verify --man=no)
	fi
	RUNDIR=$(mktemp -d /tmp/ns-units.XXXXXX)
	chmod 0777 "$RUNDIR"
	PIDS=
}

teardown() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$RUNDIR"
}

# The unit's ExecStart= command line, and its CapabilityBoundingSet= as setpriv's list.
exec_start() { sed -n 's/^ExecStart=//p' "$UNITS/$1"; }
bounding_set() {
	local caps c out=-all
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/$1")
	[ -n "$caps" ] || fail "$1 has no CapabilityBoundingSet="
	for c in $caps; do
		c=${c#CAP_}
		out+=,+${c,,}
	done
	echo "$out"
}
# run_as_unit UNIT [EXTRA_SETPRIV_BOUNDING] CMD...: CMD with the unit's capabilities only
run_as_unit() {
	local unit=$1 set
	set=$(bounding_set "$unit")
	shift
	if [[ $1 == [-,]* ]]; then
		set+=$1
		shift
	fi
	run --separate-stderr setpriv --bounding-set "$set" --no-new-privs "$@"
}

# A named QEMU, or a stand-in VM with vCPU threads, as Debian's libvirt QEMU user (one of the
# default VM users: a process of any other user is no VM, numasafe(7)); sets VM_PID.
VMUSER=libvirt-qemu
vmuser_ids() {
	id -u "$VMUSER" >/dev/null 2>&1 || ns_skip "needs user $VMUSER (libvirt-daemon-system)"
	VMUID=$(id -u "$VMUSER") VMGID=$(id -g "$VMUSER")
}
vmuser_qemu() {
	command -v qemu-system-x86_64 >/dev/null || ns_skip "needs qemu-system-x86_64"
	vmuser_ids
	setpriv --reuid="$VMUID" --regid="$VMGID" --clear-groups qemu-system-x86_64 -name "$1,debug-threads=on" \
		-machine pc -accel tcg -m 64 -display none -nodefaults -smp 1 -daemonize -pidfile "$RUNDIR/qemu.pid" ||
		fail "qemu did not start"
	VM_PID=$(cat "$RUNDIR/qemu.pid")
	PIDS="$PIDS $VM_PID"
	sleep 1 # its start-up allocations done
}
vmuser_standin() {
	local i
	vmuser_ids
	setpriv --reuid="$VMUID" --regid="$VMGID" --clear-groups "$NS_HELPERS/standin" --size 16M --vcpus 2 \
		--ready "$RUNDIR/ready" 3>&- &
	PIDS="$PIDS $!"
	for i in $(seq 1 100); do
		[ -s "$RUNDIR/ready" ] && break
		sleep 0.1
	done
	VM_PID=$(cat "$RUNDIR/ready")
}

@test "systemd-analyze verify passes on every unit, without a word" {
	command -v systemd-analyze >/dev/null || ns_skip "needs systemd-analyze (package systemd)"
	run "${VERIFY[@]}" "$UNITS"/numasafe-metrics.service "$UNITS"/numasafe-metrics.timer \
		"$UNITS"/numasafe-rebalance.service "$UNITS"/numasafe-rebalance.timer
	assert_success
	assert_output ""
}

@test "shipped disabled: only the timers can be enabled; a refusal (4) is a success of the rebalance unit" {
	for u in numasafe-metrics.service numasafe-rebalance.service; do
		! grep -q '^\[Install\]' "$UNITS/$u" || fail "$u can be enabled on its own"
	done
	for u in numasafe-metrics.timer numasafe-rebalance.timer; do
		grep -qx 'WantedBy=timers.target' "$UNITS/$u"
	done
	grep -qx 'SuccessExitStatus=4' "$UNITS/numasafe-rebalance.service"
	if [ "$NS_REAL_BIN" = /usr/sbin ]; then
		run find /etc/systemd -name '*numasafe*'
		assert_output ""
	fi
}

@test "the metrics unit's command, with only its capabilities, writes metrics of another user's QEMU" {
	[ -d /var/lib/prometheus/node-exporter ] || ns_skip "needs node_exporter's textfile directory (prometheus-node-exporter)"
	local cmd
	cmd=$(exec_start numasafe-metrics.service)
	[[ $cmd == *" -o $PROM" ]] || fail "ExecStart does not write $PROM: $cmd"
	vmuser_qemu unitvm
	# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it (no quotes in it)
	run_as_unit numasafe-metrics.service $cmd
	assert_success
	grep -q '^numasafe_vm_memory_bytes{vm="unitvm",domain="false",node="0"} [1-9]' "$PROM" ||
		fail "no memory for the QEMU of user $VMUSER: $(grep unitvm "$PROM")"
	assert_equal "$(stat -c '%u %a' "$PROM")" "0 644"
	command -v promtool >/dev/null && promtool check metrics <"$PROM"
	# CAP_SYS_PTRACE is what reads it: without, that VM's memory is unknown
	rm -f "$PROM"
	# shellcheck disable=SC2086
	run_as_unit numasafe-metrics.service ,-sys_ptrace $cmd
	assert_success
	! grep -q 'numasafe_vm_memory_bytes{vm="unitvm"' "$PROM"
}

@test "the rebalance unit's command, with only its capabilities, plans (the shipped policy executes nothing)" {
	local cmd
	cmd=$(exec_start numasafe-rebalance.service)
	# shellcheck disable=SC2086
	run_as_unit numasafe-rebalance.service $cmd
	# one node: nothing moves (4 when a VM of someone else's fits nowhere, as the unit allows)
	[ "$status" -eq 0 ] || [ "$status" -eq 4 ] || fail "exit $status: $output $stderr"
	[[ "$output$stderr" == *"numasafe-rebalance: nothing to "* ]] || fail "$output $stderr"
	[ -f "$STATE/rebalance-plan.json" ]
}

@test "with the rebalance unit's capabilities the planner reads, and a plan step's tools move and pin, another user's VM; not without CAP_SYS_NICE" {
	vmuser_standin
	run_as_unit numasafe-rebalance.service "$NS_REAL_BIN/numa-plan" show --json "$VM_PID"
	assert_success
	jq -e '.process.total.anon > 0' <<<"$output" >/dev/null || fail "its memory was not read: $output"
	run_as_unit numasafe-rebalance.service "$NS_REAL_BIN/numa-migrate" --no-log --to 0 "$VM_PID"
	assert_success
	run_as_unit numasafe-rebalance.service "$NS_REAL_BIN/vm-pin" --no-log --to 0 "$VM_PID"
	assert_success
	# (without CAP_SYS_PTRACE its numa_maps is still read here: this kernel lets CAP_SYS_ADMIN
	# pass that ptrace-access check too, so only the metrics unit's test tells it apart)
	# its pagemap is mode 0400 of the VM user, but the preflight counts from numa_maps and smaps
	# and walks pagemap only for pages on a source node: on this one-node host nothing is
	# walked, so the no-op move needs no CAP_DAC_READ_SEARCH (a real move's walk does; the lab
	# moves as root)
	run_as_unit numasafe-rebalance.service ,-dac_read_search "$NS_REAL_BIN/numa-migrate" --no-log --to 0 "$VM_PID"
	assert_success
	assert_line --partial "done: nothing to move"
	run_as_unit numasafe-rebalance.service ,-sys_nice "$NS_REAL_BIN/vm-pin" --no-log --to 0 "$VM_PID"
	assert_failure 1
	assert_equal "$stderr" "vm-pin: pinning another process's threads needs CAP_SYS_NICE (run as root)"
}
