#!/bin/bash
# The module built with W=1 for every installed kernel, without a warning.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/kernels.sh"
rc=0 n=0
for v in $(kh_kernels); do
	n=$((n + 1))
	log=$top/build/$v/build.log
	if [ ! -f "$top/build/$v/kh_reflect.ko" ]; then
		echo "FAIL: $v: no kh_reflect.ko (see $log)"
		[ -f "$log" ] && sed 's/^/  /' "$log"
		rc=1
	elif grep -E 'warning:|error:' "$log"; then
		echo "FAIL: $v: the W=1 build warns"
		rc=1
	else
		echo "$v: built with W=1, no warning"
	fi
done
[ "$n" -ge 2 ] || { echo "FAIL: expected the 6.1 and 6.12 kernels, found $n"; rc=1; }
exit $rc
