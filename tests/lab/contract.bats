#!/usr/bin/env bats
# The machine contract in the multi-node lab: every exit code each command documents, produced
# by a real run, with its JSON kind and reason; progress lines for programs; the audit records
# of a move, a rollback and a pin read back from the system log (busybox syslogd on /dev/log).
# Placement is judged by the kernel's numa_maps, data by the stand-in, the log by its text.

load ../helpers

setup() {
	require_root
	require_nodes 2
	oom_mark
	LAST=$((LAB_NODES - 1))
	HOG= SYSLOGD=
}

teardown() {
	[ -n "$HOG" ] && kill "$HOG" 2>/dev/null && wait "$HOG" 2>/dev/null
	[ -n "$SYSLOGD" ] && kill "$SYSLOGD" 2>/dev/null && wait "$SYSLOGD" 2>/dev/null
	rm -f /dev/log
	standin_stop
}


# CODE REASON KIND CMD ARGS...: the run exits CODE; its --json document is a numasafe-error
# with that code and reason whose result (when KIND is not "-") is of KIND; exit 0 is the
# command's own document of KIND.
contract() {
	local code=$1 reason=$2 kind=$3
	shift 3
	run --separate-stderr "$NS_BIN/$1" "${@:2}" --json
	[ "$status" -eq "$code" ] || fail "$* --json: exit $status, want $code ($stderr)"
	if [ "$code" -eq 0 ]; then
		jq -e --arg k "$kind" '.kind == $k' <<<"$output" >/dev/null || fail "$*: not a $kind: $output"
		return
	fi
	jq -e --argjson c "$code" --arg r "$reason" '.kind == "numasafe-error" and .code == $c and .reason == $r
		and .command == "'"$1"'" and (.message | length > 0)' <<<"$output" >/dev/null || fail "$*: $output"
	# the message is the error's line on stderr (warnings may come before it)
	local msg line found=0
	msg=$(jq -r .message <<<"$output")
	for line in "${stderr_lines[@]}"; do [ "$line" = "$1: $msg" ] && found=1; done
	[ "$found" = 1 ] || fail "$*: message '$msg' is not a line of stderr: $stderr"
	if [ "$kind" = - ]; then
		jq -e 'has("result") | not' <<<"$output" >/dev/null || fail "$*: unexpected result: $output"
	else
		jq -e --arg k "$kind" '.result.kind == $k' <<<"$output" >/dev/null || fail "$*: result not a $kind: $output"
	fi
}

# libvirt out of reach: its library hidden in this throwaway guest's overlay
hide_libvirt() {
	LIBVIRT_SO=$(readlink -f /usr/lib/x86_64-linux-gnu/libvirt.so.0)
	mount --bind /dev/null "$LIBVIRT_SO"
}
show_libvirt() {
	umount "$LIBVIRT_SO"
}

# Sizes: tens of MiB where the size proves nothing; a test that must catch a move under way
# says why its size and rate are what they are.

# bats test_tags=any-kernel
@test "lab: numa-migrate's exit codes 0-5, each from a real run, with its reason" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 16M
	contract 0 - numasafe-move numa-migrate --reserve 32M --to "$LAST" "$STANDIN_PID"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	contract 0 - numasafe-check numa-migrate --dry-run --reserve 32M --to 0 "$STANDIN_PID"
	contract 1 no-such-process - numa-migrate --to 0 999999
	contract 2 usage - numa-migrate --to 0 --jobs 0 "$STANDIN_PID"
	hide_libvirt
	contract 3 libvirt - numa-migrate --to 0 --domain nosuch
	show_libvirt
	# 4: the whole stand-in does not fit in what --reserve leaves
	contract 4 headroom numasafe-check numa-migrate --reserve 100% --to 0 "$STANDIN_PID"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	# 4: busy, another run holds the lock
	mkdir -p /run/numasafe
	exec 9>"$(vm_lock_file "$STANDIN_PID")"
	flock -n 9
	contract 4 busy - numa-migrate --reserve 32M --to 0 "$STANDIN_PID"
	exec 9>&-
	standin_verify
	assert_no_oom
}

