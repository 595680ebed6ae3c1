#!/bin/bash
# sparse (C=2) over the module for every kernel found (kh_kernels --all, the
# chroot kernels with their chroot's sparse): no report.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/kernels.sh"
command -v sparse >/dev/null || { echo "FAIL: sparse is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
cd "$top"
for v in $(kh_kernels --all); do
	d=$tmp/$v
	mkdir -p "$d"
	cp -r --parents Kbuild kmod include "$d/"
	kh_kmake "$v" "$d" C=2 W=1 modules >"$d/log" 2>&1 ||
		{ echo "FAIL: $v: build failed"; cat "$d/log"; rc=1; continue; }
	n=$(grep -c ' CHECK ' "$d/log")
	if grep -E 'warning:|error:' "$d/log"; then
		echo "FAIL: $v: sparse reports"
		rc=1
	elif [ "$n" = 0 ]; then
		grep -i 'sparse\|checker' "$d/log"
		echo "FAIL: $v: sparse did not run"
		rc=1
	else
		echo "$v: sparse clean ($n files)"
	fi
done
exit $rc
