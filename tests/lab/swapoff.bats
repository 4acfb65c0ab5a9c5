#!/usr/bin/env bats
# fast-swapoff against the real kernel in the lab: stand-ins pushed to swap with MADV_PAGEOUT,
# paged back in, the area swapped off; checked with /proc/swaps, VmSwap, the stand-ins' own
# data check and the kernel log.

load ../helpers

setup() {
	require_root
	require_swap_disk
	oom_mark
	PIDS=()
}

teardown() {
	local p
	[ -n "${STOPPED:-}" ] && kill -CONT "$STOPPED" 2>/dev/null || true
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "${SHMID:-}" ] && "$NS_HELPERS/shmseg" rm "$SHMID" 2>/dev/null || true
	rm -rf /dev/shm/nstest
	standin_stop
	swapoff -a 2>/dev/null || true
	[ -e /sys/block/zram0 ] && echo 1 >/sys/block/zram0/reset 2>/dev/null || true
	[ -d /sys/fs/cgroup/nstest ] && rmdir /sys/fs/cgroup/nstest 2>/dev/null || true
}

swapped_kb() { awk '/^VmSwap/ {print $2}' "/proc/$1/status"; }
active() { awk -v d="$1" 'NR > 1 && $1 == d {found = 1} END {exit !found}' /proc/swaps; }
# (a bare "! active" cannot fail a bats test: errexit ignores negated commands)
inactive() { if active "$1"; then fail "$1 is still an active swap area"; fi; }

# The area is off and every stand-in has all of its memory back, intact; no OOM kill.
all_back_intact() {
	local p
	inactive /dev/vda
	for p in "${PIDS[@]}"; do
		assert_equal "$(swapped_kb "$p")" 0
		standin_verify "$p"
	done
	assert_no_oom
}

# Start a stand-in and push it to swap; its pid goes to PIDS.
swapped_standin() { # SIZE [SEED]
	standin_start --size "$1" --seed "${2:-1}"
	standin_pageout
	PIDS+=("$STANDIN_PID")
	STANDIN_PIDS="${STANDIN_PIDS:-} $STANDIN_PID"
}

# Sizes: tens of MiB where the size proves nothing; a test that must catch a run under way,
# or fill memory, says why its size and rate are what they are.

@test "lab: several stand-ins swapped out -> paged in, area off, VmSwap 0, data intact, no OOM" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 16M 1
	swapped_standin 16M 2
	swapped_standin 16M 3
	for p in "${PIDS[@]}"; do [ "$(swapped_kb "$p")" -ge 14000 ] || fail "pid $p did not swap"; done
	run "$NS_BIN/fast-swapoff" /dev/vda
	assert_success
	assert_line --partial "verdict: safe"
	assert_line "/dev/vda: swapped off"
	all_back_intact
}

# A stand-in in cgroup nstest whose swapped pages have also left memory: MADV_PAGEOUT leaves
# them in the swap cache until the write ends, memory.reclaim then drops them, so reading them
# back means reading the device (the case an operator has: VMs swapped out long ago).
evicted_standin() { # SIZE SEED
	local ready="$BATS_TEST_TMPDIR/ev.$2" i
	mkdir -p /sys/fs/cgroup/nstest
	(echo $BASHPID >/sys/fs/cgroup/nstest/cgroup.procs && exec "$NS_HELPERS/standin" --size "$1" --seed "$2" \
		--ready "$ready" --report "$BATS_TEST_TMPDIR/report") 3>&- &
	for i in $(seq 1 300); do [ -s "$ready" ] && break; sleep 0.1; done
	STANDIN_PID=$(cat "$ready")
	PIDS+=("$STANDIN_PID")
	standin_pageout
}

swapcached_kb() { awk '/^SwapCached/ {print $2}' /proc/meminfo; }

