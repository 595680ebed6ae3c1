#!/bin/bash
# The kernels apt cannot install on Debian 12, each in a debootstrap chroot
# of its own suite: bullseye's 5.10, sid's newest and trixie-backports'.
# Their linux-kbuild needs the suite's libc and compiler, so the module is
# built (and checked with sparse, and packaged with DKMS) inside the chroot
# (selftests/kernels.sh, kh_in_chroot); the image and the modules are linked
# into the host's /boot and /lib/modules so that virtme-ng boots them with
# the host's userspace.
#
#   scripts/kernels.sh [--update] [SUITE...]
#
# Cached under /var/lib/kh-reflect/chroots/SUITE; a second run only checks
# the links.  --update upgrades each chroot's kernel.  The file
# /var/lib/kh-reflect/chroots/kernels lists "VERSION CHROOT" per kernel.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive LC_ALL=C
base=${KH_CHROOTS:-/var/lib/kh-reflect/chroots}
list=$base/kernels
update=0
if [ "${1:-}" = --update ]; then
	update=1
	shift
fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bullseye sid trixie-backports)

say() { printf 'kernels: %s\n' "$*"; }

# Beside the kernel: what builds the module, checks it, and packages it.
tools=(make gcc sparse dkms openssl)

# Inside the chroot with /proc, in a mount namespace that takes the mount
# away when the command ends.
in_chroot() {
	unshare --mount -- sh -c 'mount -t proc proc "$0/proc" && exec chroot "$@"' \
		"$1" "$@"
}

# The kernel of a ready chroot: the newest image whose build tree resolves
# inside it.
chroot_kernel() {
	local dir=$1 img v b
	for img in "$dir"/boot/vmlinuz-*; do
		[ -f "$img" ] || continue
		v=${img##*/vmlinuz-}
		b=$(readlink "$dir/lib/modules/$v/build" 2>/dev/null) || continue
		case $b in
		/*) b=$dir$b ;;
		*) b=$dir/lib/modules/$v/$b ;;
		esac
		if [ -f "$b/Makefile" ]; then
			echo "$v"
		fi
	done | sort -V | tail -n 1
}

# /boot/vmlinuz-VER and /lib/modules/VER/* on the host lead into the chroot,
# all but build and source: the build tree needs the chroot's compiler, and
# the host's DKMS and make must not take it for one of theirs.  A host
# kernel of the same version is left alone.
link_kernel() {
	local dir=$1 v=$2 f m=/lib/modules/$2
	for f in vmlinuz config System.map; do
		[ -e "$dir/boot/$f-$v" ] || continue
		[ -e "/boot/$f-$v" ] && [ ! -L "/boot/$f-$v" ] && continue
		ln -sfn "$dir/boot/$f-$v" "/boot/$f-$v"
	done
	if [ -L "$m" ]; then
		rm -f "$m"
	elif [ -d "$m" ] && [ ! -f "$m/.kh-chroot" ]; then
		say "$m is the host's own: not linking the chroot's"
		return
	fi
	mkdir -p "$m"
	echo "$dir" >"$m/.kh-chroot"
	for f in "$m"/*; do
		[ -L "$f" ] && [ ! -e "$dir$m/${f##*/}" ] && rm -f "$f"
	done
	for f in "$dir$m"/*; do
		case ${f##*/} in
		build|source) ;;
		*) ln -sfn "$f" "$m/${f##*/}" ;;
		esac
	done
}

# What 7.x's headers ask of sparse, and what trixie's 0.6.4 cannot do.
sparse_test='static int f(const int *p) { __typeof_unqual__(*p) x = *p; return x; }'

# Debian's 7.x headers lack scripts/checker-valid.sh, which the kernel's
# Makefile runs for C=1 and C=2: without it sparse is skipped (a make
# message, no warning).  Ours asks what the kernel's own asks: whether the
# checker parses these headers' __typeof_unqual__.
fix_headers() {
	local m h f
	for m in "$1"/usr/src/linux-headers-*/Makefile; do
		h=${m%/Makefile}
		f=$h/scripts/checker-valid.sh
		grep -q 'scripts/checker-valid\.sh' "$m" || continue
		[ ! -e "$f" ] || grep -q kh_reflect "$f" || continue
		cat >"$f" <<CHECKER
#!/bin/sh
# Missing from Debian's headers; put here by kh_reflect's scripts/kernels.sh.
command -v "\$1" >/dev/null || exit 0
f=\$(mktemp --suffix=.c) || exit 0
echo '$sparse_test' >"\$f"
out=\$("\$@" "\$f" 2>&1) && [ -z "\$out" ] && echo 1
rm -f "\$f"
CHECKER
		chmod 0755 "$f"
	done
}

