#!/usr/bin/env bats
# fast-swapoff on this host: bad input, each with its one line, exit code, and nothing changed.
# Paging in and swapping off for real happen in tests/lab/swapoff.bats.

load ../helpers

teardown() {
	standin_stop
	if [ -n "${swapfile:-}" ] && awk -v d="$swapfile" '$1 == d {f = 1} END {exit !f}' /proc/swaps; then
		swapoff "$swapfile"
	fi
}

bad() {
	local want=$1 msg=$2
	shift 2
	before=$(cat /proc/swaps)
	run --separate-stderr "$NS_BIN/fast-swapoff" "$@"
	[ "$status" -eq "$want" ] || fail "fast-swapoff $*: exit $status, want $want ($stderr)"
	[ "${stderr_lines[0]}" = "fast-swapoff: $msg" ] || fail "fast-swapoff $*: got '${stderr_lines[0]}', want '$msg'"
	[ "$(cat /proc/swaps)" = "$before" ] || fail "fast-swapoff $*: /proc/swaps changed"
}

@test "fast-swapoff: bad input gives one clear line and the documented exit code" {
	require_root
	bad 2 "no swap area given (DEVICE... or --all)"
	bad 2 "--rate: '-5' is not a size (like 512M, 2G or 1.5GiB; KB/MB/GB are powers of 1000)" --rate -5 /dev/null
	bad 2 "--readahead: 'lots' is not a size (like 512M, 2G or 1.5GiB; KB/MB/GB are powers of 1000)" --readahead lots /dev/null
	bad 2 "--max-psi: '0x10' is not a number from 0 to 100" --max-psi 0x10 /dev/null
	bad 2 "--jobs: '0' is not a whole number from 1 to 16" --jobs 0 /dev/null
	bad 2 "--jobs: '17' is not a whole number from 1 to 16" --jobs 17 /dev/null
	bad 2 "--jobs: '2x' is not a whole number from 1 to 16" --jobs 2x /dev/null
	bad 2 "--progress: 'fancy' is none of tty, json, none" --progress fancy /dev/null
	bad 2 "give devices or --all, not both" --all /dev/null
	bad 2 "--pid: 'x' is not a process id" --pid x /dev/null
	bad 1 "/no/such/device: No such file or directory" /no/such/device
	bad 1 "/dev/null: not an active swap area" /dev/null
	echo data >"$BATS_TEST_TMPDIR/file"
	bad 1 "$BATS_TEST_TMPDIR/file: not an active swap area" "$BATS_TEST_TMPDIR/file"
	# a formatted but inactive swap file
	dd if=/dev/zero of="$BATS_TEST_TMPDIR/swapfile" bs=1M count=16 status=none
	chmod 600 "$BATS_TEST_TMPDIR/swapfile"
	mkswap "$BATS_TEST_TMPDIR/swapfile" >/dev/null
	bad 1 "$BATS_TEST_TMPDIR/swapfile: not an active swap area" "$BATS_TEST_TMPDIR/swapfile"
}

@test "fast-swapoff: an unprivileged user is told what is needed, exit 1" {
	require_root
	command -v setpriv >/dev/null || ns_skip "needs setpriv"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$NS_BIN/fast-swapoff" /dev/null
	assert_failure 1
	assert_equal "$stderr" "fast-swapoff: needs root (CAP_SYS_ADMIN for swap types and swapoff, ptrace access to read processes)"
}

@test "fast-swapoff --all with no swap areas says so, exit 0" {
	[ "$(wc -l </proc/swaps)" -eq 1 ] || skip "this host has swap areas"
	require_root
	run "$NS_BIN/fast-swapoff" --all
	assert_success
	assert_output "no active swap areas: nothing to do"
	run "$NS_BIN/fast-swapoff" --all --json
	assert_success
	jq -e '.kind == "numasafe-swapoff" and .areas == [] and .areas_done == 0' <<<"$output"
}