evict() {
	local i
	for i in $(seq 1 20); do
		echo 512M >/sys/fs/cgroup/nstest/memory.reclaim 2>/dev/null || true
		[ "$(swapcached_kb)" -lt 8192 ] && return 0
		sleep 0.5
	done
	fail "swapped pages stayed in the swap cache: $(swapcached_kb) kB"
}

@test "lab: pages gone from memory come back with read-ahead (and one by one with --readahead 0), data intact" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	evicted_standin 24M 1
	evicted_standin 24M 2
	evict
	for p in "${PIDS[@]}"; do [ "$(swapped_kb "$p")" -ge 20000 ] || fail "pid $p did not swap"; done
	run "$NS_BIN/fast-swapoff" --json --readahead 0 --pid "${PIDS[0]}" /dev/vda
	assert_success
	jq -e '.areas[0].readahead == 0 and .areas[0].back >= 20 * 1048576' <<<"$output"
	assert_equal "$(swapped_kb "${PIDS[0]}")" 0
	[ "$(swapped_kb "${PIDS[1]}")" -ge 20000 ] || fail "the other process was paged in too"
	run --separate-stderr "$NS_BIN/fast-swapoff" --json /dev/vda
	assert_success
	[ -z "$stderr" ] || fail "$stderr"
	# what was asked ahead covers what was still swapped, and it all came back
	jq -e '.areas[0].readahead >= 20 * 1048576 and .areas[0].back >= 20 * 1048576 and .areas[0].swapped_off' <<<"$output"
	all_back_intact
}

# Workers: with two, a large process is cut into 64 MiB pieces and shared with the small ones;
# every page comes back and the data checks out, with two workers and with one.
@test "lab: --jobs 2 shares one large and two small evicted stand-ins; --jobs 1 the same; data intact" {
	local jobs p
	for jobs in 2 1; do
		mkswap /dev/vda >/dev/null
		swapon /dev/vda
		PIDS=()
		# seeds of their own each round: evicted_standin waits on a ready file named by seed;
		# the large one is 96 MiB: two pieces
		evicted_standin 96M $((jobs * 10 + 1))
		evicted_standin 16M $((jobs * 10 + 2))
		evicted_standin 16M $((jobs * 10 + 3))
		evict
		run --separate-stderr "$NS_BIN/fast-swapoff" --json --jobs "$jobs" /dev/vda
		assert_success
		jq -e --argjson j "$jobs" '.areas[0].jobs == $j and .areas[0].back >= 120 * 1048576 and .areas[0].swapped_off and
			([.areas[0].processes[] | select(.back < .bytes)] == [])' <<<"$output" || fail "--jobs $jobs: $output"
		all_back_intact
		for p in "${PIDS[@]}"; do kill "$p"; done
		for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
	done
}

# Pages still in the swap cache are in memory already: swapoff(2) maps them without a read, so
# none is faulted in first (that doubled the work); what is reported says so.
@test "lab: pages still in the swap cache are left to swapoff(2): nothing read, area off, VmSwap 0, data intact" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 24M 1
	swapped_standin 24M 2
	cached=$(swapcached_kb)
	[ "$cached" -ge 45000 ] || fail "only $cached kB still in the swap cache"
	run --separate-stderr "$NS_BIN/fast-swapoff" -n --json /dev/vda
	assert_success
	# the dry run gives the real run's verdict: no process scanned, nothing to read
	jq -e '.areas[0].cached_only and .areas[0].uncached <= 16 * 1048576 and .areas[0].processes == [] and
		.areas[0].verdict == "safe" and .areas[0].outcome == "checked"' <<<"$output" || fail "$output"
	run --separate-stderr "$NS_BIN/fast-swapoff" --json /dev/vda
	assert_success
	jq -e '.areas[0].left_in_swap_cache >= 45 * 1048576 and .areas[0].back == 0 and .areas[0].swapped_off and
		.areas[0].cached_only' <<<"$output" || fail "$output"
	all_back_intact
}

