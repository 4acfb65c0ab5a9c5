#!/usr/bin/env bats
# numa-plan metrics: Prometheus' text format that `promtool check metrics` (Debian's prometheus
# package) accepts, values equal to numa-plan show --json's on the same fixture trees and close
# to them on this host, read back through a real prometheus-node-exporter's textfile collector
# (started here on a free localhost port), labels bounded (VM names, never pids), -o written
# atomically, and the last run of each changing command.

load ../helpers

STATE=/var/lib/numasafe
QEMU_PIDS=
EXPORTER_PID=

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_set_aside
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_put_back
}

teardown() {
	local p
	for p in $QEMU_PIDS; do kill "$p" 2>/dev/null || true; done
	QEMU_PIDS=
	if [ -n "$EXPORTER_PID" ]; then
		kill "$EXPORTER_PID" 2>/dev/null || true
		wait "$EXPORTER_PID" 2>/dev/null || true
		EXPORTER_PID=
	fi
	rm -rf "$STATE"
}

prom_values() { /usr/bin/python3 "$NS_TOP/tests/prom-values" "$@"; }

require_promtool() { command -v promtool >/dev/null || ns_skip "needs promtool (package prometheus)"; }

# A bare QEMU that idles cheaply (as in numa-plan.bats); sets QEMU_PID.
qemu_start() {
	local pidf=$BATS_TEST_TMPDIR/qemu.$RANDOM.pid
	local -a name=()
	command -v qemu-system-x86_64 >/dev/null || ns_skip "needs qemu-system-x86_64"
	[ -n "$1" ] && name=(-name "$1,debug-threads=on")
	qemu-system-x86_64 "${name[@]}" -machine pc -accel tcg -m 64 -display none -nodefaults -smp "$2" \
		-daemonize -pidfile "$pidf" || fail "qemu did not start"
	QEMU_PID=$(cat "$pidf")
	QEMU_PIDS="$QEMU_PIDS $QEMU_PID"
}

# What numa-plan show --json (on stdin) says, as the samples metrics must give (prom-values'
# canonical form): per node, per swap area, per VM with a name of its own.
expected_from_show() {
	jq -r '
		(.nodes[] | "numasafe_node_headroom_bytes{node=\"\(.node)\"} \(.headroom)",
			"numasafe_node_free_bytes{node=\"\(.node)\"} \(.mem_free)",
			"numasafe_node_watermark_high_bytes{node=\"\(.node)\"} \(.wmark_high)",
			"numasafe_node_reserve_bytes{node=\"\(.node)\"} \(.reserve)",
			"numasafe_node_memory_bytes{node=\"\(.node)\"} \(.mem_total)"),
		(if .host.numa_balancing == null then empty
		 else "numasafe_numa_balancing_enabled \(if .host.numa_balancing > 0 then 1 else 0 end)" end),
		(.swap[] | "numasafe_swap_size_bytes{area=\(.path | tojson)} \(.size)",
			"numasafe_swap_used_bytes{area=\(.path | tojson)} \(.used)"),
		"numasafe_vms{domain=\"true\"} \([.vms[] | select(.domain)] | length)",
		"numasafe_vms{domain=\"false\"} \([.vms[] | select(.domain | not)] | length)",
		"numasafe_vms_unlabelled \([.vms[] | select(.name | startswith("pid "))] | length)",
		(.vms[] | select(.name | startswith("pid ") | not) |
			(if .vcpus == null then empty
			 else "numasafe_vm_vcpus{domain=\"\(.domain)\",vm=\(.name | tojson)} \(.vcpus)" end),
			(if .memory == null then empty else
				(. as $v | .memory[] | "numasafe_vm_memory_bytes{domain=\"\($v.domain)\",node=\"\(.node)\",vm=\($v.name | tojson)} \(.bytes)"),
				"numasafe_vm_locality_ratio{domain=\"\(.domain)\",vm=\(.name | tojson)} \(.locality_ratio)",
				"numasafe_vm_local{domain=\"\(.domain)\",vm=\(.name | tojson)} \(if .local then 1 else 0 end)"
			 end))
	' | sort
}

# The samples of the metrics in FILE that expected_from_show covers.
covered() {
	prom_values --prefix numasafe_ "$1" | grep -E '^numasafe_(node_|numa_balancing|swap_|vms|vm_vcpus|vm_memory|vm_locality|vm_local)' | sort
}

