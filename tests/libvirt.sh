#!/bin/bash
# A real libvirtd with tiny real QEMU domains, for tests that need libvirt itself.
#   tests/libvirt.sh up                       start virtlogd + libvirtd (no systemd here)
#   tests/libvirt.sh domain NAME [VCPUS] [MODE NODESET]   (IOTHREADS=N in the environment
#                                             adds N libvirt I/O threads)
#                                             define and start a software-emulated domain
#                                             (128 MiB, no disk: its firmware finds nothing to
#                                             boot and idles, which is cheap), with
#                                             <numatune><memory mode=MODE nodeset=NODESET/>
#   tests/libvirt.sh destroy NAME             stop and undefine it
# Booting a real guest kernel is not needed: QEMU's vCPU threads, emulator threads and guest
# RAM exist all the same, and inside the lab a nested emulated kernel boot costs minutes.
set -euo pipefail
uri=qemu:///system

up() {
	if ! virsh -c "$uri" version >/dev/null 2>&1; then
		# daemons must not keep the caller's descriptors (bats waits for its fd 3 to close)
		pgrep -x virtlogd >/dev/null || virtlogd -d 3>&- 4>&- </dev/null >/dev/null 2>&1
		pgrep -x libvirtd >/dev/null || libvirtd -d 3>&- 4>&- </dev/null >/dev/null 2>&1
		for _ in $(seq 1 100); do
			virsh -c "$uri" version >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		echo "libvirt.sh: libvirtd did not come up" >&2
		return 1
	fi
}

domain() {
	local name=$1 vcpus=${2:-2} mode=${3:-} nodeset=${4:-} numa= xml
	up
	[ -n "$mode" ] && numa="<numatune><memory mode='$mode' nodeset='$nodeset'/></numatune>"
	[ -n "${IOTHREADS:-}" ] && numa+="<iothreads>$IOTHREADS</iothreads>"
	xml=$(mktemp)
	cat >"$xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static'>$vcpus</vcpu>
  $numa
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <memballoon model='none'/>
  </devices>
</domain>
XML
	virsh -c "$uri" destroy "$name" >/dev/null 2>&1 || true
	virsh -c "$uri" undefine "$name" >/dev/null 2>&1 || true
	virsh -c "$uri" define "$xml" >/dev/null
	rm -f "$xml"
	virsh -c "$uri" start "$name" >/dev/null
}

destroy() {
	virsh -c "$uri" destroy "$1" >/dev/null 2>&1 || true
	virsh -c "$uri" undefine "$1" >/dev/null 2>&1 || true
}

cmd=${1:-}
shift || true
case $cmd in
up | domain | destroy) "$cmd" "$@" ;;
*)
	sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
