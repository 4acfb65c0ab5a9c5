#!/bin/bash
# make demo: numa-plan's view of a 2-node NUMA lab guest (qemu, software emulation), with a
# stand-in VM whose memory is bound to node 1 and another spread over both nodes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
echo "== booting a 2-node lab guest (first run downloads Debian's kernel once) =="
exec tests/lab/lab-run --nodes 2 --mem 768 -- bash -c '
set -e
say() { printf "\n\$ %s\n" "$*"; }
s=build/tests/standin
numactl --membind=1 $s --size 128M --ready /tmp/a >/dev/null & 
numactl --interleave=0,1 $s --size 96M --ready /tmp/b >/dev/null &
while [ ! -s /tmp/a ] || [ ! -s /tmp/b ]; do sleep 0.2; done
say numa-plan show
bin/numa-plan show
say "numa-plan show $(cat /tmp/a)    # stand-in bound to node 1 (numactl --membind=1)"
bin/numa-plan show "$(cat /tmp/a)"
say "numa-plan show $(cat /tmp/b)    # stand-in interleaved over nodes 0 and 1"
bin/numa-plan show "$(cat /tmp/b)"
say "numastat -p $(cat /tmp/a)    # the independent view"
numastat -p "$(cat /tmp/a)" | tail -n 4
kill $(cat /tmp/a) $(cat /tmp/b)
'
