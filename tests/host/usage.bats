#!/usr/bin/env bats
# The usage contract, the same for every command: --help and --version on stdout with exit 0;
# a bad option or argument: nothing on stdout, exactly two lines on stderr, exit 2.

load ../helpers

CMDS="numa-plan numa-migrate fast-swapoff vm-pin"

@test "--help prints usage on stdout, exit 0, for every command" {
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" --help
		assert_success
		assert_output --partial "Usage: $c"
		assert_output --partial "--json"
		[ -z "$stderr" ] || fail "$c --help wrote to stderr: $stderr"
	done
}

@test "-h is --help for every command" {
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" -h
		assert_success
		assert_output --partial "Usage: $c"
	done
}

@test "--version prints name and version on stdout, exit 0, for every command" {
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" --version
		assert_success
		assert_output --regexp "^$c \(numasafe\) [0-9]+\.[0-9]+\.[0-9]+$"
		[ -z "$stderr" ] || fail "$c --version wrote to stderr"
	done
}

@test "-V is --version for every command" {
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" -V
		assert_success
		assert_output --regexp "^$c \(numasafe\) [0-9]+\.[0-9]+\.[0-9]+$"
	done
}

@test "with --json a usage error is also a numasafe-error document on stdout, code 2" {
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" --json --no-such-option
		[ "$status" -eq 2 ] || fail "$c: exit $status"
		jq -e --arg c "$c" '.kind == "numasafe-error" and .version == 1 and .code == 2 and .reason == "usage"
			and .command == $c and (.message | startswith("--no-such-option"))' <<<"$output" ||
			fail "$c: $output"
		[ "${#stderr_lines[@]}" -eq 2 ] || fail "$c: stderr: $stderr"
	done
}

@test "the man pages render without a warning" {
	command -v man >/dev/null || ns_skip "needs man (man-db)"
	for m in "$NS_TOP"/man/*.[78]; do
		run --separate-stderr env MANWIDTH=80 man --warnings -l "$m"
		assert_success
		[ -z "$stderr" ] || fail "$m: $stderr"
		[ "${#lines[@]}" -gt 20 ] || fail "$m rendered to almost nothing"
	done
}

# Each bad invocation: nothing on stdout, two lines on stderr (what, then the hint), exit 2.
check_usage_error() {
	local c=$1
	shift
	run --separate-stderr "$NS_BIN/$c" "$@"
	[ "$status" -eq 2 ] || fail "$c $*: exit $status, want 2 (stderr: $stderr)"
	[ -z "$output" ] || fail "$c $*: wrote to stdout: $output"
	[ "${#stderr_lines[@]}" -eq 2 ] || fail "$c $*: want 2 stderr lines, got: $stderr"
	[[ "${stderr_lines[0]}" == "$c: "* ]] || fail "$c $*: first line not prefixed: ${stderr_lines[0]}"
	[ "${stderr_lines[1]}" = "Try '$c --help' for more information." ] || fail "$c $*: bad hint line"
}

@test "an unknown option is a usage error for every command" {
	for c in $CMDS; do
		check_usage_error "$c" --no-such-option
	done
}

@test "a missing option argument is a usage error for every command" {
	check_usage_error numa-plan --reserve
	check_usage_error numa-migrate --to
	check_usage_error fast-swapoff --rate
	check_usage_error vm-pin --cpus
}

@test "numa-plan: bad arguments are usage errors" {
	check_usage_error numa-plan no-such-subcommand
	check_usage_error numa-plan show 1 2
	check_usage_error numa-plan show 0
	check_usage_error numa-plan show -- -5
	check_usage_error numa-plan show abc
	check_usage_error numa-plan show 12abc
	check_usage_error numa-plan show 99999999999
	check_usage_error numa-plan show --reserve lots
	check_usage_error numa-plan show --reserve 200%
	check_usage_error numa-plan show --connect qemu:///system
	check_usage_error numa-plan show 1 --domain x
	check_usage_error numa-plan steal 1 2
	check_usage_error numa-plan steal --interval 0
	check_usage_error numa-plan steal --interval soon
	check_usage_error numa-plan steal --no-such-option
	check_usage_error numa-plan steal 1 --domain x
	check_usage_error numa-plan check 1
	check_usage_error numa-plan check --to 0
	check_usage_error numa-plan check --to 99 1
	check_usage_error numa-plan check --to x 1
	check_usage_error numa-plan check --to 0 1 2
	check_usage_error numa-plan check --to 0 --reserve lots 1
	check_usage_error numa-plan check --to 0 1 --domain x
	check_usage_error numa-plan check --to 0 abc
}

@test "numa-plan steal and check have their own --help" {
	run --separate-stderr "$NS_BIN/numa-plan" steal --help
	assert_success
	assert_output --partial "Usage: numa-plan steal"
	assert_output --partial "--interval"
	run --separate-stderr "$NS_BIN/numa-plan" check --help
	assert_success
	assert_output --partial "Usage: numa-plan check"
	assert_output --partial "--to"
}

@test "numa-plan rebalance: bad arguments are usage errors" {
	check_usage_error numa-plan rebalance 1
	check_usage_error numa-plan rebalance --cpu-overcommit 0.5
	check_usage_error numa-plan rebalance --exclude-cpus 4000
	check_usage_error numa-plan rebalance --reserve lots
	check_usage_error numa-plan rebalance --sample -1
	check_usage_error numa-plan rebalance --sample 3601
	check_usage_error numa-plan rebalance --sample 0x5
	check_usage_error numa-plan rebalance --max-move lots
	check_usage_error numa-plan place
	check_usage_error numa-plan place --vcpus 2
	check_usage_error numa-plan place --memory 1G
	check_usage_error numa-plan place --vcpus 0 --memory 1G
	check_usage_error numa-plan place --vcpus 2 --memory 0
	check_usage_error numa-plan place --vcpus 2 --memory 1P
	check_usage_error numa-plan place --vcpus 2 --memory 1G 7
	run --separate-stderr "$NS_BIN/numa-plan" rebalance 1
	[ "${stderr_lines[0]}" = "numa-plan: rebalance: unexpected argument '1' (it plans every VM on the host)" ]
}

@test "a closed or full stdout is an error, not silence" {
	[ -w /dev/full ] || ns_skip "needs /dev/full"
	for c in $CMDS; do
		run --separate-stderr "$NS_BIN/$c" --help
		run --separate-stderr sh -c "'$NS_BIN/$c' --help >/dev/full"
		[ "$status" -eq 1 ] || fail "$c --help >/dev/full: exit $status, want 1"
		assert_equal "$stderr" "$c: write error: No space left on device"
	done
}

@test "numa-plan PID is numa-plan show PID" {
	run "$NS_BIN/numa-plan" --json $$
	assert_success
	jq -e ".process.pid == $$" <<<"$output"
	run "$NS_BIN/numa-plan" $$
	assert_success
	assert_output --partial "process $$ "
}