@test "lab: numa-migrate --on-pressure stop: a neighbour fills the target -> exit 5, what moved is reported exactly" {
	STANDIN_WRAP=(numactl --membind=0)
	# 200 MiB at 10 MiB/s: the neighbour (hundreds of MiB to write) is up while much is still
	# to move, and takes half of that
	standin_start --size 200M
	"$NS_BIN/numa-migrate" --json --on-pressure stop --reserve 64M --rate 10M --to "$LAST" "$STANDIN_PID" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	mig=$!
	sleep 1
	# the neighbour leaves half of what the move still needs: the move stops halfway through
	# the rest, and what it moved stays (stop, no rollback) without squeezing the neighbour
	# out of its node: with a fixed margin, a neighbour slow to fill let the move take more
	# than the margin and the 64M reserve, and the kernel killed the neighbour
	left=$((200 - $(anon_mib_on "$STANDIN_PID" "$LAST")))
	hog_fill "$LAST" $((left / 2))
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 5 ] || fail "exit $rc, want 5: $(cat "$BATS_TEST_TMPDIR/err")"
	out=$(cat "$BATS_TEST_TMPDIR/out")
	jq -e '.kind == "numasafe-error" and .code == 5 and .reason == "headroom" and .result.outcome == "partial"
		and .result.rollback.done == false and .result.moved_total > 0' <<<"$out" || fail "$out"
	# the account matches the kernel's: what it says moved is on the target (within a MiB or two
	# of pages that were not the stand-in's pattern: stack, libc)
	moved=$(jq '(.result.moved.anon + .result.moved.thp) / 1048576 | floor' <<<"$out")
	on=$(anon_mib_on "$STANDIN_PID" "$LAST")
	[ $((on - moved)) -le 2 ] && [ $((moved - on)) -le 2 ] || fail "JSON says $moved MiB moved, numa_maps $on MiB on node $LAST"
	grep -q "run the same command again to finish the move" "$BATS_TEST_TMPDIR/err"
	kill "$HOG" && wait "$HOG" 2>/dev/null
	HOG=
	# running it again completes it
	run "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
	assert_no_oom
}

# bats test_tags=any-kernel
@test "lab: numa-plan's exit codes, each from a real run, with its reason" {
	STANDIN_WRAP=(numactl --membind=0)
	standin_start --size 16M --vcpus 1
	contract 0 - numasafe-show numa-plan show
	contract 0 - numasafe-steal numa-plan steal -i 0.2
	contract 0 - numasafe-check numa-plan check --reserve 32M --to "$LAST" "$STANDIN_PID"
	contract 1 no-such-process - numa-plan show 999999
	contract 1 not-a-vm - numa-plan steal -i 0.1 $$
	contract 2 usage - numa-plan check "$STANDIN_PID"
	# 3: a kernel without schedstat, as a fixture tree shows it
	tree=$BATS_TEST_TMPDIR/nosched
	cp -r "$NS_TOP/tests/fixtures/qemu1" "$tree"
	find "$tree/proc" -name schedstat -delete
	contract 3 unsupported - numa-plan steal --root "$tree" -i 0.05
	contract 4 headroom numasafe-check numa-plan check --reserve 100% --to "$LAST" "$STANDIN_PID"
	assert_anon_on "$STANDIN_PID" 0 99
	standin_verify
}

