#!/bin/bash
# make demo: numasafe in a 2-node NUMA lab guest (qemu, software emulation): numa-plan's view
# of the host and of a stand-in VM, then numa-migrate moving the VM across nodes with its
# progress line, refusing a move the target has no room for, and rolling one back when a
# neighbour fills the target mid-way; fast-swapoff refusing and then emptying a swap area; and
# the whole host by CPU demand: two busy VMs and an idle one stacked on node 0, numa-plan steal
# before, a plan by measured demand (per-node demand before and after), its execution (pin, then
# move), numa-plan steal and vm-pin --show after.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "== booting a 2-node lab guest (the first run downloads Debian's kernel once) =="
# show the progress line even when make's output is not a terminal
export LAB_TTY=${LAB_TTY:-1}
exec tests/lab/lab-run --nodes 2 --mem 768 --swap 256 -- bash -c '
set -e
say() { printf "\n\$ %s\n" "$*"; }
start() { # NODE MiB FILE: a stand-in VM with its memory on NODE
	numactl --membind=$1 build/tests/standin --size $2M --ready $3 --report /tmp/report >/dev/null &
	while [ ! -s $3 ]; do sleep 0.2; done
}
room() { bin/numa-plan show --json --reserve 64M | jq ".nodes[] | select(.node == $1) | .headroom / 1048576 | floor"; }
start 0 256 /tmp/vm
vm=$(cat /tmp/vm)
say numa-plan show
bin/numa-plan show
say "numa-plan show $vm    # a 256 MiB stand-in VM, all on node 0"
bin/numa-plan show $vm | tail -n 8

say "numa-migrate --to 1 --rate 100M --reserve 64M $vm"
bin/numa-migrate --to 1 --rate 100M --reserve 64M $vm
say "numastat -p $vm    # the independent view: now on node 1"
numastat -p $vm | tail -n 4

start 0 $(( $(room 0) - 128 )) /tmp/hog
say "# a neighbour took all but 128 MiB of node 0 headroom; moving 256 MiB back must be refused"
say "numa-migrate --to 0 --reserve 64M $vm"
bin/numa-migrate --to 0 --reserve 64M $vm || echo "(exit $?)"
kill $(cat /tmp/hog); wait $(cat /tmp/hog) 2>/dev/null || true; rm -f /tmp/hog

say "# now a throttled move back to node 0, and a neighbour filling node 0 while it runs"
say "numa-migrate --to 0 --rate 40M --reserve 64M $vm"
r=$(room 0)
bin/numa-migrate --to 0 --rate 40M --reserve 64M $vm & mig=$!
sleep 1
start 0 $(( r - 100 )) /tmp/hog
wait $mig || echo "(exit $?)"
say "numastat -p $vm    # back where it was before this move: node 1"
numastat -p $vm | tail -n 4
kill -USR1 $vm; sleep 2; echo "stand-in data check: $(tail -n 1 /tmp/report)"
kill $(cat /tmp/hog)

say "# now swap: the stand-in VM pushed out to /dev/vda (MADV_PAGEOUT)"
mkswap /dev/vda >/dev/null; swapon /dev/vda
kill -USR2 $vm; sleep 3
cat /proc/swaps
say "fast-swapoff --reserve 95% /dev/vda    # memory would be short: refused, the area stays on"
bin/fast-swapoff --reserve 95% /dev/vda || echo "(exit $?)"
say "fast-swapoff --rate 50M /dev/vda"
bin/fast-swapoff --rate 50M /dev/vda
cat /proc/swaps
grep VmSwap /proc/$vm/status
kill -USR1 $vm; sleep 2; echo "stand-in data check: $(tail -n 1 /tmp/report)"
kill $vm

say "# the whole host by CPU demand: two busy stand-in VMs and an idle one, all on node 0 (its CPU and memory)"
for i in 1 2 3; do
	busy=--busy
	[ $i = 3 ] && busy=
	numactl --membind=0 --cpunodebind=0 build/tests/standin --size 64M --vcpus 1 $busy --seed $i \
		--ready /tmp/w$i --report /tmp/report >/dev/null &
	while [ ! -s /tmp/w$i ]; do sleep 0.2; done
done
say "numa-plan steal -i 2    # the two busy vCPUs share node 0 CPU: each waits about half the time"
bin/numa-plan steal -i 2
say "numa-plan rebalance --sample 3 --reserve 64M -o /tmp/plan.json    # per-node demand before -> after"
bin/numa-plan rebalance --sample 3 --reserve 64M -o /tmp/plan.json
say "numa-migrate --plan /tmp/plan.json --reserve 64M    # per step: pin, then move"
bin/numa-migrate --plan /tmp/plan.json --reserve 64M
say "numa-plan steal -i 2    # after: each busy VM has a CPU of its own, the wait is gone"
bin/numa-plan steal -i 2
say "vm-pin --show    # each VM local to one node"
bin/vm-pin --show
for i in 1 2 3; do kill -USR1 $(cat /tmp/w$i); done; sleep 2
echo "stand-in data checks: $(tail -n 3 /tmp/report | tr "\n" " ")"
kill $(cat /tmp/w1) $(cat /tmp/w2) $(cat /tmp/w3)
'
