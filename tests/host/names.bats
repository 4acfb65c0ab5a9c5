#!/usr/bin/env bats
# Names a user chose, in every output: a QEMU whose -name holds invalid UTF-8, terminal escape
# sequences, a tab, a double quote, a backslash and a newline. JSON stays valid UTF-8 (a strict
# decoder and a strict parser accept it; each invalid byte is U+FFFD), Prometheus' format stays
# valid (promtool, node_exporter keeps every series), tables keep one row per VM with no control
# character, and an audit record stays one line with the field escaped.

load ../helpers

# The hostile name and what each output must make of it.
EVIL=$'evil\xff\xfe\e[31mred\e[0m\nfake row\tx"q\\'
EVIL_TEXT='evil???[31mred?[0m?fake row?x"q\'
QEMU_PIDS=
EXPORTER_PID=
SYSLOGD=

setup() {
	require_root
	command -v qemu-system-x86_64 >/dev/null || ns_skip "needs qemu-system-x86_64"
}

teardown() {
	local p
	for p in $QEMU_PIDS; do kill "$p" 2>/dev/null || true; done
	QEMU_PIDS=
	if [ -n "$EXPORTER_PID" ]; then
		kill "$EXPORTER_PID" 2>/dev/null || true
		wait "$EXPORTER_PID" 2>/dev/null || true
		EXPORTER_PID=
	fi
}

# qemu_start NAME: a bare QEMU with thread names that idles cheaply; sets QEMU_PID.
qemu_start() {
	local pidf=$BATS_TEST_TMPDIR/qemu.$RANDOM.pid
	qemu-system-x86_64 -name "$1,debug-threads=on" -machine pc -accel tcg -m 64 -display none -nodefaults \
		-smp 1 -daemonize -pidfile "$pidf" || fail "qemu did not start"
	QEMU_PID=$(cat "$pidf")
	QEMU_PIDS="$QEMU_PIDS $QEMU_PID"
}

two_vms() {
	qemu_start plainvm
	PLAIN=$QEMU_PID
	qemu_start "$EVIL"
	EVILPID=$QEMU_PID
	# (as QEMU got it: the name is the command line's, byte for byte)
	grep -qaF "$EVIL" "/proc/$EVILPID/cmdline" || fail "QEMU's command line does not hold the name"
}

# FILE: one JSON document, decoded as UTF-8 and parsed strictly (no NaN, no duplicate keys);
# prints every string under a "name" or "vm" key, one per line, as JSON strings.
strict_names() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # strict: an invalid byte raises
def dup(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("duplicate key " + k)
        d[k] = v
    return d
def nan(x):
    raise ValueError(x)
doc = json.loads(text, object_pairs_hook=dup, parse_constant=nan)
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("name", "vm") and isinstance(v, str):
                print(json.dumps(v))
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(doc)
PY
}

# The name as every JSON document must give it: each invalid byte as U+FFFD, the rest as it is.
EVIL_JSON='"evil\ufffd\ufffd\u001b[31mred\u001b[0m\nfake row\tx\"q\\"'

@test "JSON: show, steal, rebalance and vm-pin --show stay valid UTF-8 with a hostile name; invalid bytes are U+FFFD" {
	two_vms
	local out=$BATS_TEST_TMPDIR/doc.json
	for cmd in "numa-plan show" "numa-plan steal -i 0.2" "numa-plan rebalance --sample 0" "vm-pin --show"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$NS_BIN/"$cmd --json
		[ "$status" -eq 0 ] || [ "$status" -eq 4 ] || fail "$cmd --json: exit $status ($stderr)"
		printf '%s\n' "$output" >"$out"
		run strict_names "$out"
		assert_success
		assert_line "$EVIL_JSON"
		assert_line '"plainvm"'
	done
	# the plan written by -o too
	mkdir -m 0755 "$BATS_TEST_TMPDIR/plans"
	run "$NS_BIN/numa-plan" rebalance --sample 0 -o "$BATS_TEST_TMPDIR/plans/plan.json"
	run strict_names "$BATS_TEST_TMPDIR/plans/plan.json"
	assert_success
	assert_line "$EVIL_JSON"
}

