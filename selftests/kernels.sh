# Sourced: the kernels the tests run on, each with an image and a build tree.
#
# Two kinds: those apt installed on the host (make deps: 6.1 and 6.12), and
# those scripts/kernels.sh installed in a chroot of their own suite (5.10,
# 7.2, 7.3), listed as "VERSION CHROOT" in $KH_CHROOT_LIST.  A chroot
# kernel's image and modules are linked into the host's /boot and
# /lib/modules, so it boots like the others, but its build tree resolves
# only inside the chroot and needs the chroot's compiler: kh_kmake builds
# there.

KH_CHROOT_LIST=${KH_CHROOT_LIST:-/var/lib/kh-reflect/chroots/kernels}

# kh_chroot VER: the chroot VER builds in; nothing for a host kernel.
kh_chroot() {
	[ -f "$KH_CHROOT_LIST" ] || return 0
	awk -v v="$1" '$1 == v { print $2; exit }' "$KH_CHROOT_LIST"
}

# kh_build_tree VER: VER's build tree as the host sees it.
kh_build_tree() {
	local c b

	c=$(kh_chroot "$1")
	if [ -z "$c" ]; then
		echo "/lib/modules/$1/build"
		return
	fi
	b=$(readlink "$c/lib/modules/$1/build") || return 1
	case $b in
	/*) echo "$c$b" ;;
	*) echo "$c/lib/modules/$1/$b" ;;
	esac
}

# kh_kernels [--all]: the host's kernels, the ones make check and make demo
# boot; with --all the chroot kernels too (make kmods, make check-kernels,
# the build and sparse tests).
kh_kernels() {
	local d v c

	{
		for d in /lib/modules/*/build; do
			v=$(basename "$(dirname "$d")")
			[ -f "$d/Makefile" ] && [ -f "/boot/vmlinuz-$v" ] && echo "$v"
		done
		if [ "${1:-}" = --all ] && [ -f "$KH_CHROOT_LIST" ]; then
			while read -r v c; do
				[ -f "$(kh_build_tree "$v")/Makefile" ] &&
					[ -f "/boot/vmlinuz-$v" ] && echo "$v"
			done <"$KH_CHROOT_LIST"
		fi
	} | sort -uV
}

# kh_in_chroot VER DIR CMD...: run CMD for kernel VER with the directory
# DIR at its own path: on the host for a host kernel, else inside VER's
# chroot, with DIR bound there in a mount namespace of its own (gone when
# CMD ends; several may run at once).  The chroot needs root.
kh_in_chroot() {
	local v=$1 dir c
	dir=$(cd "$2" && pwd) || return 1
	shift 2

	c=$(kh_chroot "$v")
	if [ -z "$c" ]; then
		"$@"
		return
	fi
	mkdir -p "$c$dir" || return 1
	unshare --mount -- sh -c '
		c=$1 dir=$2
		shift 2
		mount -t proc proc "$c/proc" &&
		mount --bind "$dir" "$c$dir" &&
		exec chroot "$c" env PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
			sh -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
	' sh "$c" "$dir" "$@"
}

# kh_kmake VER DIR MAKEARGS...: make the module whose sources are in DIR
# (Kbuild at its top) for kernel VER, in VER's chroot if it has one.
kh_kmake() {
	local v=$1 dir
	dir=$(cd "$2" && pwd) || return 1
	shift 2
	kh_in_chroot "$v" "$dir" make -C "/lib/modules/$v/build" M="$dir" "$@"
}