@test "metrics: promtool accepts the output, on this host and on fixture trees" {
	require_promtool
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0.2
	assert_success
	promtool check metrics <<<"$output" || fail "promtool: $(promtool check metrics <<<"$output" 2>&1)"
	grep -q '^# TYPE numasafe_node_headroom_bytes gauge$' <<<"$output"
	grep -q '^# HELP numasafe_node_headroom_bytes ' <<<"$output"
	for f in plan2 qemu1 lab2 lab4 host1; do
		run --separate-stderr "$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/$f" --sample 0
		assert_success
		run promtool check metrics <<<"$output"
		assert_success
	done
}

@test "metrics on fixture trees: every value is numa-plan show --json's" {
	local f out exp
	for f in plan2 qemu1 lab2 lab4; do
		out=$BATS_TEST_TMPDIR/$f.prom
		"$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/$f" --sample 0 >"$out"
		exp=$("$NS_BIN/numa-plan" show --root "$NS_TOP/tests/fixtures/$f" --json | expected_from_show)
		[ "$(wc -l <<<"$exp")" -gt 10 ] || fail "$f: show gave too little to compare: $exp"
		run diff <(echo "$exp") <(covered "$out")
		[ "$status" -eq 0 ] || fail "$f: show (<) and metrics (>) differ: $output"
	done
	# plan2 has VMs: the comparison covered them, and the unnamed QEMU (pid 800) is counted, not labelled
	grep -qF 'numasafe_vm_memory_bytes{domain="false",node="1",vm="web"} 536870912' <(covered "$BATS_TEST_TMPDIR/plan2.prom")
	grep -qx 'numasafe_vms_unlabelled 1' <(covered "$BATS_TEST_TMPDIR/plan2.prom")
	! grep -q '800' <(grep -v '^#' "$BATS_TEST_TMPDIR/plan2.prom")
}

@test "metrics --reserve: the headroom of numa-plan show --reserve" {
	local exp
	"$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/plan2" --sample 0 --reserve 1G >"$BATS_TEST_TMPDIR/m"
	exp=$("$NS_BIN/numa-plan" show --root "$NS_TOP/tests/fixtures/plan2" --reserve 1G --json | expected_from_show)
	run diff <(grep headroom <<<"$exp") <(covered "$BATS_TEST_TMPDIR/m" | grep headroom)
	assert_success
	grep -qx 'numasafe_node_headroom_bytes{node="1"} 2122907648' <(covered "$BATS_TEST_TMPDIR/m")
}

@test "node_exporter's textfile collector serves the fixture's metrics with the same values" {
	local dir=$BATS_TEST_TMPDIR/textfile exp
	mkdir "$dir"
	"$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/plan2" --sample 0 -o "$dir/numasafe.prom"
	exporter_start "$dir"
	curl -sf "$EXPORTER_URL" >"$BATS_TEST_TMPDIR/scraped"
	grep -qx 'node_textfile_scrape_error 0' "$BATS_TEST_TMPDIR/scraped" || fail "the collector refused the file: $(grep textfile "$BATS_TEST_TMPDIR/scraped")"
	exp=$("$NS_BIN/numa-plan" show --root "$NS_TOP/tests/fixtures/plan2" --json | expected_from_show)
	run diff <(echo "$exp") <(covered "$BATS_TEST_TMPDIR/scraped")
	[ "$status" -eq 0 ] || fail "show (<) and the exporter (>) differ: $output"
	# the HELP text made it through
	grep -q '^# HELP numasafe_vm_locality_ratio Share of the VM' "$BATS_TEST_TMPDIR/scraped"
}