@test "lab: vm-pin's exit codes, each from a real run, with its reason; a failed --mem puts the pinning back" {
	STANDIN_WRAP=(numactl --membind=0 --cpunodebind=0)
	standin_start --size 16M --vcpus 2
	before=$(for t in /proc/"$STANDIN_PID"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort -u)
	contract 0 - numasafe-pin-show vm-pin --show "$STANDIN_PID"
	contract 1 not-a-vm - vm-pin --to 0 $$
	contract 2 usage - vm-pin --to 0 --vcpus 5 "$STANDIN_PID"
	hide_libvirt
	contract 3 libvirt - vm-pin --to 0 --domain nosuch
	show_libvirt
	contract 4 headroom numasafe-pin vm-pin --to "$LAST" --mem --reserve 100% "$STANDIN_PID"
	after=$(for t in /proc/"$STANDIN_PID"/task/*; do awk '/^Cpus_allowed_list/ {print $2}' "$t/status"; done | sort -u)
	assert_equal "$after" "$before"
	jq -e '.result.undone == true' <<<"$output"
	contract 0 - numasafe-pin vm-pin --to "$LAST" --mem --reserve 32M "$STANDIN_PID"
	jq -e '.memory.kind == "numasafe-move" and .memory.outcome == "done" and .memory.changed and .changed and .threads_changed >= 2' <<<"$output"
	assert_anon_on "$STANDIN_PID" "$LAST" 99
	standin_verify
}

# bats test_tags=any-kernel
@test "lab: --progress=json: numasafe-progress lines on stderr, a second apart at least, beside --json" {
	STANDIN_WRAP=(numactl --membind=0)
	# 48 MiB at 12 MiB/s: 4 s, for three progress lines a second apart
	standin_start --size 48M
	run --separate-stderr "$NS_BIN/numa-migrate" --json --progress=json --rate 12M --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	jq -e '.kind == "numasafe-move" and .outcome == "done"' <<<"$output"
	n=0
	last=-1
	for line in "${stderr_lines[@]}"; do
		jq -e '.kind == "numasafe-progress" and .version == 1 and .command == "numa-migrate" and .phase == "moving"
			and .done <= .total and .rate >= 0 and (.headroom | type == "number")' <<<"$line" >/dev/null ||
			fail "not a progress line: $line"
		t=$(jq .elapsed_s <<<"$line")
		if [ "$last" != -1 ]; then
			awk -v a="$last" -v b="$t" 'BEGIN { exit !(b - a >= 0.99) }' || fail "two lines $last s and $t s: less than a second apart"
		fi
		last=$t
		n=$((n + 1))
	done
	# 48 MiB at 12 MiB/s takes about 4 s: three lines at least, never more than one a second
	[ "$n" -ge 3 ] || fail "only $n progress lines"
	echo "# $n progress lines over $(jq .duration_s <<<"$output") s" >&3
	assert_anon_on "$STANDIN_PID" "$LAST" 99
}

# bats test_tags=any-kernel
@test "lab: audit: a move, its rollback and a pin are in the system log, one record at each start and end" {
	[ ! -e /dev/log ] || fail "/dev/log exists already"
	busybox syslogd -n -O "$BATS_TEST_TMPDIR/syslog" &
	SYSLOGD=$!
	for i in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
	[ -S /dev/log ] || fail "syslogd did not make /dev/log"
	STANDIN_WRAP=(numactl --membind=0 --cpunodebind=0)
	# 200 MiB at 20 MiB/s: as in migrate.bats, more than the neighbour leaves is still to move
	# when it is up
	standin_start --size 200M --vcpus 1
	# a move that a neighbour stops: rolled back
	"$NS_BIN/numa-migrate" --reserve 64M --rate 20M --to "$LAST" "$STANDIN_PID" >/dev/null 2>&1 &
	mig=$!
	sleep 1
	hog_fill "$LAST"
	rc=0
	wait "$mig" || rc=$?
	[ "$rc" -eq 4 ] || fail "the first move exited $rc, want 4 (rolled back)"
	kill "$HOG" && wait "$HOG" 2>/dev/null
	HOG=
	# a move that completes
	run "$NS_BIN/numa-migrate" --reserve 64M --to "$LAST" "$STANDIN_PID"
	assert_success
	# a pin, and --no-log writes nothing
	run "$NS_BIN/vm-pin" --to "$LAST" "$STANDIN_PID"
	assert_success
	run "$NS_BIN/vm-pin" --no-log --to 0 "$STANDIN_PID"
	assert_success
	sleep 0.5
	log=$(cat "$BATS_TEST_TMPDIR/syslog")
	echo "$log" | sed 's/^/# /' >&3
	pid=$STANDIN_PID
	# a stand-in VM has no -name: it is called "pid N", as a QEMU without -name is
	grep -qE "numa-migrate\[[0-9]+\]: move start vm=\"pid $pid\" domain=no pid=$pid from=other to=$LAST bytes=[0-9]+ uid=0 ppid=[0-9]+ parent=\"" <<<"$log" ||
		fail "no move start record"
	grep -qE "numa-migrate\[[0-9]+\]: move end vm=\"pid $pid\" domain=no pid=$pid to=$LAST outcome=done code=0 moved=[0-9]+ duration_s=" <<<"$log" ||
		fail "no move end record"
	grep -qE "numa-migrate\[[0-9]+\]: rollback start vm=\"pid $pid\" .*pid=$pid moved=[0-9]+" <<<"$log" || fail "no rollback start record"
	grep -qE "numa-migrate\[[0-9]+\]: rollback end vm=\"pid $pid\" .*outcome=done rollback_bytes=[1-9][0-9]* rollback_failed_bytes=0" <<<"$log" ||
		fail "no rollback end record"
	grep -qE "numa-migrate\[[0-9]+\]: move end .*to=$LAST outcome=rolled_back code=4" <<<"$log" || fail "no rolled-back move end record"
	grep -qE "vm-pin\[[0-9]+\]: pin start vm=\"pid $pid\" domain=no pid=$pid threads=[0-9]+ cpus=" <<<"$log" || fail "no pin start record"
	grep -qE "vm-pin\[[0-9]+\]: pin end vm=\"pid $pid\" .*outcome=done" <<<"$log" || fail "no pin end record"
	# --no-log: exactly one pin pair, the first run's
	[ "$(grep -c 'vm-pin\[[0-9]*\]: pin start' <<<"$log")" -eq 1 ] || fail "--no-log still logged"
	standin_verify
	assert_no_oom
}
