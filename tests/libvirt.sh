#!/bin/bash
# A real libvirtd with tiny real QEMU domains, for tests that need libvirt itself.
#   tests/libvirt.sh up                       start virtlogd + libvirtd (no systemd here)
#   tests/libvirt.sh domain NAME [VCPUS] [MODE NODESET]
#                                             define and start a software-emulated domain
#                                             (128 MiB, busybox initramfs that sleeps), with
#                                             <numatune><memory mode=MODE nodeset=NODESET/>
#   tests/libvirt.sh destroy NAME             stop and undefine it
# The guest kernel is the lab's Debian kernel (tests/lab/lab-run --prepare fetches it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
uri=qemu:///system
boot=/var/lib/libvirt/boot/numasafe

up() {
	if ! virsh -c "$uri" version >/dev/null 2>&1; then
		pgrep -x virtlogd >/dev/null || virtlogd -d
		pgrep -x libvirtd >/dev/null || libvirtd -d
		for _ in $(seq 1 100); do
			virsh -c "$uri" version >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		echo "libvirt.sh: libvirtd did not come up" >&2
		return 1
	fi
}

images() {
	local cache=${LAB_CACHE:-/var/cache/numasafe-lab} ver tmp
	[ -s "$boot/vmlinuz" ] && [ -s "$boot/initrd" ] && return 0
	[ -s "$cache/kernel/current" ] || "$top/tests/lab/lab-run" --prepare >&2
	ver=$(cat "$cache/kernel/current")
	mkdir -p "$boot"
	cp "$cache/kernel/$ver/boot/vmlinuz-$ver" "$boot/vmlinuz.tmp"
	tmp=$(mktemp -d)
	mkdir -p "$tmp/bin"
	cp "$(command -v busybox)" "$tmp/bin/busybox"
	printf '#!/bin/busybox sh\nexec /bin/busybox sleep 100000000\n' >"$tmp/init"
	chmod +x "$tmp/init"
	(cd "$tmp" && find . | busybox cpio -o -H newc 2>/dev/null) >"$boot/initrd.tmp"
	rm -rf "$tmp"
	mv "$boot/vmlinuz.tmp" "$boot/vmlinuz"
	mv "$boot/initrd.tmp" "$boot/initrd"
}

domain() {
	local name=$1 vcpus=${2:-2} mode=${3:-} nodeset=${4:-} numa= xml
	up
	images
	[ -n "$mode" ] && numa="<numatune><memory mode='$mode' nodeset='$nodeset'/></numatune>"
	xml=$(mktemp)
	cat >"$xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static'>$vcpus</vcpu>
  $numa
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$boot/vmlinuz</kernel>
    <initrd>$boot/initrd</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
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
