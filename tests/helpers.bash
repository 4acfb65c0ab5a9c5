# Shared bats helpers: paths, library loading, and the require_* guards.
# In strict mode (NUMASAFE_STRICT=1, or CI) a missing feature is a failure, not a skip:
# CI must never go green by skipping what it was meant to prove.

NS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The commands under test: bin/ of this checkout, or an installed package's (NS_REAL_BIN=/usr/sbin).
# Tests call them through tests/bin, which keeps every JSON document for `make json-check`.
export NS_REAL_BIN=${NS_REAL_BIN:-$NS_TOP/bin}
NS_BIN=$NS_TOP/tests/bin
NS_HELPERS=$NS_TOP/build/tests
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ns_strict() { [ "${NUMASAFE_STRICT:-}" = 1 ] || [ -n "${CI:-}" ]; }

ns_skip() {
	if ns_strict; then
		fail "required for this test, missing (strict mode): $*"
	fi
	skip "$*"
}

require_root() { [ "$(id -u)" -eq 0 ] || ns_skip "needs root"; }

require_nodes() {
	local have
	have=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
	[ "$have" -ge "$1" ] || ns_skip "needs $1 NUMA nodes, host has $have"
}

require_libvirt() {
	command -v virsh >/dev/null && virsh -c "${1:-qemu:///system}" version >/dev/null 2>&1 ||
		ns_skip "needs a running libvirtd (${1:-qemu:///system})"
}

require_swap_disk() { [ -b /dev/vda ] || ns_skip "needs the lab's swap disk /dev/vda"; }

# Start a stand-in VM in the background; sets STANDIN_PID. Extra args go to standin.
# A command to run it under (numactl --membind=1, say) goes in the array STANDIN_WRAP.
standin_start() {
	local ready="$BATS_TEST_TMPDIR/ready.$RANDOM"
	${STANDIN_WRAP[@]+"${STANDIN_WRAP[@]}"} "$NS_HELPERS/standin" --ready "$ready" --report "$BATS_TEST_TMPDIR/report" "$@" 3>&- &
	local i
	for i in $(seq 1 600); do
		[ -s "$ready" ] && break
		sleep 0.1
	done
	[ -s "$ready" ] || fail "stand-in did not get ready"
	STANDIN_PID=$(cat "$ready")
}

# A second stand-in that takes memory on a node, as a neighbour VM would; sets HOG (teardown
# kills it).
hog_start() { # NODE MIB
	local ready=$BATS_TEST_TMPDIR/hog.$RANDOM i
	numactl --membind="$1" "$NS_HELPERS/standin" --size "$2M" --ready "$ready" 3>&- &
	for i in $(seq 1 600); do [ -s "$ready" ] && break; sleep 0.1; done
	[ -s "$ready" ] || fail "hog did not start"
	HOG=$(cat "$ready")
}

# A neighbour that takes all but LEAVE MiB (default 50) of NODE's headroom (above a 64M
# reserve) as it is at this moment, started while a move runs there: whatever the move has
# moved by then, what it still needs (more than LEAVE) runs out of room. (Sized from the
# headroom before the move, a slow machine let the move take more than the margin first, and
# the kernel killed the neighbour.)
hog_fill() { # NODE [LEAVE]
	local room leave=${2:-50}
	room=$(($(node_headroom "$1" 64M) / 1048576))
	[ "$room" -gt $((leave + 50)) ] || fail "node $1: only $room MiB of headroom left for the neighbour"
	hog_start "$1" $((room - leave))
}

# Ask the stand-in to check its pattern; succeed only if every byte is intact.
standin_verify() {
	local pid=${1:-$STANDIN_PID} before
	before=$(wc -l <"$BATS_TEST_TMPDIR/report" 2>/dev/null || echo 0)
	kill -USR1 "$pid"
	local i
	for i in $(seq 1 600); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/report" 2>/dev/null || echo 0)" -gt "$before" ] && break
		sleep 0.1
	done
	run tail -n 1 "$BATS_TEST_TMPDIR/report"
	assert_output --regexp '^ok [0-9]+$'
}

