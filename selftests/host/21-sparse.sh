#!/bin/bash
# sparse (C=2) over the module for every installed kernel: no report.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/kernels.sh"
command -v sparse >/dev/null || { echo "FAIL: sparse is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
cd "$top"
for v in $(kh_kernels); do
	d=$tmp/$v
	mkdir -p "$d"
	cp -r --parents Kbuild kmod include "$d/"
	make -C "/lib/modules/$v/build" M="$d" C=2 W=1 modules >"$d/log" 2>&1 ||
		{ echo "FAIL: $v: build failed"; cat "$d/log"; rc=1; continue; }
	if grep -E 'warning:|error:' "$d/log"; then
		echo "FAIL: $v: sparse reports"
		rc=1
	else
		echo "$v: sparse clean ($(grep -c ' CHECK ' "$d/log") files)"
	fi
done
exit $rc