# What is in the swap cache is charged to its cgroup already: swapoff(2) maps it back without
# a new charge, so a cgroup with no room left is no reason to refuse (the kernel judges: no OOM
# kill, memory.events oom_kill stays 0, the data is intact).
@test "lab: pages in the swap cache of a cgroup at its limit go back without a charge: no refusal, no OOM kill" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	evicted_standin 32M 1
	cached=$(swapcached_kb)
	[ "$cached" -ge 25000 ] || fail "only $cached kB still in the swap cache"
	echo $(($(cat /sys/fs/cgroup/nstest/memory.current) + 4 * 1048576)) >/sys/fs/cgroup/nstest/memory.max
	run --separate-stderr "$NS_BIN/fast-swapoff" --json /dev/vda
	echo max >/sys/fs/cgroup/nstest/memory.max
	assert_success
	jq -e '.areas[0].cached_only and .areas[0].swapped_off and .areas[0].back == 0' <<<"$output" || fail "$output"
	assert_equal "$(awk '$1 == "oom_kill" {print $2}' /sys/fs/cgroup/nstest/memory.events)" 0
	all_back_intact
}

# bats test_tags=any-kernel
@test "lab: refusal when the memory to bring back would eat the reserve: exit 4, area on, all alive" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 16M
	run --separate-stderr "$NS_BIN/fast-swapoff" --reserve 99% /dev/vda
	assert_failure 4
	[[ "$stderr" == "fast-swapoff: /dev/vda: refused: "*" to bring back, "*" available with a "*" reserve: short by "* ]] || fail "$stderr"
	active /dev/vda
	[ "$(swapped_kb "$STANDIN_PID")" -ge 14000 ]
	kill -0 "$STANDIN_PID"
}

@test "lab: a cgroup whose memory.max cannot take its pages back is named and refused" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	mkdir /sys/fs/cgroup/nstest
	# start the stand-in inside the cgroup
	# 32 MiB: more to bring back than the 8 MiB of room below
	(echo $BASHPID >/sys/fs/cgroup/nstest/cgroup.procs && exec "$NS_HELPERS/standin" --size 32M \
		--ready "$BATS_TEST_TMPDIR/cg.ready" --report "$BATS_TEST_TMPDIR/report") 3>&- &
	for _ in $(seq 1 300); do [ -s "$BATS_TEST_TMPDIR/cg.ready" ] && break; sleep 0.1; done
	STANDIN_PID=$(cat "$BATS_TEST_TMPDIR/cg.ready")
	PIDS+=("$STANDIN_PID")
	standin_pageout
	# gone from memory, so coming back means new charges (cached pages are charged already)
	evict
	echo $(($(cat /sys/fs/cgroup/nstest/memory.current) + 8 * 1048576)) >/sys/fs/cgroup/nstest/memory.max
	run --separate-stderr "$NS_BIN/fast-swapoff" /dev/vda
	assert_failure 4
	[[ "$stderr" == "fast-swapoff: /dev/vda: refused: cgroup /nstest would need "*" back but has "*" of room"* ]] || fail "$stderr"
	active /dev/vda
	kill -0 "$STANDIN_PID"
	echo max >/sys/fs/cgroup/nstest/memory.max
	standin_verify
	standin_stop
}

@test "lab: --no-swapoff pages in and leaves the area on; --pid brings back only that process" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 16M 1
	swapped_standin 16M 2
	run "$NS_BIN/fast-swapoff" --pid "${PIDS[0]}" /dev/vda
	assert_success
	active /dev/vda
	assert_equal "$(swapped_kb "${PIDS[0]}")" 0
	[ "$(swapped_kb "${PIDS[1]}")" -ge 14000 ] || fail "the other process was paged in too"
	run "$NS_BIN/fast-swapoff" --no-swapoff /dev/vda
	assert_success
	active /dev/vda
	assert_equal "$(swapped_kb "${PIDS[1]}")" 0
	standin_verify "${PIDS[0]}"
	standin_verify "${PIDS[1]}"
}

