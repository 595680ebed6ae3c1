#!/bin/bash
# kmod/netlink-gen.c and netlink-gen.h are what the kernel's ynl-gen-c.py
# renders from Documentation/netlink/specs/kh_reflect.yaml today: rendering
# them again (Documentation/netlink/ynl-gen.sh, as make netlink-gen does)
# changes nothing.  A spec edited without make netlink-gen fails here.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$top/Documentation/netlink/ynl-gen.sh" "$tmp" >"$tmp/log" 2>&1 || {
	cat "$tmp/log"
	echo "FAIL: could not render the family from its spec"
	exit 1
}
rc=0
for f in netlink-gen.c netlink-gen.h; do
	if [ ! -f "$top/kmod/$f" ]; then
		echo "FAIL: no kmod/$f (make netlink-gen)"
		rc=1
	elif ! diff -u "$top/kmod/$f" "$tmp/$f" >"$tmp/diff"; then
		sed -n 1,40p "$tmp/diff"
		echo "FAIL: kmod/$f is not what the spec renders: make netlink-gen, and commit it"
		rc=1
	fi
done
[ $rc = 0 ] || exit 1
echo "kmod/netlink-gen.[ch] are current: $(tail -n 1 "$tmp/log" | sed 's/.* by //')"
