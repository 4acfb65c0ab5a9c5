#!/usr/bin/env bats
# Signals on the host (numasafe(7), SIGNALS): SIGINT, SIGTERM and SIGHUP are stop requests
# from the first instruction of every command on, before any scan; a reader that went away
# (stdout a pipe with no reader) is one stop request, not a SIGPIPE death. A stop before the
# change is exit 4, reason signal, nothing changed, with the error document (--json) and the
# last-run record. To hit the window before the change without depending on the machine's
# speed, the signal is made pending before the command starts: sent while blocked, it stays
# pending across exec and arrives as soon as the command unblocks it (which it must: a stop
# signal blocked by whoever started it would otherwise never arrive). The lab has the moves
# interrupted midway (tests/lab/migrate.bats).

load ../helpers

STATE=/var/lib/numasafe

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_set_aside
}

teardown_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	state_put_back
}

setup() {
	require_root
	command -v perl >/dev/null || ns_skip "needs perl"
	rm -rf "$STATE"
}

teardown() {
	standin_stop
	if [ -n "${swapfile:-}" ] && awk -v d="$swapfile" '$1 == d {f = 1} END {exit !f}' /proc/swaps; then
		swapoff "$swapfile"
	fi
}

# with_pending SIG CMD...: run CMD with SIG blocked and already pending.
with_pending() {
	perl -MPOSIX -e '
		my $sig = shift;
		$SIG{$sig} = "DEFAULT";
		my $num = eval "POSIX::SIG$sig()" or die "no signal $sig\n";
		sigprocmask(SIG_BLOCK, POSIX::SigSet->new($num)) or die "sigprocmask: $!\n";
		kill($sig, $$) or die "kill: $!\n";
		exec { $ARGV[0] } @ARGV or die "exec: $!\n";' "$@"
}

# nohup_pending CMD...: the same for SIGHUP, ignored as nohup(1) leaves it.
nohup_pending() {
	perl -MPOSIX -e '
		$SIG{HUP} = "IGNORE";
		sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGHUP)) or die "sigprocmask: $!\n";
		kill("HUP", $$) or die "kill: $!\n";
		exec { $ARGV[0] } @ARGV or die "exec: $!\n";' "$@"
}

# no_reader CMD...: run CMD with stdout a pipe whose reader has already gone (`| head -1`
# after its line), stderr to the test.
no_reader() {
	perl -e '
		pipe(my $r, my $w) or die "pipe: $!\n";
		close($r);
		open(STDOUT, ">&", $w) or die "dup: $!\n";
		exec { $ARGV[0] } @ARGV or die "exec: $!\n";' "$@"
}

# assert_record CMD CODE REASON|null
assert_record() {
	local f=$STATE/$1.json
	[ -f "$f" ] || fail "$f was not written"
	jq -e --arg c "$1" --argjson code "$2" --argjson reason "$3" \
		'.command == $c and .code == $code and .reason == $reason' "$f" >/dev/null ||
		fail "$f: $(cat "$f"), want code $2 reason $3"
}

# assert_signal_doc: stdout is one numasafe-error document: code 4, reason signal
assert_signal_doc() {
	[ "${#lines[@]}" -eq 1 ] || fail "stdout is not one JSON line: $output"
	jq -e '.kind == "numasafe-error" and .code == 4 and .reason == "signal"' <<<"$output" >/dev/null ||
		fail "not the signal error document: $output"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/doc.json"
	local keep=("$status" "$output" "$stderr")
	assert_json_schema "$BATS_TEST_TMPDIR/doc.json"
	status=${keep[0]} output=${keep[1]} stderr=${keep[2]}
}

@test "numa-migrate: SIGTERM before the preflight: exit 4, reason signal, the error document, the last-run record" {
	standin_start --size 32M
	run --separate-stderr with_pending TERM "$NS_REAL_BIN/numa-migrate" --no-log --json --to 0 "$STANDIN_PID"
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (stderr: $stderr)"
	assert_signal_doc
	assert_equal "$stderr" "numa-migrate: standin (pid $STANDIN_PID): interrupted during the preflight: nothing moved"
	assert_record numa-migrate 4 '"signal"'
	standin_verify
}