@test "lab: two areas after an earlier one went off (type != line): only the named one is paged in and goes off" {
	[ -b /dev/vdb ] || ns_skip "needs the lab's second swap disk /dev/vdb"
	modprobe zram num_devices=1 || ns_skip "needs zram"
	echo 64M >/sys/block/zram0/disksize
	mkswap /dev/zram0 >/dev/null
	mkswap /dev/vda >/dev/null
	mkswap /dev/vdb >/dev/null
	swapon /dev/zram0       # type 0
	swapon -p 10 /dev/vdb   # type 1
	evicted_standin 16M 1   # -> vdb
	swapon -p 20 /dev/vda   # type 2
	evicted_standin 16M 2   # -> vda
	swapoff /dev/zram0      # now vdb is line 0 (type 1), vda line 1 (type 2)
	# gone from memory: pages in the swap cache would be left to swapoff(2) with no type needed
	evict
	run "$NS_BIN/fast-swapoff" --json /dev/vda
	assert_success
	jq -e '.areas[0].type == 2 and .areas[0].swapped_off == true' <<<"$output"
	inactive /dev/vda
	active /dev/vdb
	# nearly all of it came back; a few pages of this stand-in were seen (once in five runs)
	# on /dev/vdb instead, where the kernel still had a per-CPU swap cluster open
	[ "$(swapped_kb "${PIDS[1]}")" -lt 1024 ] || fail "pid ${PIDS[1]} still has $(swapped_kb "${PIDS[1]}") kB swapped"
	[ "$(swapped_kb "${PIDS[0]}")" -ge 14000 ] || fail "the process on /dev/vdb was paged in"
	standin_verify "${PIDS[0]}"
	standin_verify "${PIDS[1]}"
}

@test "lab: memory running short mid-way stops paging in: exit 5 (partway), area on, data intact" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	# gone from memory: pages still in the swap cache are left to swapoff(2), nothing to read;
	# 150 MiB at 20 MiB/s: still reading when the neighbour (260 MiB) has taken the room
	evicted_standin 150M 1
	evict
	avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
	# reserve leaves room for the stand-in, then a neighbour takes most of that room
	reserve=$((avail - 200))
	"$NS_BIN/fast-swapoff" --progress=json --rate 20M --reserve "${reserve}M" /dev/vda >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" &
	so=$!
	# the neighbour comes once paging in has begun: started after a fixed second, at load 15
	# it was there before the preflight (993 MiB available of ~1.2 GiB read just before):
	# refused, exit 4
	for _ in $(seq 1 300); do
		grep -q '"phase":"paging_in"' "$BATS_TEST_TMPDIR/err" && break
		kill -0 "$so" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '"phase":"paging_in"' "$BATS_TEST_TMPDIR/err" || fail "paging in never began: $(cat "$BATS_TEST_TMPDIR/err")"
	"$NS_HELPERS/standin" --size 260M --ready "$BATS_TEST_TMPDIR/hog" 3>&- &
	PIDS+=($!)
	rc=0
	wait "$so" || rc=$?
	[ "$rc" -eq 5 ] || fail "exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q "stopped: available memory fell to the reserve; the area stays on, what came back (.*) stays in" "$BATS_TEST_TMPDIR/err"
	active /dev/vda
	standin_verify
	assert_no_oom
}