@test "node_exporter serves this host's metrics: nodes as show has them, a bare QEMU by name with its memory and vCPU wait" {
	local dir=$BATS_TEST_TMPDIR/textfile show m s f h r
	mkdir "$dir"
	qemu_start t1 2
	qemu_start "" 1
	sleep 1 # QEMU's own start-up allocations done
	"$NS_BIN/numa-plan" metrics --sample 0.5 -o "$dir/numasafe.prom"
	show=$("$NS_BIN/numa-plan" show --json)
	exporter_start "$dir"
	curl -sf "$EXPORTER_URL" | prom_values --prefix numasafe_ - >"$BATS_TEST_TMPDIR/scraped"
	# free memory moves between two readings on a busy host: what does not move is compared
	# exactly, and the headroom must be the documented rule over the run's own numbers
	for id in $(jq '.nodes[].node' <<<"$show"); do
		grep -qx "numasafe_node_memory_bytes{node=\"$id\"} $(jq ".nodes[] | select(.node == $id) | .mem_total" <<<"$show")" "$BATS_TEST_TMPDIR/scraped" ||
			fail "node $id: total memory differs from show's"
		grep -qx "numasafe_node_watermark_high_bytes{node=\"$id\"} $(jq ".nodes[] | select(.node == $id) | .wmark_high" <<<"$show")" "$BATS_TEST_TMPDIR/scraped" ||
			fail "node $id: high watermark differs from show's"
		grep -qx "numasafe_node_reserve_bytes{node=\"$id\"} $(jq ".nodes[] | select(.node == $id) | .reserve" <<<"$show")" "$BATS_TEST_TMPDIR/scraped" ||
			fail "node $id: reserve differs from show's"
		m=$(sed -n "s/^numasafe_node_headroom_bytes{node=\"$id\"} //p" "$BATS_TEST_TMPDIR/scraped")
		f=$(sed -n "s/^numasafe_node_free_bytes{node=\"$id\"} //p" "$BATS_TEST_TMPDIR/scraped")
		h=$(sed -n "s/^numasafe_node_watermark_high_bytes{node=\"$id\"} //p" "$BATS_TEST_TMPDIR/scraped")
		r=$(sed -n "s/^numasafe_node_reserve_bytes{node=\"$id\"} //p" "$BATS_TEST_TMPDIR/scraped")
		jq -en --argjson m "$m" --argjson f "$f" --argjson h "$h" --argjson r "$r" \
			'$m == ([$f - $h - $r, 0] | max)' >/dev/null || fail "node $id: headroom $m, free $f, high $h, reserve $r"
	done
	grep -qx 'numasafe_vm_vcpus{domain="false",vm="t1"} 2' "$BATS_TEST_TMPDIR/scraped" ||
		fail "t1's vCPUs: $(grep t1 "$BATS_TEST_TMPDIR/scraped")"
	m=$(sed -n 's/^numasafe_vm_memory_bytes{domain="false",node="0",vm="t1"} //p' "$BATS_TEST_TMPDIR/scraped")
	s=$(jq '.vms[] | select(.name == "t1") | .memory[] | select(.node == 0) | .bytes' <<<"$show")
	[ -n "$m" ] && [ -n "$s" ] || fail "t1's memory: metrics '$m', show '$s'"
	jq -en --argjson m "$m" --argjson s "$s" '$s > 0 and (($m - $s) | fabs) <= $s / 10' >/dev/null ||
		fail "t1: $m bytes on node 0 in metrics, $s in show"
	grep -qx 'numasafe_vm_locality_ratio{domain="false",vm="t1"} 1' "$BATS_TEST_TMPDIR/scraped"
	m=$(sed -n 's/^numasafe_vm_vcpu_wait_ratio{domain="false",vm="t1"} //p' "$BATS_TEST_TMPDIR/scraped")
	jq -en --argjson m "${m:-null}" '$m != null and $m >= 0 and $m <= 1' >/dev/null || fail "t1's vCPU wait ratio: '$m'"
	# the unnamed QEMU is counted, never labelled by its pid
	grep -q '^numasafe_vms_unlabelled [1-9]' "$BATS_TEST_TMPDIR/scraped"
	! grep -q "\"pid $QEMU_PID\"" "$BATS_TEST_TMPDIR/scraped"
}

@test "two VMs with one name are left out, not merged into one series" {
	require_promtool
	qemu_start twin 1
	qemu_start twin 1
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0.1
	assert_success
	promtool check metrics <<<"$output"
	! grep -q 'vm="twin"' <<<"$output"
	run grep -c '^numasafe_vms_unlabelled [2-9]' <<<"$output"
	assert_output 1
}

@test "last runs: timestamp, exit code and reason of each changing command, through the exporter" {
	local dir=$BATS_TEST_TMPDIR/textfile pid=999999 t
	while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
	mkdir "$dir"
	run "$NS_BIN/numa-migrate" --no-log --to 0 "$pid"
	[ "$status" -eq 1 ]
	run "$NS_BIN/fast-swapoff" --no-log /dev/null
	[ "$status" -eq 1 ]
	"$NS_BIN/numa-plan" metrics --sample 0 -o "$dir/numasafe.prom"
	exporter_start "$dir"
	curl -sf "$EXPORTER_URL" | prom_values --prefix numasafe_last_run - >"$BATS_TEST_TMPDIR/scraped"
	grep -qx 'numasafe_last_run_exit_code{command="numa-migrate",reason="no-such-process"} 1' "$BATS_TEST_TMPDIR/scraped"
	grep -qx 'numasafe_last_run_exit_code{command="fast-swapoff",reason="not-swap"} 1' "$BATS_TEST_TMPDIR/scraped"
	! grep -q 'command="vm-pin"' "$BATS_TEST_TMPDIR/scraped" # never ran: no series
	t=$(sed -n 's/^numasafe_last_run_timestamp_seconds{command="numa-migrate"} //p' "$BATS_TEST_TMPDIR/scraped")
	jq -en --argjson t "$t" --slurpfile r "$STATE/numa-migrate.json" '$t == $r[0].time_s' >/dev/null ||
		fail "timestamp $t, record $(cat "$STATE/numa-migrate.json")"
	grep -q '^numasafe_last_run_duration_seconds{command="fast-swapoff"} ' "$BATS_TEST_TMPDIR/scraped"
}