@test "numa-migrate: SIGHUP acts as SIGTERM: exit 4, reason signal, the error document, the last-run record" {
	standin_start --size 32M
	run --separate-stderr with_pending HUP "$NS_REAL_BIN/numa-migrate" --no-log --json --to 0 "$STANDIN_PID"
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (stderr: $stderr)"
	assert_signal_doc
	assert_record numa-migrate 4 '"signal"'
}

@test "numa-migrate under nohup: an ignored SIGHUP stays ignored, the run goes on" {
	standin_start --size 32M
	run --separate-stderr nohup_pending "$NS_REAL_BIN/numa-migrate" --no-log --json --to 0 "$STANDIN_PID"
	[ "$status" -eq 0 ] || fail "exit $status, want 0 (stderr: $stderr)"
	jq -e '.kind == "numasafe-move"' <<<"$output" >/dev/null
	assert_record numa-migrate 0 null
}

@test "numa-migrate: stdout a pipe whose reader is gone: a stop request, exit 4 and the record, no SIGPIPE death" {
	standin_start --size 32M
	run --separate-stderr no_reader "$NS_REAL_BIN/numa-migrate" --no-log --json --to 0 "$STANDIN_PID"
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (141 is a SIGPIPE death; stderr: $stderr)"
	assert_equal "$stderr" "numa-migrate: standin (pid $STANDIN_PID): interrupted during the preflight: nothing moved"
	assert_record numa-migrate 4 '"signal"'
}

@test "vm-pin: SIGTERM before the pinning: exit 4, reason signal, no thread pinned" {
	standin_start --size 8M --vcpus 2
	before=$(grep Cpus_allowed_list /proc/"$STANDIN_PID"/task/*/status | sort)
	run --separate-stderr with_pending TERM "$NS_REAL_BIN/vm-pin" --no-log --json "$STANDIN_PID" --cpus 0
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (stderr: $stderr)"
	assert_signal_doc
	assert_equal "$(grep Cpus_allowed_list /proc/"$STANDIN_PID"/task/*/status | sort)" "$before"
	assert_record vm-pin 4 '"signal"'
}

@test "numa-plan show: SIGTERM is not lost: exit 4, reason signal, the error document" {
	run --separate-stderr with_pending TERM "$NS_REAL_BIN/numa-plan" show --json
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (stderr: $stderr)"
	assert_signal_doc
	# a run that changes nothing records nothing
	[ ! -e "$STATE/numa-plan.json" ]
}

@test "fast-swapoff: SIGTERM before paging in: exit 4, reason signal, nothing read back, the area stays on" {
	swapfile=$BATS_TEST_TMPDIR/swap
	fallocate -l 64M "$swapfile" || ns_skip "no fallocate here"
	chmod 600 "$swapfile"
	mkswap "$swapfile" >/dev/null
	swapon "$swapfile" || ns_skip "this file system takes no swap file"
	standin_start --size 16M
	standin_pageout
	swapped=$(awk '/^VmSwap/ {print $2}' /proc/"$STANDIN_PID"/status)
	[ "$swapped" -ge 8000 ] || fail "the stand-in did not swap"
	run --separate-stderr with_pending TERM "$NS_REAL_BIN/fast-swapoff" --no-log --json "$swapfile"
	st=$status
	active=$(awk -v d="$swapfile" '$1 == d' /proc/swaps)
	left=$(awk '/^VmSwap/ {print $2}' /proc/"$STANDIN_PID"/status)
	swapoff "$swapfile" 2>/dev/null || true
	[ "$st" -eq 4 ] || fail "exit $st, want 4 (stderr: $stderr)"
	assert_signal_doc
	assert_equal "$stderr" "fast-swapoff: $swapfile: interrupted before paging in: nothing changed"
	[ -n "$active" ] || fail "the area went off"
	[ "$left" -ge $((swapped - 1024)) ] || fail "paged in anyway: $left kB left in swap of $swapped"
	assert_record fast-swapoff 4 '"signal"'
	standin_verify
}

@test "numa-plan show into a pipe whose reader is gone: exit 4, reason signal, not a SIGPIPE death" {
	run --separate-stderr no_reader "$NS_REAL_BIN/numa-plan" show
	[ "$status" -eq 4 ] || fail "exit $status, want 4 (141 is a SIGPIPE death; stderr: $stderr)"
	assert_equal "$stderr" "numa-plan: interrupted"
}