standin_stop() {
	local p
	for p in ${STANDIN_PIDS:-} ${STANDIN_PID:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	STANDIN_PID= STANDIN_PIDS=
}

# A stand-in with 4 MiB of ordinary memory, 16 TB of reserved address space (MAP_NORESERVE)
# with 64 pages written at even strides, and, with --vmas N, N more pages as one-page VMAs
# (slow to read: a command can be caught reading them). Extra args go to standin.
sparse_start() { standin_start --size 4M --sparse 16T --touch 64 "$@"; }

# PID runs (and is not a zombie)
running() { [ -e "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }

# PID is reading TARGET's memory map (it has TARGET's numa_maps, smaps or pagemap open);
# false when PID ended before that was seen.
wait_scanning() { # PID TARGET
	local i
	for i in $(seq 1 3000); do
		ls -l "/proc/$1/fd" 2>/dev/null | grep -Eq " /proc/$2/(numa_maps|smaps|pagemap)\$" && return 0
		running "$1" || return 1
	done
	return 1
}

# Wait for the background PID; RC is its exit status. 20 s is a guard against a walk that does
# not heed the stop request, not a speed requirement.
wait_guard() { # PID
	local i
	for i in $(seq 1 200); do
		running "$1" || break
		sleep 0.1
	done
	if running "$1"; then
		kill -KILL "$1"
		wait "$1" || true
		fail "pid $1 still runs 20 s after SIGTERM"
	fi
	RC=0
	wait "$1" || RC=$?
}

# Wait until the stand-in reports it pushed its memory to swap (after SIGUSR2).
standin_pageout() {
	local pid=${1:-$STANDIN_PID} before i
	before=$(wc -l <"$BATS_TEST_TMPDIR/report" 2>/dev/null || echo 0)
	kill -USR2 "$pid"
	for i in $(seq 1 600); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/report" 2>/dev/null || echo 0)" -gt "$before" ] && break
		sleep 0.1
	done
	run tail -n 1 "$BATS_TEST_TMPDIR/report"
	assert_output paged
}

# The swap type of the first swapped page in a process's biggest mapping, read straight from
# /proc/PID/pagemap with dd and od: a check that does not go through libnumasafe.
pagemap_swap_type() {
	local pid=$1 range= start end page e
	local best=0 r a b
	while read -r r _; do
		a=$((16#${r%-*}))
		b=$((16#${r#*-}))
		if ((b - a > best)); then
			best=$((b - a))
			range=$r
		fi
	done <"/proc/$pid/maps"
	start=$((16#${range%-*}))
	end=$((16#${range#*-}))
	for ((page = start / 4096; page < end / 4096; page++)); do
		e=$(dd if="/proc/$pid/pagemap" bs=8 skip="$page" count=1 status=none | od -An -t u8 | tr -d ' ')
		# bit 62 swapped, bit 63 present (bash shifts arithmetically: 01 means swapped only)
		if [ "$(( (e >> 62) & 3 ))" -eq 1 ]; then
			echo $((e & 31))
			return 0
		fi
	done
	return 1
}

# A file of JSON documents (one per line) valid against schema/: for outputs of commands run
# directly ("$NS_REAL_BIN/CMD", as signal tests do), which tests/bin does not see.
assert_json_schema() {
	run /usr/bin/python3 "$NS_TOP/tests/json-validate" "$@"
	[ "$status" -eq 0 ] || fail "schema: $output"
}

# The kernel log must show no OOM kill since the mark taken by oom_mark.
# The per-VM lock file of process PID (numasafe/vmlock.h): keyed by its pid and start time
# (/proc/PID/stat field 22; the fields after the command name start at field 3).
vm_lock_file() { # PID
	echo "/run/numasafe/vm-$1-$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $20}').lock"
}

# Whether process PID holds a flock on FILE, from /proc/locks. Looking there takes no lock;
# a probing `flock -n FILE true` does, for a moment, and a command that tries the lock then
# finds it busy and gives up (a lab run once failed so).
holds_flock() { # PID FILE
	local ino
	ino=$(stat -c %i "$2" 2>/dev/null) || return 1
	awk -v p="$1" -v i="$ino" '$2 == "FLOCK" && $5 == p { n = split($6, f, ":"); if (f[n] == i) found = 1 }
		END { exit !found }' /proc/locks
}

oom_mark() { OOM_MARK=$(dmesg 2>/dev/null | grep -c -i 'killed process' || true); }
assert_no_oom() {
	local now
	now=$(dmesg 2>/dev/null | grep -c -i 'killed process' || true)
	[ "$now" -eq "${OOM_MARK:-0}" ] || fail "OOM killer ran: $(dmesg | grep -i 'killed process' | tail -n 1)"
}

# MiB of a process's anonymous memory on a node, straight from the kernel's numa_maps (not
# through libnumasafe): lines with anon= pages, N<node>= counts times the page size.
anon_mib_on() {
	awk -v node="N$2" '/anon=/ {
		ps = 4; for (i = 1; i <= NF; i++) if ($i ~ /^kernelpagesize_kB=/) { split($i, k, "="); ps = k[2] }
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == node) kb += kv[2] * ps }
	} END { printf "%d\n", kb / 1024 }' "/proc/$1/numa_maps"
}
anon_mib_total() {
	awk '/anon=/ {
		ps = 4; for (i = 1; i <= NF; i++) if ($i ~ /^kernelpagesize_kB=/) { split($i, k, "="); ps = k[2] }
		for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split($i, kv, "="); kb += kv[2] * ps }
	} END { printf "%d\n", kb / 1024 }' "/proc/$1/numa_maps"
}
# MiB of memory in a process's mappings without a file (heap, stack, anonymous: a QEMU's guest
# RAM without a backend file), from the kernel's numa_maps: what numasafe calls a VM's own
# memory when it has no shmem or hugetlb backend.
anon_vma_mib_total() {
	awk '!/ file=/ {
		ps = 4; for (i = 1; i <= NF; i++) if ($i ~ /^kernelpagesize_kB=/) { split($i, k, "="); ps = k[2] }
		for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split($i, kv, "="); kb += kv[2] * ps }
	} END { printf "%d\n", kb / 1024 }' "/proc/$1/numa_maps"
}
# At least PCT percent of the process's anonymous memory is on NODE.
assert_anon_on() {
	local pid=$1 node=$2 pct=${3:-99} on total
	on=$(anon_mib_on "$pid" "$node")
	total=$(anon_mib_total "$pid")
	[ "$total" -gt 0 ] && [ $((on * 100)) -ge $((total * pct)) ] ||
		fail "pid $pid: $on of $total MiB anon on node $node, want >= $pct%"
}
# Node N's headroom in bytes as numa-plan computes it with the given reserve.
node_headroom() {
	"$NS_BIN/numa-plan" show --json --reserve "$2" | jq ".nodes[] | select(.node == $1) | .headroom"
}

# The suites that read or write last-run records set /var/lib/numasafe aside for the file
# (setup_file) and put it back as it was (teardown_file), as tests/keep-state does for a whole
# run: a developer's or CI machine keeps its own records. Root only.
state_set_aside() {
	export NS_SAVED_STATE=
	if [ -e /var/lib/numasafe ] || [ -L /var/lib/numasafe ]; then
		NS_SAVED_STATE=$(mktemp -d /var/lib/numasafe-saved.XXXXXX)
		mv /var/lib/numasafe "$NS_SAVED_STATE/"
	fi
}
state_put_back() {
	rm -rf /var/lib/numasafe
	if [ -n "${NS_SAVED_STATE:-}" ]; then
		mv "$NS_SAVED_STATE/numasafe" /var/lib/numasafe
		rmdir "$NS_SAVED_STATE"
	fi
}

# The node holding most of PID's anonymous memory (the lab's rebalance and units suites).
main_node() { # PID
	local n best=-1 bestmib=-1 m nodes
	nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
	for ((n = 0; n < nodes; n++)); do
		m=$(anon_mib_on "$1" "$n")
		if [ "$m" -gt "$bestmib" ]; then
			best=$n
			bestmib=$m
		fi
	done
	echo "$best"
}

# exporter_start DIR: a real prometheus-node-exporter on a free loopback port with only the
# textfile collector, reading DIR; sets EXPORTER_PID and EXPORTER_URL (the caller stops it).
exporter_start() {
	local dir=$1 port i
	command -v prometheus-node-exporter >/dev/null || ns_skip "needs prometheus-node-exporter"
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$dir" >"$BATS_TEST_TMPDIR/exporter.log" 2>&1 3>&- &
	EXPORTER_PID=$!
	EXPORTER_URL=http://127.0.0.1:$port/metrics
	for i in $(seq 1 100); do
		curl -sf -o /dev/null "$EXPORTER_URL" && return 0
		kill -0 "$EXPORTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "node exporter did not answer: $(cat "$BATS_TEST_TMPDIR/exporter.log")"
}
