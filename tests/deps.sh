#!/bin/bash
# Install every Debian package the build, the tests and the lab need. Idempotent and quick
# when all are present: only missing packages trigger apt-get.
set -euo pipefail
pkgs=(
	build-essential pkg-config
	libnuma-dev libvirt-dev libcap-dev libpopt-dev libjson-c-dev libcmocka-dev
	bats bats-support bats-assert bats-file
	numactl jq util-linux procps kmod busybox-static qemu-system-x86 libcap2-bin time
	libvirt-daemon-system libvirt-clients man-db groff-base python3-jsonschema
	ansible-core python3-apt python3-voluptuous yamllint pylint pycodestyle
	prometheus prometheus-node-exporter python3-prometheus-client curl
	debhelper lintian systemd dpkg-dev
	clang libclang-rt-dev # libFuzzer for make fuzz (-fsanitize=fuzzer needs the runtime)
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
