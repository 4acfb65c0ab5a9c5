#!/usr/bin/env bats
# The bash completions keep up with the commands: each offers every long option that the
# command's --help lists, node ids and PIDs where those are asked for, and numa-plan's
# subcommands first. Completions run in a plain bash without the bash-completion package.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load ../helpers # ns_skip: a skip that fails in strict mode (CI)

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
}

# complete_for CMD WORD...: source completions/CMD in a fresh bash, complete the last WORD
# of the line "WORD..." as bash would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), and
# print COMPREPLY one entry per line. COMP_LINE defaults to the words joined by spaces; set
# LINE for lines that bash splits without spaces ("--to=" is the words "--to" "=").
complete_for() {
	local cmd=$1
	shift
	LINE=${LINE-} bash --norc --noprofile -c '
		script=$1
		shift
		source "$script" || exit 90
		spec=$(complete -p "$1" 2>/dev/null) || {
			echo "$script does not register a completion for $1" >&2
			exit 91
		}
		func=${spec#*-F }
		func=${func%% *}
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE=${LINE:-$*}
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		"$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"
	' complete_for "$ROOT/completions/$cmd" "$@"
}

# assert_offered WORD...: each WORD is a line of the last run's output (the completions).
# (bats-assert's assert_line cannot report on an empty output, the case that matters here.)
assert_offered() {
	local w
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$output" ||
			fail "'$w' not offered; offered: ${output:-nothing}"
	done
}

# Every long option in `bin/CMD --help` must be offered when completing "CMD --".
check_long_options() {
	local cmd=$1 opt
	local -a opts=() missing=()

	[ -x "$ROOT/bin/$cmd" ] || fail "bin/$cmd is missing: run 'make all' first"
	[ -f "$ROOT/completions/$cmd" ] || fail "completions/$cmd is missing"
	run "$ROOT/bin/$cmd" --help
	assert_success
	mapfile -t opts < <(grep -o -- '--[a-z][a-z-]*' <<<"$output" | sort -u)
	# a --help that lists nothing would make this test pass for nothing
	((${#opts[@]} >= 5)) || fail "bin/$cmd --help lists only ${#opts[@]} long options: ${opts[*]}"

	run complete_for "$cmd" "$cmd" --
	assert_success
	for opt in "${opts[@]}"; do
		grep -qxF -- "$opt" <<<"$output" || missing+=("$opt")
	done
	((${#missing[@]} == 0)) ||
		fail "completions/$cmd does not offer ${missing[*]} (listed by bin/$cmd --help)"
}

@test "numa-plan: completion offers every long option of --help" {
	check_long_options numa-plan
}

@test "numa-plan metrics: completion offers every long option of its --help" {
	local -a opts=()
	run "$ROOT/bin/numa-plan" metrics --help
	assert_success
	mapfile -t opts < <(grep -o -- '--[a-z][a-z-]*' <<<"$output" | sort -u)
	((${#opts[@]} >= 5)) || fail "numa-plan metrics --help lists only ${#opts[@]} long options"
	run complete_for numa-plan numa-plan metrics --
	assert_success
	assert_offered --out --sample
	for o in "${opts[@]}"; do
		# --json is there for the usage contract; metrics refuses it, so it is not offered
		[ "$o" = --json ] && continue
		assert_offered "$o"
	done
}

@test "numa-migrate: completion offers every long option of --help" {
	check_long_options numa-migrate
}

@test "fast-swapoff: completion offers every long option of --help" {
	check_long_options fast-swapoff
}

@test "vm-pin: completion offers every long option of --help" {
	check_long_options vm-pin
}

@test "numa-plan: the first word offers the subcommands" {
	run complete_for numa-plan numa-plan ""
	assert_success
	assert_offered show steal check rebalance place metrics
	refute_line --partial -- "--"
}

@test "numa-migrate: --to offers node 0 from sysfs" {
	[ -d /sys/devices/system/node/node0 ] || fail "no node0 in /sys/devices/system/node"
	run complete_for numa-migrate numa-migrate --to ""
	assert_success
	assert_offered 0
	# every line is a node that exists
	for n in "${lines[@]}"; do
		[ -d "/sys/devices/system/node/node$n" ] || fail "--to offered '$n', not a node"
	done
}

@test "numa-migrate: --to=NODES completes the value after the '='" {
	LINE='numa-migrate --to=' run complete_for numa-migrate numa-migrate --to =
	assert_success
	assert_offered 0
}

@test "numa-plan show: the PID position offers running PIDs" {
	run complete_for numa-plan numa-plan show ""
	assert_success
	assert_offered "$$" 1
	# one PID only: after it, nothing more
	run complete_for numa-plan numa-plan show "$$" ""
	assert_success
	assert_output ""
}

@test "vm-pin: --connect offers the libvirt URIs" {
	run complete_for vm-pin vm-pin --connect ""
	assert_success
	assert_offered qemu:///system qemu:///session test:///default
}

@test "fast-swapoff: devices are the active areas of /proc/swaps" {
	printf '%s\n' 'Filename				Type		Size		Used		Priority' \
		'/dev/vdb                                partition	1048572		0		-2' \
		'/srv/swapfile                           file		65532		0		-3' >"$BATS_TEST_TMPDIR/swaps"
	# a private mount namespace shows the completion a fixture /proc/swaps, host untouched
	unshare -m true 2>/dev/null || ns_skip "needs unshare -m (root) to give /proc/swaps a fixture"
	export -f complete_for
	export ROOT
	# shellcheck disable=SC2016 # $1 is for the inner bash
	run unshare -m bash -c 'mount --bind "$1" /proc/swaps && complete_for fast-swapoff fast-swapoff ""' \
		_ "$BATS_TEST_TMPDIR/swaps"
	assert_success
	assert_offered /dev/vdb /srv/swapfile
	assert_equal "${#lines[@]}" 2
}
