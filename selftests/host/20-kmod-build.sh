#!/bin/bash
# The module built with W=1 (make kmods) for every kernel found, without a
# warning.  Expected: the floor, bullseye's 5.10, and every series Debian
# ships as of 2026-12: bookworm's 6.1 and bookworm-backports' 6.12 (make
# deps installs them: missing, they fail the test), sid's 7.2 and
# trixie-backports' 7.3 (make kernels, in chroots: missing, they are only
# named).  A kernel below the floor must refuse in one line.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/selftests/kernels.sh"
floor=5.10
from_deps="6.1 6.12"
from_chroots="5.10 7.2 7.3"

below_floor() {
	[ "$(printf '%s\n%s\n' "$floor" "$1" | sort -V | head -n 1)" != "$floor" ]
}

rc=0
found=$(kh_kernels --all)
for v in $found; do
	log=$top/build/$v/build.log
	c=$(kh_chroot "$v")
	if below_floor "$v"; then
		if [ -f "$top/build/$v/kh_reflect.ko" ] ||
		   ! grep -q "needs Linux $floor or newer" "$log" 2>/dev/null; then
			echo "FAIL: $v is below the floor $floor: expected no module and one line saying so"
			rc=1
		else
			echo "$v: below the floor $floor, refused in one line"
		fi
	elif [ ! -f "$top/build/$v/kh_reflect.ko" ]; then
		echo "FAIL: $v: no kh_reflect.ko (see $log)"
		[ -f "$log" ] && sed 's/^/  /' "$log"
		rc=1
	elif grep -E 'warning:|error:' "$log"; then
		echo "FAIL: $v: the W=1 build warns"
		rc=1
	else
		echo "$v: built with W=1, no warning${c:+ (in $c)}"
	fi
done

missing=
for s in $from_deps $from_chroots; do
	grep -q "^${s//./\\.}\." <<<"$found" && continue
	if [[ " $from_deps " == *" $s "* ]]; then
		echo "FAIL: no $s kernel (make deps installs it)"
		rc=1
	else
		missing+=" $s"
	fi
done
[ -z "$missing" ] ||
	echo "not built here:$missing (make kernels installs them in chroots)"
exit $rc
