#!/bin/bash
# DKMS builds the module from the repository's dkms.conf for every kernel
# whose headers are installed (Debian 12's 6.1 and bookworm-backports' 6.12),
# and for the kernels of make kernels with their chroot's own DKMS (5.10,
# 7.2, 7.3), each build checked with modinfo.  Everything happens in a DKMS
# tree of the test's own, one per kernel, signed (when DKMS signs) with a
# throwaway key: the system's /var/lib/dkms, /usr/src and /lib/modules are
# not touched.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/kernels.sh"
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
for k in $(kh_kernels --all); do
	[ -n "$(kh_chroot "$k")" ] && kernels+=" $k"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src/$name-$ver
mkdir -p "$src"
(cd "$top" && cp -p --parents dkms.conf Kbuild kmod/*.c kmod/*.h \
	include/uapi/linux/kh_reflect.h "$src/") || exit 1
# dkms reads these from its framework file unless they are set already
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub

rc=0
for k in $kernels; do
	# A chroot kernel's DKMS runs in its chroot, $tmp at the same path.
	t=$tmp/$k
	mkdir -p "$t/tree" "$t/install"
	opts=(-m "$name" -v "$ver" --dkmstree "$t/tree" --sourcetree "$tmp/src"
	      --installtree "$t/install")
	if ! kh_in_chroot "$k" "$tmp" dkms add "${opts[@]}" >"$t/add.log" 2>&1; then
		cat "$t/add.log"
		echo "FAIL: $k: dkms add"
		rc=1
		continue
	fi
	# DKMS 3.2 looks for the headers under --installtree: say where.  Not
	# to 2.x, which would run make mrproper in that tree.
	src_dir=()
	dv=$(kh_in_chroot "$k" "$tmp" dkms --version | grep -o '[0-9][0-9.]*' | head -n 1)
	[ "${dv%%.*}" -ge 3 ] 2>/dev/null && src_dir=(--kernelsourcedir "/lib/modules/$k/build")
	if ! kh_in_chroot "$k" "$tmp" dkms build "${opts[@]}" -k "$k" "${src_dir[@]}" \
		>"$t/build.log" 2>&1; then
		cat "$t/build.log"
		find "$t/tree" -name make.log -exec tail -n 30 {} \;
		echo "FAIL: $k: dkms build"
		rc=1
		continue
	fi
	ko=$(find "$t/tree/$name/$ver/$k" -name "$mod.ko*" | head -n 1)
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
	status=$(kh_in_chroot "$k" "$tmp" dkms status "${opts[@]}" -k "$k" 2>&1)
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