@test "json-validate decodes strictly: a document with an invalid byte fails, the same with U+FFFD passes" {
	printf '{"version": 1, "kind": "numasafe-error", "command": "vm-pin", "code": 1, "reason": "failed", "message": "vm \xff"}\n' \
		>"$BATS_TEST_TMPDIR/bad.json"
	printf '{"version": 1, "kind": "numasafe-error", "command": "vm-pin", "code": 1, "reason": "failed", "message": "vm \\ufffd"}\n' \
		>"$BATS_TEST_TMPDIR/good.json"
	run /usr/bin/python3 -W ignore "$NS_TOP/tests/json-validate" "$BATS_TEST_TMPDIR/good.json"
	assert_success
	run /usr/bin/python3 -W ignore "$NS_TOP/tests/json-validate" "$BATS_TEST_TMPDIR/bad.json"
	assert_failure 1
	assert_line "$BATS_TEST_TMPDIR/bad.json:1: not UTF-8: byte 0xff at offset 108 (invalid start byte)"
	# a key twice, NaN: what a strict reader refuses
	printf '{"version": 1, "kind": "numasafe-error", "kind": "numasafe-error", "command": "vm-pin", "code": 1, "reason": "failed", "message": "x"}\n' \
		>"$BATS_TEST_TMPDIR/dup.json"
	run /usr/bin/python3 -W ignore "$NS_TOP/tests/json-validate" "$BATS_TEST_TMPDIR/dup.json"
	assert_failure 1
}

# FILE: valid UTF-8, no control character but the newline; prints the lines that hold "fake row".
text_rows() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8")
for i, ch in enumerate(text):
    o = ord(ch)
    if (o < 0x20 and ch != "\n") or 0x7f <= o <= 0x9f:
        sys.exit("control character U+%04X at %d: %r" % (o, i, text[max(0, i - 20):i + 20]))
for line in text.splitlines():
    if "fake row" in line:
        print(line)
PY
}

@test "text: the hostile VM is one row, its control characters and invalid bytes shown as '?' (show, steal, vm-pin --show, rebalance)" {
	two_vms
	local out=$BATS_TEST_TMPDIR/text
	"$NS_BIN/numa-plan" show >"$out"
	run text_rows "$out"
	assert_success
	assert_equal "${#lines[@]}" 1
	[[ ${lines[0]} == "$EVIL_TEXT"*" qemu "*" $EVILPID "* ]] || fail "not the VM's row: ${lines[0]}"
	grep -q '^plainvm ' "$out" || fail "plainvm's row is missing"
	"$NS_BIN/numa-plan" steal -i 0.2 >"$out"
	run text_rows "$out"
	assert_success
	assert_equal "${#lines[@]}" 1
	[[ ${lines[0]} == "$EVIL_TEXT"*" $EVILPID "* ]] || fail "not the VM's row: ${lines[0]}"
	"$NS_BIN/vm-pin" --show >"$out"
	run text_rows "$out"
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "${lines[0]%%:*}" "$EVIL_TEXT (pid $EVILPID)"
	"$NS_BIN/numa-plan" rebalance --sample 0 >"$out" 2>&1 || true
	run text_rows "$out"
	assert_success
	# and on stderr, where the errors name the VM
	run --separate-stderr "$NS_BIN/numa-migrate" --dry-run --to 7 "$EVILPID"
	printf '%s' "$stderr" >"$out"
	run text_rows "$out"
	assert_success
}

@test "metrics: a hostile name is one valid label; promtool passes and node_exporter keeps every VM's series" {
	command -v promtool >/dev/null || ns_skip "needs promtool (package prometheus)"
	two_vms
	local dir=$BATS_TEST_TMPDIR/textfile
	mkdir -m 0755 "$dir"
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0.2 -o "$dir/numasafe.prom"
	assert_success
	run promtool check metrics <"$dir/numasafe.prom"
	assert_success
	run /usr/bin/python3 "$NS_TOP/tests/prom-values" --prefix numasafe_vm_vcpus "$dir/numasafe.prom"
	assert_success
	assert_line 'numasafe_vm_vcpus{domain="false",vm="plainvm"} 1'
	assert_line "numasafe_vm_vcpus{domain=\"false\",vm=$EVIL_JSON} 1"
	# what a host's monitoring sees: node_exporter serves the file, both VMs in it
	exporter_start "$dir"
	run curl -sf "$EXPORTER_URL"
	assert_success
	grep -q '^numasafe_vm_vcpus{domain="false",vm="plainvm"} 1$' <<<"$output" || fail "node_exporter dropped the file: $(grep -c '^numasafe_' <<<"$output") numasafe samples; $(grep -i error "$BATS_TEST_TMPDIR/exporter.log")"
	grep -qF 'vm="evil' <<<"$output" || fail "the hostile VM's series is missing"
	# two names that differ only in invalid bytes are one label: both left out, not a duplicate series
	qemu_start $'evil\xfe\xfe\e[31mred\e[0m\nfake row\tx"q\\'
	run --separate-stderr "$NS_BIN/numa-plan" metrics --sample 0 -o "$dir/numasafe.prom"
	assert_success
	run promtool check metrics <"$dir/numasafe.prom"
	assert_success
	run grep -c 'vm="evil' "$dir/numasafe.prom"
	assert_output 0
	grep -q '^numasafe_vms_unlabelled [2-9]' "$dir/numasafe.prom" || fail "$(grep unlabelled "$dir/numasafe.prom")"
}

