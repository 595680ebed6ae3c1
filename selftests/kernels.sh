# Sourced: the kernels the tests run on, each with an image and a build tree.
kh_kernels() {
	local d v
	for d in /lib/modules/*/build; do
		v=$(basename "$(dirname "$d")")
		[ -f "$d/Makefile" ] && [ -f "/boot/vmlinuz-$v" ] && echo "$v"
	done | sort -V
}
