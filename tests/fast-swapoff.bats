#!/usr/bin/env bats
# fast-swapoff on this host: bad input, each with its one line, exit code, and nothing changed.
# Paging in and swapping off for real happen in tests/lab/swapoff.bats.

load helpers

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
	bad 2 "--rate: must be greater than 0" --rate 0 /dev/null
	bad 2 "--rate: '-5' is not a size (like 512M or 2G)" --rate -5 /dev/null
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

@test "fast-swapoff --all with no swap areas does nothing, exit 0" {
	[ "$(wc -l </proc/swaps)" -eq 1 ] || skip "this host has swap areas"
	require_root
	run "$NS_BIN/fast-swapoff" --all
	assert_success
}