@test "lab: a tmpfs file and a SysV segment pushed to swap come back intact; the area goes off" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	mkdir -p /sys/fs/cgroup/nstest
	echo 12M >/sys/fs/cgroup/nstest/memory.max
	mkdir -p /dev/shm/nstest
	# written from inside a tight cgroup, most of both goes to swap as it is written
	(echo $BASHPID >/sys/fs/cgroup/nstest/cgroup.procs &&
		exec "$NS_HELPERS/shmseg" file /dev/shm/nstest/f 32 7) 3>&-
	id=$( (echo $BASHPID >/sys/fs/cgroup/nstest/cgroup.procs && exec "$NS_HELPERS/shmseg" sysv 24 9) 3>&-)
	SHMID=$id
	swap_before=$(cat /sys/fs/cgroup/nstest/memory.swap.current)
	[ "$swap_before" -ge $((36 * 1048576)) ] || fail "only $swap_before bytes went to swap"
	seg_swap=$(awk -v id="$id" '$2 == id {print $16}' /proc/sysvipc/shm)
	[ "$seg_swap" -gt 0 ] || fail "the SysV segment did not swap ($seg_swap)"
	echo max >/sys/fs/cgroup/nstest/memory.max
	run "$NS_BIN/fast-swapoff" --json /dev/vda
	assert_success
	jq -e '.areas[0].shmem_back >= 36 * 1048576 and .areas[0].shmem_objects >= 2 and .areas[0].swapped_off' <<<"$output"
	inactive /dev/vda
	# checked before anything reads them again: nothing of theirs is left in swap
	assert_equal "$(awk -v id="$id" '$2 == id {print $16}' /proc/sysvipc/shm)" 0
	assert_equal "$(cat /sys/fs/cgroup/nstest/memory.swap.current)" 0
	run "$NS_HELPERS/shmseg" check-file /dev/shm/nstest/f 7
	assert_output ok
	run "$NS_HELPERS/shmseg" check-sysv "$id" 9
	assert_output ok
	"$NS_HELPERS/shmseg" rm "$id"
	rm -rf /dev/shm/nstest
	assert_no_oom
}

# fast-swapoff's pid once it has DIR open (its shmem walk is inside it).
walking() { # PID DIR
	local i
	for i in $(seq 1 600); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q " -> $2\$" && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# bats test_tags=any-kernel
@test "lab: a user flipping FIFOs and files in /dev/shm never stalls the shmem walk; the area goes off" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 16M 1
	mkdir /dev/shm/nstest
	chown nobody /dev/shm/nstest
	# few names, so each flips often: a walk that checks a name's type and then opens it
	# meets a FIFO where it saw a file, and waits in open for ever
	setpriv --reuid nobody --regid nogroup --clear-groups "$NS_HELPERS/shmseg" flip /dev/shm/nstest 4 3>&- &
	PIDS+=($!)
	for _ in $(seq 1 100); do [ -p /dev/shm/nstest/x3 ] || [ -p /dev/shm/nstest/f3 ] && break; sleep 0.1; done
	for i in 1 2 3 4 5; do
		# (SIGTERM alone did not end the old code: it went on to the next FIFO)
		run --separate-stderr timeout -k 10 120 "$NS_BIN/fast-swapoff" --no-swapoff /dev/vda
		[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "fast-swapoff hung in walk $i (killed after 120 s)"
		assert_success
	done
	run --separate-stderr timeout -k 10 120 "$NS_BIN/fast-swapoff" /dev/vda
	[ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "fast-swapoff hung (killed after 120 s)"
	assert_success
	inactive /dev/vda
	assert_equal "$(swapped_kb "${PIDS[0]}")" 0
	standin_verify "${PIDS[0]}"
	assert_no_oom
}

@test "lab: SIGTERM during the shmem walk stops it: exit 5, the area stays on" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	# nothing in process memory to read back: the walk is the whole run, so nothing after
	# it would have noticed the signal (the old code then swapped off and exited 0)
	standin_start --size 16M
	mkdir /dev/shm/nstest
	# enough files that the walk takes a while
	/usr/bin/python3 -c 'import sys
for i in range(40000): open("/dev/shm/nstest/%d" % i, "w").close()'
	"$NS_BIN/fast-swapoff" /dev/vda >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	so=$!
	walking "$so" /dev/shm/nstest || fail "never saw the walk: $(cat "$BATS_TEST_TMPDIR/err")"
	kill -TERM "$so"
	rc=0
	wait "$so" || rc=$?
	[ "$rc" -eq 5 ] || fail "exit $rc, want 5: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q "stopped: interrupted; the area stays on, what came back .*stays in" "$BATS_TEST_TMPDIR/err"
	active /dev/vda
	standin_verify
}

# bats test_tags=any-kernel
@test "lab: one fast-swapoff per area: a second run meanwhile is busy (exit 4, names the first); the first finishes" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	# gone from memory, so there is something to read at 4M/s (cached pages are left to swapoff(2)):
	# 16 s, so the first run is still at it when the wait below sees its lock
	evicted_standin 64M 1
	evict
	"$NS_BIN/fast-swapoff" --rate 4M /dev/vda >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	first=$!
	lock=/run/numasafe/swapoff-dev-$(stat -c '%Hr:%Lr' /dev/vda).lock
	for _ in $(seq 1 300); do
		holds_flock "$first" "$lock" && break
		kill -0 "$first" 2>/dev/null || fail "the first run ended before the second: $(cat "$BATS_TEST_TMPDIR/err")"
		sleep 0.1
	done
	holds_flock "$first" "$lock" || fail "the first run never held $lock: $(cat "$BATS_TEST_TMPDIR/err")"
	# stopped, it holds the lock and the area stays on while the three runs below look: at
	# load 15 they took 18-29 s on 6.12, and the dry run found the area off (once on 6.1 too)
	kill -STOP "$first"
	STOPPED=$first
	run --separate-stderr "$NS_BIN/fast-swapoff" /dev/vda
	assert_failure 4
	assert_equal "$stderr" "fast-swapoff: /dev/vda: another fast-swapoff (pid $first) is working on this area; try again when it is done"
	# the same area by another name is the same lock
	ln -s /dev/vda "$BATS_TEST_TMPDIR/alias"
	run --separate-stderr "$NS_BIN/fast-swapoff" "$BATS_TEST_TMPDIR/alias"
	assert_failure 4
	# a dry run takes no lock
	run --separate-stderr "$NS_BIN/fast-swapoff" -n /dev/vda
	[ "$status" -eq 0 ] || fail "dry run beside the first: exit $status: $stderr $output"
	kill -CONT "$first"
	STOPPED=
	rc=0
	wait "$first" || rc=$?
	[ "$rc" -eq 0 ] || fail "first run: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	inactive /dev/vda
	standin_verify
	assert_no_oom
}

