#!/usr/bin/env bats
# vm-pin on the host: bare QEMU processes (thread affinity checked in /proc), a real libvirtd
# with real software-emulated domains (checked with virsh), libvirt's test:///default driver,
# CPU weights, and bad input that must change nothing.

load ../helpers

setup_file() {
	"$NS_TOP/tests/libvirt.sh" up || true
}

setup() {
	require_root
	QEMUS=()
}

teardown() {
	local p
	for p in "${QEMUS[@]}"; do kill "$p" 2>/dev/null || true; done
	for d in vpin1 vpinw4 vpinw1 vpinio; do "$NS_TOP/tests/libvirt.sh" destroy "$d"; done
}

# A bare QEMU that idles (no boot device); NAME "" starts one without thread names.
qemu_start() { # NAME VCPUS -> QEMU_PID
	local pidf=$BATS_TEST_TMPDIR/qemu.$RANDOM name=()
	[ -n "$1" ] && name=(-name "$1,debug-threads=on")
	qemu-system-x86_64 "${name[@]}" -machine pc -accel tcg -m 32 -display none -nodefaults \
		-smp "$2" -daemonize -pidfile "$pidf" 3>&-
	QEMU_PID=$(cat "$pidf")
	QEMUS+=("$QEMU_PID")
}

# "CPU n/TCG=LIST ..." for every vCPU thread of PID
vcpu_affinity() {
	local t out=
	for t in /proc/"$1"/task/*; do
		case $(cat "$t/comm") in
		"CPU "*) out+="$(cat "$t/comm")=$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status") " ;;
		esac
	done
	echo "$out"
}

all_affinity() { # every thread's list, to prove nothing changed
	local t
	for t in /proc/"$1"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done
}

online=$(cat /sys/devices/system/cpu/online)

@test "bare QEMU: --cpus 1 pins every vCPU and emulator thread; a second run changes nothing; --node 0 undoes it" {
	qemu_start pinme 2
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 1
	assert_success
	assert_line "pinme (pid $QEMU_PID): vcpu 0: CPUs $online -> 1"
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=1 CPU 1/TCG=1 "
	run all_affinity "$QEMU_PID"
	refute_line --regexp "^$online\$"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 1
	assert_success
	assert_output --partial "already pinned as asked"
	assert_output --partial "nothing changed"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node 0 --json
	assert_success
	jq -e --argjson p "$QEMU_PID" '.version == 2 and .kind == "numasafe-pin" and .changed == true and .threads_changed >= 3 and .vm.domain == false and .vm.pid == $p
		and (.threads | all(.cpus_after == [0,1])) and .undone == false and .memory == null' <<<"$output"
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=$online CPU 1/TCG=$online "
}

@test "--mem: SIGTERM while it reads the maps of a sparse 16 TB process ends it: exit 4, reason signal, the pinning put back" {
	# 60000 VMAs on top: reading them lasts long enough to be caught in it
	sparse_start --vmas 30000 --vcpus 2
	QEMUS+=("$STANDIN_PID")
	before=$(vcpu_affinity "$STANDIN_PID")
	assert_equal "$before" "CPU 0/KVM=$online CPU 1/KVM=$online "
	"$NS_REAL_BIN/vm-pin" --json "$STANDIN_PID" --cpus 1 --mem >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pin=$!
	wait_scanning "$pin" "$STANDIN_PID" || fail "vm-pin ended before it was seen reading: $(cat "$BATS_TEST_TMPDIR/out")"
	kill -TERM "$pin"
	wait_guard "$pin"
	[ "$RC" -eq 4 ] || fail "exit $RC, want 4: $(cat "$BATS_TEST_TMPDIR/err")"
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "signal"' "$BATS_TEST_TMPDIR/out" ||
		fail "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_equal "$(vcpu_affinity "$STANDIN_PID")" "$before"
	standin_verify
}

@test "bare QEMU: --vcpus and --no-emulator limit what is pinned; --spread gives one CPU per vCPU" {
	qemu_start pin2 2
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 0 --vcpus 1 --no-emulator
	assert_success
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=$online CPU 1/TCG=0 "
	assert_equal "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/"$QEMU_PID"/status)" "$online"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node 0 --spread
	assert_success
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=0 CPU 1/TCG=1 "
}

@test "bare QEMU: --show lists threads, CPUs, nodes and locality; JSON has the documented shape" {
	qemu_start showme 2
	run "$NS_BIN/vm-pin" --show "$QEMU_PID"
	assert_success
	assert_line --index 0 "showme (pid $QEMU_PID): local to node 0 (100.0% of its memory)"
	assert_output --regexp "vcpu 1 +[0-9]+ +$online +0"
	run "$NS_BIN/vm-pin" --show --json
	assert_success
	jq -e --argjson p "$QEMU_PID" '.version == 2 and .kind == "numasafe-pin-show" and (.vms | map(select(.pid == $p)) | length == 1)
		and (.vms[] | select(.pid == $p) | .name == "showme" and .domain == false and .named
			and .local and .home_node == 0 and .locality_ratio == 1 and (.memory | type == "array")
			and ([.threads[] | select(.kind == "vcpu")] | length == 2)
			and (.threads | all(has("kind") and has("cpus") and has("nodes") and has("tid"))))' <<<"$output"
}

@test "a QEMU without thread names is refused with the fix, and shown as such" {
	qemu_start "" 2
	before=$(all_affinity "$QEMU_PID")
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 1
	assert_failure 1
	assert_output "vm-pin: pid $QEMU_PID: QEMU without thread names: its vCPU threads cannot be told apart; start it with -name NAME,debug-threads=on (libvirt does)"
	assert_equal "$(all_affinity "$QEMU_PID")" "$before"
	run "$NS_BIN/vm-pin" --show
	assert_output --partial "pid $QEMU_PID: no thread names"
}

@test "libvirt: --domain --cpus 1: virsh vcpupin and emulatorpin say 1, every CPU n/TCG thread too; --node 0 restores; idempotent" {
	require_libvirt
	"$NS_TOP/tests/libvirt.sh" domain vpin1 2
	pid=$(cat /run/libvirt/qemu/vpin1.pid)
	run "$NS_BIN/vm-pin" --domain vpin1 --cpus 1
	assert_success
	assert_line "domain vpin1: 3 of 3 threads pinned"
	run virsh vcpupin vpin1
	assert_line --regexp '^ 0 +1$'
	assert_line --regexp '^ 1 +1$'
	run virsh emulatorpin vpin1
	assert_line --regexp '^ +\*: +1$'
	assert_equal "$(vcpu_affinity "$pid")" "CPU 0/TCG=1 CPU 1/TCG=1 "
	run "$NS_BIN/vm-pin" --domain vpin1 --cpus 1
	assert_success
	assert_output "domain vpin1: already pinned as asked (3 threads): nothing changed"
	# a PID that belongs to a domain goes through libvirt too
	run "$NS_BIN/vm-pin" "$pid" --node 0
	assert_success
	assert_line "domain vpin1: 3 of 3 threads pinned"
	run virsh vcpupin vpin1
	assert_line --regexp "^ 0 +$online\$"
	assert_equal "$(vcpu_affinity "$pid")" "CPU 0/TCG=$online CPU 1/TCG=$online "
	run "$NS_BIN/vm-pin" --domain vpin1 --show --json
	assert_success
	jq -e '.vms[0].name == "vpin1" and .vms[0].domain and (.vms[0].threads | map(select(.kind == "emulator")) | length == 1)' <<<"$output"
}

@test "libvirt: --dry-run reports the change and changes nothing" {
	require_libvirt
	"$NS_TOP/tests/libvirt.sh" domain vpin1 2
	run "$NS_BIN/vm-pin" --domain vpin1 --cpus 0 --dry-run
	assert_success
	assert_line "domain vpin1: vcpu 0: CPUs $online -> 0 (dry run)"
	run virsh vcpupin vpin1
	assert_line --regexp "^ 0 +$online\$"
}

@test "--weight: a 4-vCPU and a 1-vCPU domain end with CPU weights 4:1" {
	require_libvirt
	"$NS_TOP/tests/libvirt.sh" domain vpinw4 4
	"$NS_TOP/tests/libvirt.sh" domain vpinw1 1
	run "$NS_BIN/vm-pin" --domain vpinw4 --node 0 --weight
	assert_success
	run "$NS_BIN/vm-pin" --domain vpinw1 --node 0 --weight
	assert_success
	w4=$(virsh schedinfo vpinw4 | awk '/cpu_shares/ {print $3}')
	w1=$(virsh schedinfo vpinw1 | awk '/cpu_shares/ {print $3}')
	[ "$w1" -gt 0 ] && [ "$w4" -eq $((4 * w1)) ] || fail "weights $w4 and $w1 are not 4:1"
	run "$NS_BIN/vm-pin" --domain vpinw4 --node 0 --weight
	assert_line "domain vpinw4: CPU weight $w4 for 4 vCPUs already: nothing changed"
}

@test "--weight on a bare process in the root cgroup fails and puts the pinning back" {
	qemu_start rootcg 2
	grep -qE '^[0-9]+:(cpu|cpu,cpuacct|):/$' /proc/"$QEMU_PID"/cgroup || skip "the test QEMU is not in the root cpu cgroup"
	before=$(all_affinity "$QEMU_PID")
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 1 --weight
	assert_failure 1
	assert_line "vm-pin: rootcg (pid $QEMU_PID): --weight: the process is in the root cgroup; weights need a cgroup per VM"
	assert_line "vm-pin: rootcg (pid $QEMU_PID): the previous pinning was restored"
	assert_equal "$(all_affinity "$QEMU_PID")" "$before"
}

@test "test:///default driver: --show --json and a pin through the API" {
	run "$NS_BIN/vm-pin" -c test:///default --domain test --show --json
	assert_success
	jq -e '.version == 2 and .vms[0].name == "test" and .vms[0].domain and .vms[0].pid == null
		and ([.vms[0].threads[] | select(.kind == "vcpu")] | length == 2)
		and (.vms[0].threads[0].cpus | length == 8)' <<<"$output"
	run "$NS_BIN/vm-pin" -c test:///default --domain test --cpus 1 --json
	assert_success
	jq -e '.changed == true and .threads_changed == 3 and (.threads | all(.cpus_after == [1])) and .vm.name == "test" and .vm.pid == null' <<<"$output"
	run "$NS_BIN/vm-pin" -c test:///default --domain test --cpus 1 --vcpus 5
	assert_failure 2
	assert_line --index 0 "vm-pin: --vcpus: the domain has vCPUs 0-1, not 5"
	run "$NS_BIN/vm-pin" -c test:///default --domain test --cpus 1 --mem
	assert_failure 1
	assert_output --partial "--mem needs the domain's QEMU process on this host"
}

@test "bad input: clear one-line errors, documented exit codes, nothing changed" {
	qemu_start badin 2
	before=$(all_affinity "$QEMU_PID")
	run "$NS_BIN/vm-pin" -c test:///default --domain nosuch --cpus 0
	assert_failure 1
	assert_output "vm-pin: domain nosuch: no such domain"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --node 9
	assert_failure 2
	assert_line --index 0 --regexp "^vm-pin: --node: '9' names a node that does not exist \(nodes 0(-[0-9]+)?\)$"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --to 9
	assert_failure 2
	assert_line --index 0 --regexp "^vm-pin: --to: '9' names a node that does not exist \(nodes 0(-[0-9]+)?\)$"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 4000
	assert_failure 2
	assert_line --index 0 "vm-pin: --cpus: '4000' names a CPU that is not on this host (CPUs $online)"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 0 --node 0
	assert_failure 2
	assert_line --index 0 "vm-pin: --node and --cpus are mutually exclusive"
	run "$NS_BIN/vm-pin" "$QEMU_PID"
	assert_failure 2
	assert_line --index 0 "vm-pin: --to or --cpus is required"
	# a vCPU the VM does not have is a mistake, not "nothing to change"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --to 0 --vcpus 7
	assert_failure 2
	assert_line --index 0 "vm-pin: --vcpus: the VM has vCPUs 0-1, not 7"
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 0 --exclude-cpus 0
	assert_failure 2
	assert_line --index 0 "vm-pin: --cpus leaves no CPU to pin to after --exclude-cpus"
	sleep 300 3>&- &
	QEMUS+=($!)
	run "$NS_BIN/vm-pin" $! --cpus 0
	assert_failure 1
	assert_output "vm-pin: pid $! is not a QEMU VM (no \"CPU n/KVM\" or \"CPU n/TCG\" threads)"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 0
	assert_failure 1
	assert_output "vm-pin: pinning another process's threads needs CAP_SYS_NICE (run as root)"
	assert_equal "$(all_affinity "$QEMU_PID")" "$before"
}

@test "--plan: bad plan files are refused before anything runs, by vm-pin and numa-migrate alike" {
	for c in vm-pin numa-migrate; do
		run --separate-stderr "$NS_BIN/$c" --plan "$BATS_TEST_TMPDIR/none.json"
		assert_failure 1
		assert_equal "$stderr" "$c: $BATS_TEST_TMPDIR/none.json: No such file or directory"
		echo '{"version": 2, "kind": "numasafe-rebalance", "steps": []}' >"$BATS_TEST_TMPDIR/v2.json"
		run --separate-stderr "$NS_BIN/$c" --plan "$BATS_TEST_TMPDIR/v2.json"
		assert_failure 1
		assert_equal "$stderr" "$c: $BATS_TEST_TMPDIR/v2.json: plan version 2 is not supported (only 1)"
		echo '{"version": 1, "kind": "numasafe-rebalance", "steps": []}' >"$BATS_TEST_TMPDIR/empty.json"
		run "$NS_BIN/$c" --plan "$BATS_TEST_TMPDIR/empty.json"
		assert_success
		assert_output "$BATS_TEST_TMPDIR/empty.json: no steps: every VM is already where the plan puts it"
	done
	run "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/empty.json" 1
	assert_failure 2
	run "$NS_BIN/numa-migrate" --plan "$BATS_TEST_TMPDIR/empty.json" --to 0
	assert_failure 2
}

@test "--plan: a step whose process is gone (or whose PID was reused) stops the plan, naming the step" {
	sleep 300 3>&- &
	p=$!
	kill "$p"
	wait "$p" 2>/dev/null || true
	cat >"$BATS_TEST_TMPDIR/stale.json" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "gone", "domain": false, "pid": $p, "start_time": 1, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
	run --separate-stderr "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/stale.json"
	assert_failure 1
	assert_equal "$stderr" "vm-pin: $BATS_TEST_TMPDIR/stale.json: step 1: gone (pid $p) is gone: the plan is stale"
}

@test "libvirt: --iothreads pins the domain's I/O threads too (virsh iothreadinfo), and only with --iothreads" {
	require_libvirt
	IOTHREADS=1 "$NS_TOP/tests/libvirt.sh" domain vpinio 1
	run virsh iothreadinfo vpinio
	assert_line --regexp "^ 1 +$online\$"
	run "$NS_BIN/vm-pin" --domain vpinio --cpus 0
	assert_success
	run virsh iothreadinfo vpinio
	assert_line --regexp "^ 1 +$online\$"
	run "$NS_BIN/vm-pin" --domain vpinio --cpus 0 --iothreads
	assert_success
	assert_line "domain vpinio: iothread 1: CPUs $online -> 0"
	run virsh iothreadinfo vpinio
	assert_line --regexp '^ 1 +0$'
	# the QEMU thread behind it ("IO iothread1") follows
	pid=$(cat /run/libvirt/qemu/vpinio.pid)
	found=0
	for t in /proc/"$pid"/task/*; do
		if [ "$(cat "$t/comm")" = "IO iothread1" ]; then
			assert_equal "$(awk '/^Cpus_allowed_list/ {print $2}' "$t/status")" 0
			found=1
		fi
	done
	[ "$found" = 1 ] || fail "no IO iothread1 thread in QEMU $pid"
	run "$NS_BIN/vm-pin" --show --domain vpinio --json
	jq -e '[.vms[0].threads[] | select(.kind == "iothread")] | length == 1 and .[0].cpus == [0]' <<<"$output"
}

@test "libvirt: --config persists the pinning in the definition; without it only the live domain changes" {
	require_libvirt
	"$NS_TOP/tests/libvirt.sh" domain vpin1 2
	run "$NS_BIN/vm-pin" --domain vpin1 --cpus 1
	assert_success
	run virsh vcpupin vpin1 --config
	assert_line --regexp "^ 0 +$online\$"
	run "$NS_BIN/vm-pin" --domain vpin1 --cpus 0 --config
	assert_success
	run virsh vcpupin vpin1 --config
	assert_line --regexp '^ 0 +0$'
	assert_line --regexp '^ 1 +0$'
	run virsh emulatorpin vpin1 --config
	assert_line --regexp '^ +\*: +0$'
	run virsh vcpupin vpin1 --live
	assert_line --regexp '^ 0 +0$'
	# a bare process has no definition to persist
	qemu_start cfg 1
	run "$NS_BIN/vm-pin" "$QEMU_PID" --cpus 0 --config
	assert_failure 2
	assert_line --index 0 "vm-pin: --config: only meaningful for a libvirt domain"
}

@test "libvirt: --domain finds the QEMU by the domain's UUID, without a pid file (as with qemu:///session) or with a wrong one" {
	require_libvirt
	"$NS_TOP/tests/libvirt.sh" domain vpin1 2
	pidf=/run/libvirt/qemu/vpin1.pid
	pid=$(cat "$pidf")
	cp "$pidf" "$BATS_TEST_TMPDIR/saved.pid"
	rm "$pidf"
	run --separate-stderr "$NS_BIN/numa-plan" show --json --domain vpin1
	st1=$status out1=$output
	echo $$ >"$pidf"
	run --separate-stderr "$NS_BIN/numa-plan" show --json --domain vpin1
	st2=$status out2=$output
	cp "$BATS_TEST_TMPDIR/saved.pid" "$pidf"
	[ "$st1" -eq 0 ] || fail "without a pid file: exit $st1"
	jq -e --argjson p "$pid" '.process.pid == $p' <<<"$out1" || fail "without a pid file: $(jq -c .process.pid <<<"$out1")"
	[ "$st2" -eq 0 ] || fail "with a wrong pid file: exit $st2"
	jq -e --argjson p "$pid" '.process.pid == $p' <<<"$out2" || fail "with a wrong pid file: $(jq -c .process.pid <<<"$out2")"
}

@test "--plan: a step naming a domain that does not run here is one line naming the step, exit 1" {
	cat >"$BATS_TEST_TMPDIR/dom.json" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "no-such-domain-here", "domain": true, "pid": 4242, "start_time": 1, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
	for c in vm-pin numa-migrate; do
		run --separate-stderr "$NS_BIN/$c" --plan "$BATS_TEST_TMPDIR/dom.json"
		assert_failure 1
		assert_equal "$stderr" "$c: $BATS_TEST_TMPDIR/dom.json: step 1: domain no-such-domain-here has no QEMU process here (no /run/libvirt/qemu/no-such-domain-here.pid): the plan is stale"
	done
}

@test "--plan: the CPUs rebalance --exclude-cpus kept for the host stay free; --exclude-cpus adds to them" {
	qemu_start planme 2
	run "$NS_BIN/numa-plan" rebalance --sample 0 --cpu-overcommit 2 --exclude-cpus 0 -o "$BATS_TEST_TMPDIR/host.json"
	assert_success
	assert_equal "$(jq -r .exclude_cpus "$BATS_TEST_TMPDIR/host.json")" 0
	run "$NS_BIN/numa-plan" rebalance --sample 0 -o "$BATS_TEST_TMPDIR/none.json"
	assert_success
	assert_equal "$(jq -r .exclude_cpus "$BATS_TEST_TMPDIR/none.json")" ""
	# one node here, so no step moves: a pin-only step as rebalance writes it, with its field
	st=$(awk '{sub(/.*\) /, ""); print $20}' /proc/"$QEMU_PID"/stat)
	cat >"$BATS_TEST_TMPDIR/plan.json" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "exclude_cpus": "0", "steps": [
 {"step": 1, "vm": "planme", "domain": false, "pid": $QEMU_PID, "start_time": $st, "to": 0, "bytes": 0, "temporary": false}]}
JSON
	run "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/plan.json" --exclude-cpus 1
	assert_failure 1
	assert_output --partial "step 1: node 0 has no usable CPUs"
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=$online CPU 1/TCG=$online "
	run "$NS_BIN/vm-pin" --plan "$BATS_TEST_TMPDIR/plan.json"
	assert_success
	assert_equal "$(vcpu_affinity "$QEMU_PID")" "CPU 0/TCG=1 CPU 1/TCG=1 "
	run all_affinity "$QEMU_PID"
	refute_line 0
	refute_line "$online"
}
