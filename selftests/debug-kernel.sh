#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, or reuse, the debug kernel of `make check-debug`: Debian's
# linux-source-6.1 with virtme-ng's minimal config plus
# selftests/debug/debug.config (KASAN, lockdep, kmemleak, debug objects).
# Prints progress on stderr and the kernel tree's path as the last line of
# stdout.
#
# The tree lives outside the work tree, in
#   $KH_DEBUG_CACHE/linux-6.1_<source package version>_<config hash>
# (KH_DEBUG_CACHE defaults to /var/lib/kh-reflect/debug-kernel: virtme-ng
# hides /var/cache from the guest under a tmpfs), so it is built once per
# machine; a new linux-source-6.1 or a changed debug.config builds a new one
# and removes the stale ones.  An interrupted build goes on where it stopped.
# KH_DEBUG_JOBS sets make's -j (default: CPUs + 1).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug/debug.config
cache=${KH_DEBUG_CACHE:-/var/lib/kh-reflect/debug-kernel}
jobs=${KH_DEBUG_JOBS:-$(($(nproc) + 1))}
tarball=/usr/src/linux-source-6.1.tar.xz

say() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -f "$tarball" ] || die "no $tarball: install linux-source-6.1 (make deps)"
command -v virtme-configkernel >/dev/null ||
	die "no virtme-configkernel: install virtme-ng (make deps)"
# Beyond what make check needs: the kernel's own build wants these.
missing=()
for p in libssl-dev cpio bc flex bison libelf-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
fi

pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=${pkgver}_$(sha256sum "$frag" | cut -c1-12)
dir=$cache/linux-6.1_$key

mkdir -p "$cache"
# One builder at a time per cache.
exec 9>"$cache/.lock"
flock 9

if [ -f "$dir/.kh-built" ]; then
	say "reusing $dir (built $(date -u -r "$dir/.kh-built" '+%F %T UTC'))"
	echo "$dir"
	exit 0
fi

for old in "$cache"/linux-6.1_*; do
	[ -d "$old" ] && [ "$old" != "$dir" ] || continue
	say "removing stale $old"
	rm -rf "$old"
done

if [ ! -f "$dir/Makefile" ]; then
	say "unpacking linux-source-6.1 $pkgver"
	rm -rf "$dir.unpack"
	mkdir -p "$dir.unpack"
	tar xf "$tarball" -C "$dir.unpack"
	mv "$dir.unpack/linux-source-6.1" "$dir"
	rmdir "$dir.unpack"
fi

cd "$dir"

# check_config: every line of the fragment holds in .config
check_config() {
	local line name bad=0

	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" .config ||
				{ say "wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" .config || echo none)"; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }; name=${name%% *}
			if grep -q "^$name=" .config; then
				say "wanted $name off, got: $(grep "^$name=" .config)"
				bad=1
			fi
			;;
		esac
	done <"$frag"
	return $bad
}

if [ ! -f .kh-configured ]; then
	say "configuring: virtme-ng's minimal config + $frag"
	rm -f .config
	# virtme-ng appends its own must-haves after ours (debug info among
	# them): ours again, last, so that they win.
	{ virtme-configkernel --defconfig --custom "$frag" &&
	  cat "$frag" >>.config && make -s olddefconfig; } >.kh-config.log 2>&1 ||
		{ tail -n 20 .kh-config.log >&2; die "configuring failed (log: $dir/.kh-config.log)"; }
	check_config || die "the config does not hold debug.config (above)"
	touch .kh-configured
fi

t0=$EPOCHSECONDS
say "building with make -j$jobs (log: $dir/.kh-build.log);" \
    "about 25 minutes on 2 CPUs"
if ! make -j"$jobs" >.kh-build.log 2>&1; then
	tail -n 40 .kh-build.log >&2
	die "the kernel build failed (log: $dir/.kh-build.log)"
fi
secs=$((EPOCHSECONDS - t0))
echo "$secs" >.kh-build-seconds
touch .kh-built
say "built in $((secs / 60))m$((secs % 60))s"
echo "$dir"