@test "lab: pages read back but still counted in /proc/swaps: root pages in and swaps off, never told it lacks a capability" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	swapped_standin 16M 1
	# the stand-in reads all of its memory back itself: the slots stay in the swap cache, so
	# /proc/swaps still counts them, and its VmSwap may lag (folded in every 64 faults)
	standin_verify
	used=$(awk '$1 == "/dev/vda" {print $4}' /proc/swaps)
	echo "# after the stand-in read itself back: /dev/vda Used $used kB, VmSwap $(swapped_kb "$STANDIN_PID") kB" >&3
	[ "$used" -gt 0 ] || fail "nothing left counted in /proc/swaps"
	run --separate-stderr "$NS_BIN/fast-swapoff" /dev/vda
	assert_success
	[[ "$stderr" != *CAP_SYS_ADMIN* ]] || fail "$stderr"
	inactive /dev/vda
	standin_verify
	assert_no_oom
}

@test "lab: the area swapped off meanwhile by swapoff(8): said so, exit 0, not \"still on\"" {
	mkswap /dev/vda >/dev/null
	swapon /dev/vda
	# gone from memory, so there is something to read at 4M/s (cached pages are left to swapoff(2)):
	# 8 s, so it is still reading when swapoff(8) comes after 2 s
	evicted_standin 32M 1
	evict
	"$NS_BIN/fast-swapoff" --rate 4M /dev/vda >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	so=$!
	sleep 2
	swapoff /dev/vda
	rc=0
	wait "$so" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q "^fast-swapoff: warning: /dev/vda: was swapped off meanwhile by another program$" "$BATS_TEST_TMPDIR/err" ||
		fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
	if grep -q "still on" "$BATS_TEST_TMPDIR/err"; then fail "said the area is still on"; fi
	inactive /dev/vda
	standin_verify
}
