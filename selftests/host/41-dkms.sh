#!/bin/bash
# DKMS builds the module from the repository's dkms.conf for every kernel
# whose headers are installed (Debian 12's 6.1 and bookworm-backports' 6.12),
# each build checked with modinfo.  Everything happens in a DKMS tree of the
# test's own, signed (when DKMS signs) with a throwaway key: the system's
# /var/lib/dkms, /usr/src and /lib/modules are not touched.
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v dkms >/dev/null || { echo "FAIL: dkms is not installed (make deps)"; exit 1; }

conf() { sed -n "s/^$1=\"\\(.*\\)\"\$/\\1/p" "$top/dkms.conf"; }
name=$(conf PACKAGE_NAME)
ver=$(conf PACKAGE_VERSION)
mod=$(conf 'BUILT_MODULE_NAME\[0\]')
want=$(sed -n 's/^VERSION := //p' "$top/Makefile")
[ "$ver" = "$want" ] ||
	{ echo "FAIL: dkms.conf says version '$ver', the Makefile '$want'"; exit 1; }

kernels=$(for d in /lib/modules/*/build; do
	[ -f "$d/Makefile" ] && basename "$(dirname "$d")"
done | sort -V)
[ "$(wc -w <<<"$kernels")" -ge 2 ] ||
	{ echo "FAIL: expected the headers of the 6.1 and 6.12 kernels, found: $kernels"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src/$name-$ver
mkdir -p "$src" "$tmp/tree" "$tmp/install"
(cd "$top" && cp -p --parents dkms.conf Kbuild kmod/*.c kmod/*.h \
	include/uapi/linux/kh_reflect.h "$src/") || exit 1
# dkms reads these from its framework file unless they are set already
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
opts=(-m "$name" -v "$ver" --dkmstree "$tmp/tree" --sourcetree "$tmp/src"
      --installtree "$tmp/install")

dkms add "${opts[@]}" >"$tmp/add.log" 2>&1 ||
	{ cat "$tmp/add.log"; echo "FAIL: dkms add"; exit 1; }
rc=0
for k in $kernels; do
	if ! dkms build "${opts[@]}" -k "$k" >"$tmp/build.log" 2>&1; then
		cat "$tmp/build.log"
		find "$tmp/tree" -name make.log -exec tail -n 30 {} \;
		echo "FAIL: $k: dkms build"
		rc=1
		continue
	fi
	ko=$(find "$tmp/tree/$name/$ver/$k" -name "$mod.ko*" | head -n 1)
	if [ -z "$ko" ]; then
		echo "FAIL: $k: dkms build left no $mod.ko"
		rc=1
		continue
	fi
	magic=$(modinfo -F vermagic "$ko")
	if [ "$(modinfo -F name "$ko")" != "$mod" ] || [[ $magic != "$k "* ]] ||
	   [ "$(modinfo -F version "$ko")" != "$ver" ]; then
		modinfo "$ko"
		echo "FAIL: $k: $ko is not $mod $ver for $k"
		rc=1
		continue
	fi
	status=$(dkms status "${opts[@]}" -k "$k" 2>&1)
	if [[ $status != *": built"* ]]; then
		echo "$status"
		echo "FAIL: $k: dkms status does not say built"
		rc=1
		continue
	fi
	signer=$(modinfo -F signer "$ko")
	echo "$k: ${ko##*/}, vermagic '$magic'${signer:+, signed by '$signer'}"
done
exit $rc
