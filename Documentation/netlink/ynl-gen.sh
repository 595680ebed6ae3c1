#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
#   ynl-gen.sh [DIR]   render kmod/netlink-gen.c and kmod/netlink-gen.h from
#                      specs/kh_reflect.yaml into DIR (default: the tree's
#                      kmod/, which is what make netlink-gen does)
#   ynl-gen.sh --ynl   print the directory of the kernel's YNL (extracting it
#                      first if need be): tools/net/ynl and the schemas
#
# The generator is the kernel's tools/net/ynl/ynl-gen-c.py, from the newest
# Debian linux-source tarball (make deps installs linux-source-6.12; 6.1's
# has no YNL).  tools/net/ynl and the netlink schemas are extracted once into
# /var/lib/kh-reflect/ynl-SOURCE-MTIME, where selftests/host/43-ynl-spec.sh
# and the VM test selftests/tests/70-ynl.sh find them too (not under
# /var/cache: virtme-ng mounts an empty tmpfs there in the guest).
set -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
spec=$top/Documentation/netlink/specs/kh_reflect.yaml
py=/usr/bin/python3
root=/var/lib/kh-reflect

die() {
	echo "ynl-gen: $*" >&2
	exit 1
}

# ynl_cache: the extracted YNL directory, on stdout.
ynl_cache() {
	local tarball src cache part

	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tarball" ] ||
		die "no /usr/src/linux-source-*.tar.xz: the kernel's ynl-gen-c.py comes from linux-source-6.12 (make deps)"
	src=$(basename "$tarball" .tar.xz)
	cache=$root/ynl-$src-$(stat -c %Y "$tarball")
	if [ ! -d "$cache/tools/net/ynl" ]; then
		echo "extracting tools/net/ynl and the netlink schemas from $tarball" >&2
		mkdir -p "$root" || die "cannot create $root"
		part=$(mktemp -d "$root/.ynl.XXXXXX") || die "cannot write in $root"
		if ! tar -xJf "$tarball" -C "$part" --strip-components=1 --wildcards \
			'*/tools/net/ynl/*' '*/Documentation/netlink/*.yaml'; then
			rm -rf "$part"
			die "could not extract tools/net/ynl from $tarball"
		fi
		# older extractions of the same source go; the new one appears whole
		rm -rf "$root/ynl-$src-"*
		mv "$part" "$cache" || die "cannot move the extraction to $cache"
		chmod 755 "$cache"
	fi
	# 6.14 moved the Python side to tools/net/ynl/pyynl
	if [ ! -f "$cache/tools/net/ynl/ynl-gen-c.py" ] &&
	   [ ! -f "$cache/tools/net/ynl/pyynl/ynl_gen_c.py" ]; then
		die "$src has no YNL (tools/net/ynl/ynl-gen-c.py): linux-source-6.12 is needed (make deps)"
	fi
	echo "$cache"
}

[ -x "$py" ] || die "no $py (make deps)"
cache=$(ynl_cache) || exit 1
if [ "${1:-}" = --ynl ]; then
	echo "$cache"
	exit 0
fi
out=${1:-$top/kmod}
$py -c 'import yaml, jsonschema' 2>/dev/null ||
	die "python3-yaml and python3-jsonschema are needed (make deps)"
gen=$cache/tools/net/ynl/ynl-gen-c.py
[ -f "$gen" ] || gen=$cache/tools/net/ynl/pyynl/ynl_gen_c.py

# ynl-gen-c finds the schema and the kernel root (to name the spec in the
# files it writes) from the spec's path: give it a small tree.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree/Documentation/netlink/specs" "$tmp/out"
: >"$tmp/tree/MAINTAINERS"
cp "$cache"/Documentation/netlink/*.yaml "$tmp/tree/Documentation/netlink/"
cp "$spec" "$tmp/tree/Documentation/netlink/specs/"
for mode in source header; do
	f=$tmp/out/netlink-gen.c
	[ $mode = header ] && f=$tmp/out/netlink-gen.h
	(cd "$(dirname "$gen")" && timeout 60 $py "$gen" --mode kernel --$mode \
		--spec "$tmp/tree/Documentation/netlink/specs/kh_reflect.yaml" \
		-o "$f") >"$tmp/log" 2>&1 || {
		tail -n 5 "$tmp/log" >&2
		die "ynl-gen-c ($(basename "$cache")) failed on the $mode"
	}
done
mkdir -p "$out" && cp "$tmp/out/netlink-gen.c" "$tmp/out/netlink-gen.h" "$out/" ||
	die "cannot write $out"
echo "ynl-gen: $out/netlink-gen.c and netlink-gen.h from $(basename "$spec") by $(basename "$cache")"