# cgroup v1 limits, on this host when it has the v1 memory controller (the lab covers v2).
@test "fast-swapoff: a cgroup v1 memory limit that cannot take its pages back is named and refused" {
	require_root
	[ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] || skip "no cgroup v1 memory controller here (v2 is tested in the lab)"
	swapfile=$BATS_TEST_TMPDIR/swap
	fallocate -l 96M "$swapfile"
	chmod 600 "$swapfile"
	mkswap "$swapfile" >/dev/null
	swapon "$swapfile"
	cg=/sys/fs/cgroup/memory/nstest.$$
	mkdir "$cg"
	(echo $BASHPID >"$cg/cgroup.procs" && exec "$NS_HELPERS/standin" --size 48M \
		--ready "$BATS_TEST_TMPDIR/ready" --report "$BATS_TEST_TMPDIR/report") 3>&- &
	for _ in $(seq 1 300); do [ -s "$BATS_TEST_TMPDIR/ready" ] && break; sleep 0.1; done
	STANDIN_PID=$(cat "$BATS_TEST_TMPDIR/ready")
	standin_pageout
	[ "$(awk '/^VmSwap/ {print $2}' /proc/"$STANDIN_PID"/status)" -ge 40000 ] || fail "the stand-in did not swap"
	echo $(($(cat "$cg/memory.usage_in_bytes") + 8 * 1048576)) >"$cg/memory.limit_in_bytes"
	# paging in, not swapoff(2): pages still in the swap cache are left to swapoff(2) unscanned
	run --separate-stderr "$NS_BIN/fast-swapoff" --no-swapoff "$swapfile"
	status_was=$status
	err=$stderr
	# put everything back before asserting
	echo -1 >"$cg/memory.limit_in_bytes"
	active=$(awk -v d="$swapfile" '$1 == d' /proc/swaps)
	alive=0
	kill -0 "$STANDIN_PID" && alive=1
	standin_verify
	standin_stop
	swapoff "$swapfile"
	rmdir "$cg"
	[ "$status_was" -eq 4 ] || fail "exit $status_was: $err"
	[[ "$err" == "fast-swapoff: $swapfile: refused: cgroup /nstest.$$ would need "*" back but has "*" of room (limit "*"): its processes would be OOM-killed; raise its memory limit first" ]] || fail "$err"
	[ -n "$active" ] || fail "the area went off"
	[ "$alive" = 1 ] || fail "the stand-in died"
}

# A swap file on this host with a stand-in's memory pushed to it.
swapped_file_area() {
	swapfile=$BATS_TEST_TMPDIR/swap
	fallocate -l 64M "$swapfile" || ns_skip "no fallocate here"
	chmod 600 "$swapfile"
	mkswap "$swapfile" >/dev/null
	swapon "$swapfile" || ns_skip "this file system takes no swap file"
	standin_start --size 16M
	standin_pageout
	[ "$(awk '/^VmSwap/ {print $2}' /proc/"$STANDIN_PID"/status)" -ge 8000 ] || fail "the stand-in did not swap"
}