@test "a last-run record that cannot be trusted stops metrics; -o leaves the old file" {
	local out=$BATS_TEST_TMPDIR/numasafe.prom
	echo old >"$out"
	mkdir -p "$STATE"
	echo '{"version":1,"kind":"numasafe-last-run","command":"vm-pin","code":7}' >"$STATE/vm-pin.json"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0 -o "$out"
	[ "$status" -eq 1 ] || fail "exit $status"
	assert_equal "$stderr" "numa-plan: last run of vm-pin: $STATE/vm-pin.json: code 7 is not an exit code of numasafe(7)"
	assert_equal "$(cat "$out")" old
	rm "$STATE/vm-pin.json"
	chmod 0777 "$STATE"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "numa-plan: last run of numa-migrate: $STATE: writable by others (mode 0777); refusing it"
	[ -z "$output" ]
}

@test "metrics -o: replaced atomically, root's 0644 whatever was there, a symlink there replaced and not followed" {
	local dir=$BATS_TEST_TMPDIR/out
	mkdir "$dir"
	echo target >"$dir/target"
	ln -s "$dir/target" "$dir/numasafe.prom"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/plan2" --sample 0 -o "$dir/numasafe.prom"
	assert_success
	[ -z "$output" ] || fail "-o wrote to stdout too: $output"
	assert_equal "$(cat "$dir/target")" target
	[ -f "$dir/numasafe.prom" ] && [ ! -L "$dir/numasafe.prom" ]
	assert_equal "$(stat -c %a "$dir/numasafe.prom")" 644
	# the file's mode is the command's to set: an existing file lends nothing
	chmod 0600 "$dir/numasafe.prom"
	"$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/qemu1" --sample 0 -o "$dir/numasafe.prom"
	assert_equal "$(stat -c %a "$dir/numasafe.prom")" 644
	grep -q 'vm="web1"' "$dir/numasafe.prom"
	# nothing else left in the directory (no temporary file)
	assert_equal "$(ls -A "$dir" | sort | tr '\n' ' ')" "numasafe.prom target "
	# a run that fails leaves the file as it was
	run --separate-stderr "$NS_BIN/numa-plan" metrics --root "$BATS_TEST_TMPDIR/nonexistent" --sample 0 -o "$dir/numasafe.prom"
	assert_failure
	grep -q 'vm="web1"' "$dir/numasafe.prom"
}

@test "metrics: usage errors (--json, a bad --sample, an argument) say what, exit 2" {
	for args in "--json" "--sample 0.001" "--sample soon" "--sample 4000" "1" "-o ''"; do
		eval "set -- $args"
		run --separate-stderr "$NS_BIN/numa-plan" metrics "$@"
		[ "$status" -eq 2 ] || fail "metrics $args: exit $status"
		[ "${#stderr_lines[@]}" -eq 2 ] || fail "metrics $args: stderr: $stderr"
		[ "${stderr_lines[1]}" = "Try 'numa-plan --help' for more information." ] || fail "metrics $args: $stderr"
	done
	run --separate-stderr "$NS_BIN/numa-plan" metrics --json
	assert_equal "${stderr_lines[0]}" "numa-plan: metrics: --json: metrics are printed in Prometheus' text format only"
	# --json on the line: the usage error is a numasafe-error document, as for every command
	jq -e '.kind == "numasafe-error" and .code == 2 and .reason == "usage"' <<<"$output"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --help
	assert_success
	assert_output --partial "Usage: numa-plan metrics"
	assert_output --partial "--sample"
}

@test "metrics --sample 0: no vCPU wait measured, no wait series" {
	run --separate-stderr "$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/qemu1" --sample 0
	assert_success
	! grep -q '^numasafe_vm_vcpu_wait_ratio{' <<<"$output"
	! grep -q '^numasafe_vcpu_wait_sample_seconds ' <<<"$output"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --root "$NS_TOP/tests/fixtures/qemu1" --sample 0.05
	assert_success
	grep -qx 'numasafe_vm_vcpu_wait_ratio{vm="web1",domain="true"} 0' <<<"$output"
}
