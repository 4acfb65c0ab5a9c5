#!/usr/bin/env bats
# numa-plan show on this host, checked against numactl and numastat, and on fixture trees.

load helpers

teardown() { standin_stop; }

@test "show: node count, CPUs and sizes agree with numactl -H" {
	command -v numactl >/dev/null || ns_skip "needs numactl"
	run "$NS_BIN/numa-plan" show --json
	assert_success
	json=$output
	nodes=$(numactl -H | sed -n 's/^available: \([0-9]*\) nodes.*/\1/p')
	assert_equal "$(jq '.nodes | length' <<<"$json")" "$nodes"
	for id in $(jq '.nodes[].id' <<<"$json"); do
		size=$(numactl -H | sed -n "s/^node $id size: \([0-9]*\) MB/\1/p")
		ours=$(jq ".nodes[] | select(.id == $id) | .mem_total / 1048576 | floor" <<<"$json")
		[ $((ours - size)) -le 1 ] && [ $((size - ours)) -le 1 ] || fail "node $id: $ours MiB vs numactl $size MB"
		cpus=$(numactl -H | sed -n "s/^node $id cpus: //p" | tr ' ' '\n' | grep . | paste -sd, -)
		assert_equal "$(jq -r ".nodes[] | select(.id == $id) | .cpus | map(tostring) | join(\",\")" <<<"$json")" "$cpus"
	done
}

@test "show --json has the documented shape, version 1" {
	run "$NS_BIN/numa-plan" --json
	assert_success
	jq -e '.version == 1 and (.host | has("mem_total") and has("mem_available") and has("swap_free") and has("numa_balancing"))
		and (.nodes | length >= 1)
		and (.nodes[0] | has("id") and has("cpus") and has("mem_free") and has("wmark_high") and has("reserve") and has("headroom") and has("hugepages") and has("distances"))
		and (.swap | type == "array") and has("psi") and .process == null' <<<"$output"
}

@test "show: headroom is free minus high watermark minus reserve" {
	run "$NS_BIN/numa-plan" show --json --reserve 100M
	assert_success
	jq -e '.nodes[] | .reserve == 104857600 and .headroom == ([.mem_free - .wmark_high - .reserve, 0] | max)' <<<"$output"
}

@test "show PID: a 64 MiB stand-in's memory, agreeing with numastat -p" {
	standin_start --size 64M
	run "$NS_BIN/numa-plan" show --json "$STANDIN_PID"
	assert_success
	jq -e ".process.pid == $STANDIN_PID and .process.comm == \"standin\" and .process.total.anon >= 67108864" <<<"$output"
	ours=$(jq '[.process.nodes[].total] | add / 1048576 | floor' <<<"$output")
	theirs=$(numastat -p "$STANDIN_PID" | awk '/^Total/ {print int($NF)}')
	[ "$ours" -ge $((theirs - 1)) ] && [ "$ours" -le $((theirs + 1)) ] || fail "ours $ours MiB, numastat $theirs MiB"
	run "$NS_BIN/numa-plan" show "$STANDIN_PID"
	assert_success
	assert_output --partial "process $STANDIN_PID (standin): memory per node in MiB"
	assert_line --regexp '^anon +6[4-9]\.[0-9]{2} '
	standin_verify
}

@test "show: a process that does not exist is an error, exit 1" {
	pid=999999
	while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
	run --separate-stderr "$NS_BIN/numa-plan" show "$pid"
	assert_failure 1
	assert_equal "$stderr" "numa-plan: pid $pid: No such process"
	[ -z "$output" ]
}

@test "show: a kernel thread has no memory to show, exit 1" {
	run --separate-stderr "$NS_BIN/numa-plan" show 2
	assert_failure 1
	assert_equal "$stderr" "numa-plan: pid 2: a kernel thread has no memory to show"
}

@test "show --domain: an unknown domain is an error, exit 1" {
	run --separate-stderr "$NS_BIN/numa-plan" show -c test:///default -d no-such-domain
	assert_failure 1
	assert_equal "$stderr" "numa-plan: domain no-such-domain: no such domain"
	[ -z "$output" ]
}

@test "show --domain: a domain with no local QEMU process says so, exit 1" {
	run --separate-stderr "$NS_BIN/numa-plan" show -c test:///default -d test
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "numa-plan: domain test: no QEMU pid file"* ]] || fail "stderr: $stderr"
}

@test "show on a 2-node fixture: exact values, NUMA balancing warning" {
	run "$NS_BIN/numa-plan" show --root "$NS_TOP/tests/fixtures/synth2" --json 4242
	assert_success
	jq -e '.nodes | length == 2' <<<"$output"
	jq -e '.nodes[1].cpus == [2,3] and .nodes[1].mem_free == 3221225472 and .nodes[1].wmark_high == 24576000' <<<"$output"
	jq -e '.nodes[0].distances == [10,21] and .host.numa_balancing == 1' <<<"$output"
	jq -e '.nodes[1].headroom == 3221225472 - 24576000 - 268435456' <<<"$output"
	jq -e '.swap | length == 2 and .[1].path == "/var/swap file" and .[1].priority == 5 and .[1].type == null' <<<"$output"
	jq -e '.psi.some.avg10 == 1.5 and .psi.full.total_us == 65432' <<<"$output"
	jq -e '.process.nodes[1].hugetlb == 6291456 and .process.total.shmem == (10 + 1024) * 4096' <<<"$output"
	run "$NS_BIN/numa-plan" show --root "$NS_TOP/tests/fixtures/synth2"
	assert_success
	assert_line "automatic NUMA balancing: ON (it moves pages and fights pinning)"
	assert_line --regexp '^1 +2-3 +4G +3G '
	assert_output --partial "distances:"
}

@test "show where PSI is absent says so instead of failing" {
	tree=$BATS_TEST_TMPDIR/nopsi
	cp -r "$NS_TOP/tests/fixtures/synth2" "$tree"
	rm "$tree/proc/pressure/memory"
	run "$NS_BIN/numa-plan" show --root "$tree"
	assert_success
	assert_line "memory pressure (PSI): not available (kernel without CONFIG_PSI)"
	run "$NS_BIN/numa-plan" show --root "$tree" --json
	jq -e '.psi == null' <<<"$output"
}

@test "show: an unreadable tree is an error, exit 1" {
	run --separate-stderr "$NS_BIN/numa-plan" show --root "$BATS_TEST_TMPDIR/empty"
	assert_failure 1
	assert_equal "$stderr" "numa-plan: reading the host's NUMA topology: No such file or directory"
}
