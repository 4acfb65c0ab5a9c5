#!/usr/bin/env bats
# The library's view of the host against a real multi-node kernel (run inside the lab guest):
# topology and free memory against numactl, a bound process against numastat, swap types
# against pagemap read directly.

load ../helpers

setup() {
	require_root
	require_nodes "${LAB_NODES:-2}"
	oom_mark
}

teardown() {
	standin_stop
	swapoff -a 2>/dev/null || true
	if [ -e /sys/block/zram0 ]; then
		echo 1 >/sys/block/zram0/reset 2>/dev/null || true
	fi
}

# bats test_tags=nodes4
@test "lab: nodes, CPUs and per-node free memory agree with numactl -H" {
	run "$NS_BIN/numa-plan" show --json
	assert_success
	json=$output
	hw=$(numactl -H)
	assert_equal "$(jq '.nodes | length' <<<"$json")" "$(sed -n 's/^available: \([0-9]*\) nodes.*/\1/p' <<<"$hw")"
	for id in $(jq '.nodes[].node' <<<"$json"); do
		free=$(sed -n "s/^node $id free: \([0-9]*\) MB/\1/p" <<<"$hw")
		ours=$(jq ".nodes[] | select(.node == $id) | .mem_free / 1048576 | floor" <<<"$json")
		# both are snapshots of a live, mostly idle guest: allow 16 MiB of drift
		[ $((ours - free)) -le 16 ] && [ $((free - ours)) -le 16 ] || fail "node $id free: ours $ours, numactl $free"
		cpus=$(sed -n "s/^node $id cpus: //p" <<<"$hw" | tr ' ' '\n' | grep . | paste -sd, -)
		assert_equal "$(jq -r ".nodes[] | select(.node == $id) | .cpus | map(tostring) | join(\",\")" <<<"$json")" "$cpus"
		dist=$(sed -n "s/^ *$id: *//p" <<<"$hw" | sed "s/ *$//" | tr -s " " ",")
		assert_equal "$(jq -r ".nodes[] | select(.node == $id) | .distances | map(.distance | tostring) | join(\",\")" <<<"$json")" "$dist"
	done
}

# bats test_tags=nodes4
@test "lab: a process bound to the last node shows its pages there (numastat agrees)" {
	last=$((LAB_NODES - 1))
	STANDIN_WRAP=(numactl --membind="$last")
	standin_start --size 32M
	run "$NS_BIN/numa-plan" show --json "$STANDIN_PID"
	assert_success
	jq -e ".process.memory[] | select(.node == $last) | .anon >= 33554432" <<<"$output"
	jq -e "[.process.memory[] | select(.node != $last) | .anon] | add < 1048576" <<<"$output"
	theirs=$(numastat -p "$STANDIN_PID" | awk '/^Total/ {print int($(NF-1))}')
	[ "$theirs" -ge 32 ] || fail "numastat says node $last holds $theirs MiB"
	standin_verify
}

# bats test_tags=nodes4
@test "lab: an interleaved process is spread evenly over every node" {
	STANDIN_WRAP=(numactl --interleave=all)
	standin_start --size 64M
	run "$NS_BIN/numa-plan" show --json "$STANDIN_PID"
	assert_success
	share=$((64 / LAB_NODES))
	for n in $(seq 0 $((LAB_NODES - 1))); do
		mib=$(jq ".process.memory[] | select(.node == $n) | .anon / 1048576 | floor" <<<"$output")
		[ "$mib" -ge $((share - 2)) ] && [ "$mib" -le $((share + 3)) ] || fail "node $n has $mib MiB, want ~$share"
	done
}

@test "lab: pages pushed to swap carry the swap area's type" {
	require_swap_disk
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	standin_start --size 32M
	standin_pageout
	independent=$(pagemap_swap_type "$STANDIN_PID")
	assert_equal "$independent" 0
	run "$NS_BIN/numa-plan" show --swap-types --json "$STANDIN_PID"
	assert_success
	jq -e '.swap[] | select(.path == "/dev/vda") | .type == 0 and .used >= 30000000' <<<"$output"
	vmswap=$(awk '/^VmSwap/ {print $2 * 1024}' "/proc/$STANDIN_PID/status")
	jq -e ".process.swap_bytes == $vmswap and .process.swap_bytes >= 30000000" <<<"$output"
	standin_verify
	assert_no_oom
}

@test "lab: after an earlier area is swapped off, the type is not the line index" {
	require_swap_disk
	[ -b /dev/vdb ] || ns_skip "needs the lab's second swap disk /dev/vdb"
	mkswap /dev/vda >/dev/null
	mkswap /dev/vdb >/dev/null
	swapon /dev/vda # type 0
	swapon /dev/vdb # type 1
	swapoff /dev/vda
	run awk 'NR > 1 {print $1}' /proc/swaps
	assert_output /dev/vdb # now on line 0
	standin_start --size 32M
	standin_pageout
	assert_equal "$(pagemap_swap_type "$STANDIN_PID")" 1
	run "$NS_BIN/numa-plan" show --swap-types --json
	assert_success
	jq -e '.swap | length == 1 and .[0].path == "/dev/vdb" and .[0].type == 1' <<<"$output"
	run "$NS_BIN/numa-plan" show --swap-types
	assert_line --regexp '^/dev/vdb +partition .* 1$'
	standin_verify
}

@test "lab: when pagemap evidence is ambiguous nothing is guessed; the content probe settles it" {
	require_swap_disk
	[ -b /dev/vdb ] || ns_skip "needs the lab's second swap disk /dev/vdb"
	modprobe zram num_devices=1 || ns_skip "needs the zram module"
	echo 64M >/sys/block/zram0/disksize
	mkswap /dev/vda >/dev/null
	mkswap /dev/vdb >/dev/null
	mkswap /dev/zram0 >/dev/null
	swapon -p 1 /dev/vda  # type 0
	swapon -p 5 /dev/vdb  # type 1
	# shared memory on vdb: counted in Used, invisible in pagemap (swapped shmem is "not present")
	standin_start --size 16M --shared
	STANDIN_PIDS=$STANDIN_PID
	standin_pageout
	swapon -p 10 /dev/zram0 # type 2, now preferred
	swapoff /dev/vda
	standin_start --size 16M --seed 7
	standin_pageout
	assert_equal "$(pagemap_swap_type "$STANDIN_PID")" 2
	run awk 'NR > 1 && $4 > 0 {print $1}' /proc/swaps
	assert_output $'/dev/vdb\n/dev/zram0' # both in use, lines 0 and 1
	run "$NS_BIN/numa-plan" show --swap-types --json
	assert_success
	jq -e '[.swap[].type] == [null, null]' <<<"$output"
	run "$NS_BIN/numa-plan" show --swap-probe --json
	assert_success
	jq -e '.swap[] | select(.path == "/dev/zram0") | .type == 2 and .type_how == "content"' <<<"$output"
	standin_verify
}
