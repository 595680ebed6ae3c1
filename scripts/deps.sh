#!/bin/bash
# Install everything kh_reflect needs to build and to run its VM tests, from
# Debian's own archive only.  Safe to run again: it adds what is missing and
# changes nothing that is already in place.
#
#   - toolchain, libnl-3/libnl-genl-3, sparse, linux-source (for checkpatch)
#   - packaging and its tests: dkms, debhelper, mandoc, bash-completion, and
#     linux-source-6.12 with python3-yaml/-jsonschema for the kernel's YNL
#   - Debian 12's 6.1 kernel image + headers, and 6.12 from bookworm-backports
#   - virtme-ng from Debian 13 (trixie), pinned at 50 so nothing else ever
#     comes from trixie by accident (at 100 a second run would pull trixie's
#     kernel meta packages and break on their newer libc)
#   - the tools the selftests run inside the VM
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/kh-reflect-deps.stamp
here=$(cd "$(dirname "$0")" && pwd)
want_hash=$(sha256sum "$here/deps.sh" | cut -d' ' -f1)

say() { printf 'deps: %s\n' "$*"; }

pkgs_host=(build-essential make gcc pkg-config libnl-3-dev libnl-genl-3-dev
	   kmod sparse linux-source-6.1 xz-utils bc flex bison libelf-dev
	   jq python3 clang libclang-rt-14-dev
	   dkms dh-dkms debhelper mandoc groff-base man-db bash-completion systemd
	   python3-yaml python3-jsonschema linux-source-6.12)
pkgs_vm=(qemu-system-x86 busybox-static iputils-ping iproute2 nftables
	 wireguard-tools iperf3 tcpdump procps conntrack socat udev coturn)

# Fast path: everything already there and this script unchanged.
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_hash" ] &&
   command -v vng >/dev/null &&
   ls /lib/modules/6.1.*/build/Makefile >/dev/null 2>&1 &&
   ls /lib/modules/6.12.*/build/Makefile >/dev/null 2>&1; then
	say "all dependencies present"
	exit 0
fi

# Reuse the mirror of the configured bookworm suite for backports and trixie.
src=/etc/apt/sources.list.d/debian.sources
ours=/etc/apt/sources.list.d/kh-reflect.sources
if [ ! -f "$ours" ]; then
	uri=""
	if [ -f "$src" ]; then
		uri=$(awk '
			/^URIs:/   { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }
			/^$/       { u = "" }' "$src")
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	fi
	if [ -z "$uri" ]; then
		echo "deps: no bookworm suite configured in apt; cannot find a Debian mirror" >&2
		exit 1
	fi
	say "adding bookworm-backports and trixie (pin 50) from the configured mirror"
	cat >"$ours" <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
cat >/etc/apt/preferences.d/kh-reflect-trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 50
PIN

say "apt-get update"
apt-get update -q -o Acquire::Retries=3 || say "apt-get update reported errors; going on with what it fetched"

say "host and VM packages"
apt-get install -y -q --no-install-recommends "${pkgs_host[@]}" "${pkgs_vm[@]}"

say "Debian 12 kernel (6.1)"
apt-get install -y -q --no-install-recommends -t bookworm linux-image-amd64 linux-headers-amd64
# The versioned 6.1 packages must stay when the meta packages move to 6.12.
v61=$(dpkg-query -W -f='${Package}\n' 'linux-image-6.1.*-amd64' 'linux-headers-6.1.*-amd64' 2>/dev/null |
	grep -v -- '-unsigned' || true)
[ -n "$v61" ] && apt-mark manual $v61 >/dev/null

say "bookworm-backports kernel (6.12)"
apt-get install -y -q --no-install-recommends -t bookworm-backports linux-image-amd64 linux-headers-amd64

say "virtme-ng from trixie"
apt-get install -y -q --no-install-recommends virtme-ng/trixie

ls /lib/modules/6.1.*/build/Makefile /lib/modules/6.12.*/build/Makefile >/dev/null
command -v vng >/dev/null
echo "$want_hash" >"$stamp"
say "done"