@test "fast-swapoff -n --reserve: more than the host's memory is a usage error; 100% is refused, not safe" {
	# the sums saturate (unit test t_preflight_reserve_saturates); a reserve larger than the host is
	# refused before it gets there: the wrapped sum once said "safe" for it
	require_root
	swapped_file_area
	run --separate-stderr "$NS_BIN/fast-swapoff" -n --reserve 1G "$swapfile"
	ok_status=$status ok_err=$stderr
	huge_status=() huge_err=()
	for r in 18446744073709551615 16383.99999999P; do
		run --separate-stderr "$NS_BIN/fast-swapoff" -n --reserve "$r" "$swapfile"
		huge_status+=("$status")
		huge_err+=("${stderr_lines[0]}")
	done
	run --separate-stderr "$NS_BIN/fast-swapoff" -n --reserve 100% "$swapfile"
	all_status=$status all_err=$stderr
	area=$(awk -v d="$swapfile" '$1 == d' /proc/swaps)
	standin_verify
	[ "$ok_status" -eq 0 ] || fail "--reserve 1G: exit $ok_status: $ok_err"
	[ -n "$area" ] || fail "a dry run took the area off"
	for i in 0 1; do
		[ "${huge_status[$i]}" -eq 2 ] || fail "huge reserve $i: exit ${huge_status[$i]}, want 2: ${huge_err[$i]}"
		[[ "${huge_err[$i]}" == "fast-swapoff: --reserve: '"*"' is "* ]] || fail "huge reserve $i: ${huge_err[$i]}"
	done
	[ "$all_status" -eq 4 ] || fail "--reserve 100%: exit $all_status, want 4: $all_err"
	[[ "$all_err" == "fast-swapoff: $swapfile: refused: "*" to bring back, "*" available with a "*" reserve: short by "* ]] ||
		fail "--reserve 100%: $all_err"
}

# A process with terabytes of reserved address space (MAP_NORESERVE, as sanitizers and some
# VMs have) and a few of its pages in swap. The scans look only where pages are (smaps Swap
# per VMA, then PAGEMAP_SCAN within it): before, the preflight and the pagein each read the
# mapping's whole pagemap (8 bytes per 4 KiB page: 128 GB for 64 TiB) and a user's process
# stalled root's fast-swapoff as long as it wanted (16 TiB: 7.7 s dry run, 20.8 s real run;
# 64 TiB, used here so that the old code runs into the guard: 31 s and 90 s). 60 s is a
# guard against a stall, not a speed check: each run takes a few hundredths of a second.
@test "fast-swapoff: 64 TiB of reserved address space with pages in swap costs what is in swap" {
	require_root
	swapfile=$BATS_TEST_TMPDIR/swap
	fallocate -l 64M "$swapfile" || ns_skip "no fallocate here"
	chmod 600 "$swapfile"
	mkswap "$swapfile" >/dev/null
	swapon "$swapfile" || ns_skip "this file system takes no swap file"
	standin_start --size 4M --sparse 64T --touch 64
	standin_pageout
	# the 64 TiB VMA itself holds swap (its Size line comes before its Swap line)
	big_swap=$(awk '/^Size:/ {big = $2 >= 1000000000} big && /^Swap:/ {print $2; exit}' "/proc/$STANDIN_PID/smaps")
	[ "${big_swap:-0}" -gt 0 ] || fail "the sparse mapping's pages did not swap"
	want=$(awk '/^Swap:/ {s += $2} END {print s * 1024}' "/proc/$STANDIN_PID/smaps")
	# the dry run: the bytes to bring back are the stand-in's swap, sparse pages included
	run --separate-stderr timeout -s KILL 60 "$NS_REAL_BIN/fast-swapoff" -n --no-swapoff --json "$swapfile"
	[ "$status" -ne 137 ] || fail "the dry run took over 60 s"
	assert_success
	jq -c . <<<"$output" >"$BATS_TEST_TMPDIR/dry.json"
	got=$(jq --argjson p "$STANDIN_PID" '[.areas[0].processes[] | select(.pid == $p) | .bytes] | add' <<<"$output")
	assert_equal "$got" "$want"
	assert_json_schema "$BATS_TEST_TMPDIR/dry.json"
	# the real run pages every one of them back in, data intact
	run --separate-stderr timeout -s KILL 60 "$NS_REAL_BIN/fast-swapoff" --no-swapoff --json "$swapfile"
	[ "$status" -ne 137 ] || fail "paging in took over 60 s"
	assert_success
	jq -c . <<<"$output" >"$BATS_TEST_TMPDIR/run.json"
	assert_json_schema "$BATS_TEST_TMPDIR/run.json"
	assert_equal "$(awk '/^Swap:/ {s += $2} END {print s + 0}' "/proc/$STANDIN_PID/smaps")" 0
	standin_verify
}
