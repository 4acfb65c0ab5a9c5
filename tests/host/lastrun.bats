#!/usr/bin/env bats
# The last run of each command that changes things, recorded in /var/lib/numasafe for
# numa-plan metrics: written by numa-migrate, fast-swapoff and vm-pin when they end (not by
# dry runs, --show or numa-plan), with the exit code and reason the run gave; a state
# directory that is not root's own is refused and the run's exit code stays its own. The
# directory is the real one (a compile-time constant): it is set aside for the tests and put
# back as it was afterwards.

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
	rm -rf "$STATE"
}

teardown() {
	standin_stop
	chmod 0755 "$STATE" 2>/dev/null || true
	chown root:root "$STATE" 2>/dev/null || true
}

no_pid() {
	local pid=999999
	while [ -d /proc/$pid ]; do pid=$((pid + 1)); done
	echo $pid
}

# assert_record CMD CODE REASON|null: the record is valid against schema/ and says that.
assert_record() {
	local f=$STATE/$1.json
	[ -f "$f" ] || fail "$f was not written"
	assert_json_schema "$f"
	jq -e --arg c "$1" --argjson code "$2" --argjson reason "$3" \
		'.command == $c and .code == $code and .reason == $reason and .duration_s >= 0' "$f" >/dev/null ||
		fail "$f: $(cat "$f"), want code $2 reason $3"
}

@test "numa-migrate records its outcome: code, reason, and when it ended" {
	local pid before after
	pid=$(no_pid)
	before=$(date +%s)
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 0 "$pid"
	after=$(date +%s)
	[ "$status" -eq 1 ] || fail "exit $status"
	assert_record numa-migrate 1 '"no-such-process"'
	jq -e --argjson a "$before" --argjson b "$after" '.time_s >= $a and .time_s <= $b + 1' "$STATE/numa-migrate.json"
	run stat -c '%u %a' "$STATE" "$STATE/numa-migrate.json"
	assert_output $'0 755\n0 644'
}

@test "a move that is done is recorded as code 0, reason null; the next run replaces it" {
	standin_start --size 16M
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 0 "$STANDIN_PID"
	assert_success
	assert_record numa-migrate 0 null
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --json --to 0 "$(no_pid)"
	[ "$status" -eq 1 ]
	# the record agrees with the run's own error document
	jq -e --slurpfile r "$STATE/numa-migrate.json" '.code == $r[0].code and .reason == $r[0].reason' <<<"$output"
	assert_record numa-migrate 1 '"no-such-process"'
}

@test "dry runs, vm-pin --show and numa-plan record nothing" {
	standin_start --size 16M --vcpus 2
	run "$NS_BIN/numa-migrate" --no-log --dry-run --to 0 "$STANDIN_PID"
	assert_success
	run "$NS_BIN/vm-pin" --no-log --dry-run --to 0 "$STANDIN_PID"
	assert_success
	run "$NS_BIN/vm-pin" --show "$STANDIN_PID"
	assert_success
	run "$NS_BIN/fast-swapoff" --no-log --dry-run --all
	assert_success
	run "$NS_BIN/numa-plan" check --to 0 "$STANDIN_PID"
	assert_success
	run "$NS_BIN/numa-plan" metrics --sample 0
	assert_success
	[ ! -e "$STATE" ] || fail "written: $(ls -la "$STATE")"
}

@test "vm-pin and fast-swapoff record their runs under their own names" {
	standin_start --size 16M --vcpus 2
	run --separate-stderr "$NS_BIN/vm-pin" --no-log --to 0 "$STANDIN_PID"
	assert_success
	assert_record vm-pin 0 null
	run --separate-stderr "$NS_BIN/fast-swapoff" --no-log /dev/null
	[ "$status" -eq 1 ] || fail "exit $status: $stderr"
	assert_record fast-swapoff 1 '"not-swap"'
	[ ! -e "$STATE/numa-migrate.json" ]
}

@test "a usage error in an option's value is recorded; an unknown option is not" {
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --no-such-option
	[ "$status" -eq 2 ]
	[ ! -e "$STATE/numa-migrate.json" ] || fail "an unknown option was recorded"
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 99 1
	[ "$status" -eq 2 ]
	assert_record numa-migrate 2 '"usage"'
}

@test "a state directory that others may write is refused; the run's exit code is its own" {
	mkdir -m 0777 "$STATE"
	chmod 0777 "$STATE" # whatever the umask
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 0 "$(no_pid)"
	[ "$status" -eq 1 ] || fail "exit $status"
	[ "${stderr_lines[1]}" = "numa-migrate: warning: the outcome was not recorded for monitoring: $STATE: writable by others (mode 0777); refusing it" ] ||
		fail "stderr: $stderr"
	[ -z "$(ls -A "$STATE")" ] || fail "written into an unsafe directory: $(ls -A "$STATE")"
	chmod 0755 "$STATE"
	chown 65534 "$STATE"
	standin_start --size 16M
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 0 "$STANDIN_PID"
	assert_success # the move is done: a record that cannot be written does not change that
	assert_equal "$stderr" "numa-migrate: warning: the outcome was not recorded for monitoring: $STATE: owned by uid 65534, not root; refusing it"
	[ -z "$(ls -A "$STATE")" ]
}

@test "a run by another user than root records nothing and says nothing about it" {
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$NS_BIN/numa-migrate" --no-log --to 0 "$(no_pid)"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "numa-migrate: pid $(no_pid): No such process"
	[ ! -e "$STATE" ]
}

@test "a symlink in place of the state directory is not followed" {
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$STATE"
	run --separate-stderr "$NS_BIN/numa-migrate" --no-log --to 0 "$(no_pid)"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[1]}" = "numa-migrate: warning: the outcome was not recorded for monitoring: $STATE: is a symbolic link; refusing it" ] ||
		fail "stderr: $stderr"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
	rm "$STATE"
}