# CMD... run in a private mount namespace whose /dev/log is a busybox syslogd writing
# $BATS_TEST_TMPDIR/syslog (this host has no system log; the namespace keeps it from others').
with_syslog() {
	unshare -m bash -c '
		real=$(mktemp -d) && mount --bind /dev "$real" && mount -t tmpfs -o mode=0755 tmpfs /dev || exit 99
		for n in null zero full random urandom tty; do touch "/dev/$n" && mount --bind "$real/$n" "/dev/$n" || exit 99; done
		busybox syslogd -n -O "$LOGFILE" & s=$!
		for i in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
		rc=0
		"$@" || rc=$?
		sleep 0.5
		kill $s; wait $s 2>/dev/null
		exit $rc' - "$@"
}

@test "audit: a hostile name and a plan path with a newline stay one record each, quoted and escaped" {
	command -v busybox >/dev/null || ns_skip "needs busybox (its syslogd)"
	command -v unshare >/dev/null || ns_skip "needs unshare (util-linux)"
	two_vms
	export LOGFILE=$BATS_TEST_TMPDIR/syslog
	run with_syslog "$NS_BIN/vm-pin" --cpus 0 "$EVILPID"
	assert_success
	# a plan whose path holds a newline and a quote, with one step for plainvm
	local pdir=$BATS_TEST_TMPDIR/$'p\nplan-step start vm="forged"'
	mkdir -m 0755 "$pdir"
	"$NS_BIN/vm-pin" --no-log --cpus 0 "$PLAIN"
	st=$(awk '{print $22}' "/proc/$PLAIN/stat")
	cat >"$pdir/plan.json" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "plainvm", "domain": false, "pid": $PLAIN, "start_time": $st, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
	run with_syslog "$NS_BIN/vm-pin" --plan "$pdir/plan.json"
	assert_success
	log=$(cat "$LOGFILE")
	echo "$log" | sed 's/^/# /' >&3
	# one start and one end record for the pin, the name in quotes, escaped
	run grep -c "vm-pin\[[0-9]*\]: pin start" "$LOGFILE"
	assert_output 2
	grep -qF 'pin start vm="evil\xff\xfe\x1b[31mred\x1b[0m\nfake row\tx\"q\\" domain=no pid='"$EVILPID"' ' "$LOGFILE" ||
		fail "no escaped pin start record for the hostile VM"
	# the plan path: escaped inside its quotes, no forged record
	grep -qF "plan-step start vm=\"plainvm\" domain=no pid=$PLAIN plan=\"$BATS_TEST_TMPDIR/p\\nplan-step start vm=\\\"forged\\\"/plan.json\" step=1" "$LOGFILE" ||
		fail "no escaped plan-step start record"
	run grep -c ': plan-step start ' "$LOGFILE"
	assert_output 1
	run grep -c '^plan-step\|: plan-step start vm="forged"' "$LOGFILE"
	assert_output 0
}

@test "plans: a step for a VM whose name holds invalid UTF-8, named as the plan's JSON names it (U+FFFD), runs" {
	# (a name with control characters is refused in a plan outright: the reader's rule)
	local st plan=$BATS_TEST_TMPDIR/plan.json
	qemu_start $'bad\xff\xfename'
	st=$(awk '{print $22}' "/proc/$QEMU_PID/stat")
	cat >"$plan" <<JSON
{"version": 1, "kind": "numasafe-rebalance", "steps": [
 {"step": 1, "vm": "bad\ufffd\ufffdname", "domain": false, "pid": $QEMU_PID, "start_time": $st, "to": 0, "bytes": 4096, "temporary": false}]}
JSON
	run --separate-stderr "$NS_BIN/vm-pin" --no-log --plan "$plan"
	[ "$status" -eq 0 ] || fail "vm-pin --plan: exit $status: $stderr"
	# the same step naming another VM is still stale: the name is checked, not skipped
	sed -i 's/"vm": "bad/"vm": "other/' "$plan"
	run --separate-stderr "$NS_BIN/vm-pin" --no-log --plan "$plan"
	[ "$status" -eq 1 ] || fail "a step naming another VM: exit $status, want 1: $stderr"
}