# A suite whose sparse cannot check its kernel (trixie's 0.6.4 and 7.3)
# takes the sparse binary of sid's package, in /usr/local: it needs nothing
# newer than trixie's libc (the package would bring sid's gcc along).
fix_sparse() {
	local dir=$1 dist=$2
	grep -qs __typeof_unqual__ "$dir"/usr/src/linux-headers-*/include/linux/compiler_types.h ||
		return 0
	in_chroot "$dir" sh -c 'f=$(mktemp --suffix=.c) && echo "$1" >"$f" &&
		out=$(sparse "$f" 2>&1); rc=$?; rm -f "$f"; [ $rc = 0 ] && [ -z "$out" ]' \
		sh "$sparse_test" && return 0
	[ "$dist" != sid ] || { say "sid's sparse cannot check sid's kernel"; return 1; }
	say "${dir##*/}: sparse from sid (the suite's is too old for its kernel)"
	echo "deb $mirror sid main" >"$dir/etc/apt/sources.list.d/kh-sid.list"
	printf 'Package: *\nPin: release n=sid\nPin-Priority: 50\n' \
		>"$dir/etc/apt/preferences.d/kh-sid"
	rm -rf "$dir/opt/kh-sparse"
	mkdir -p "$dir/opt/kh-sparse"
	{
		in_chroot "$dir" apt-get update -q -o Acquire::Retries=3 \
			-o Acquire::Check-Valid-Until=false &&
		in_chroot "$dir" sh -c 'cd /opt/kh-sparse && apt-get download sparse/sid &&
			dpkg-deb -x sparse_*.deb . && rm -f sparse_*.deb' &&
		ln -sfn /opt/kh-sparse/usr/bin/sparse "$dir/usr/local/bin/sparse"
	} >>"$dir.log" 2>&1
}

# The mirror of the configured bookworm suite, and of bookworm-security.
mirror_of() {
	local suite=$1 src=/etc/apt/sources.list.d/debian.sources uri=""
	if [ -f "$src" ]; then
		uri=$(awk -v s="$suite" '
			/^URIs:/   { u = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print u; exit } }
			/^$/       { u = "" }' "$src")
	fi
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }' \
			/etc/apt/sources.list)
	fi
	echo "$uri"
}

setup_suite() {
	local suite=$1 dir=$base/$1 dist=${1%-backports} v t=()
	local ready=$dir/.kh-ready

	if [ -f "$ready" ] && [ "$update" = 0 ] &&
	   in_chroot "$dir" dpkg-query -W "${tools[@]}" >/dev/null 2>&1; then
		v=$(chroot_kernel "$dir")
		if [ -n "$v" ]; then
			fix_headers "$dir"
			fix_sparse "$dir" "$dist"
			link_kernel "$dir" "$v"
			return 0
		fi
	fi
	if [ ! -f "$dir/.kh-debootstrapped" ]; then
		say "$suite: debootstrap $dist (log: $dir.log)"
		rm -rf "$dir"
		debootstrap --variant=minbase "$dist" "$dir" "$mirror" >"$dir.log" 2>&1 ||
			{ tail -n 20 "$dir.log"; say "$suite: debootstrap failed"; return 1; }
		touch "$dir/.kh-debootstrapped"
	fi
	{
		echo "deb $mirror $dist main"
		[ "$dist" = sid ] || echo "deb $mirror $dist-updates main"
		[ "$dist" = sid ] || [ -z "$security" ] ||
			echo "deb $security $dist-security main"
		[ "$dist" = "$suite" ] || echo "deb $mirror $suite main"
	} >"$dir/etc/apt/sources.list"
	[ "$dist" = "$suite" ] || t=(-t "$suite")

	# The configured mirror may be a snapshot, and sid's Release file is
	# valid for a week only.
	say "$suite: kernel, headers, ${tools[*]} (log: $dir.log)"
	{
		in_chroot "$dir" apt-get update -q -o Acquire::Retries=3 \
			-o Acquire::Check-Valid-Until=false &&
		in_chroot "$dir" apt-get install -y -q --no-install-recommends "${t[@]}" \
			linux-image-amd64 linux-headers-amd64 &&
		in_chroot "$dir" apt-get install -y -q --no-install-recommends \
			"${tools[@]}" &&
		in_chroot "$dir" apt-get clean
	} >>"$dir.log" 2>&1 ||
		{ tail -n 20 "$dir.log"; say "$suite: apt-get in the chroot failed"; return 1; }

	v=$(chroot_kernel "$dir")
	[ -n "$v" ] || { say "$suite: no kernel with a build tree in $dir"; return 1; }
	fix_headers "$dir"
	fix_sparse "$dir" "$dist" ||
		{ tail -n 20 "$dir.log"; say "$suite: no sparse for its kernel"; return 1; }
	link_kernel "$dir" "$v"
	echo "$v" >"$ready"
	say "$suite: $v"
}

mkdir -p "$base"
mirror=$(mirror_of bookworm)
security=$(mirror_of bookworm-security)
[ -n "$mirror" ] || { echo "kernels: no bookworm suite configured in apt" >&2; exit 1; }

if ! command -v debootstrap >/dev/null; then
	while pgrep -x 'apt-get|dpkg' >/dev/null; do sleep 5; done
	say "installing debootstrap"
	apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi

# Network bound: the suites side by side.
pids=()
for s in "${suites[@]}"; do
	setup_suite "$s" &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done

# The list, from every ready chroot (not only those of this run).
tmp=$(mktemp "$list.XXXXXX")
for r in "$base"/*/.kh-ready; do
	[ -f "$r" ] || continue
	dir=${r%/.kh-ready}
	v=$(chroot_kernel "$dir")
	[ -n "$v" ] && echo "$v $dir"
done | sort -V >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$list"
sed 's/^/kernels: /' "$list"
exit $rc
