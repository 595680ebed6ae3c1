#!/bin/bash
# make install and make uninstall into a DESTDIR: the module and khctl go
# where they belong and come back out.
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1 ||
	{ cat "$dest.log"; echo "FAIL: make install"; exit 1; }
ko=$(find "$dest/lib/modules" -name 'kh_reflect.ko*' | head -n 1)
[ -n "$ko" ] || { find "$dest"; echo "FAIL: no kh_reflect.ko under $dest/lib/modules"; exit 1; }
[ -x "$dest/usr/sbin/khctl" ] || { find "$dest"; echo "FAIL: no $dest/usr/sbin/khctl"; exit 1; }
echo "installed ${ko#"$dest"} and /usr/sbin/khctl"
make -s -C "$top" uninstall DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1 ||
	{ cat "$dest.log"; echo "FAIL: make uninstall"; exit 1; }
left=$(find "$dest" -type f)
[ -z "$left" ] || { echo "$left"; echo "FAIL: make uninstall left files"; exit 1; }
rm -f "$dest.log"
echo "uninstalled cleanly"
