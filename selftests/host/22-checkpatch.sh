#!/bin/bash
# checkpatch.pl --strict (from Debian's linux-source) over the module and UAPI.
top=$(cd "$(dirname "$0")/../.." && pwd)
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "FAIL: no linux-source tarball (run make deps)"; exit 1; }
cache=${KH_CACHE:-/var/cache/kh-reflect}/checkpatch-$(basename "$tarball" .tar.xz)-$(stat -c %Y "$tarball")
if [ ! -f "$cache/scripts/checkpatch.pl" ]; then
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' ||
		{ echo "FAIL: could not extract checkpatch.pl"; exit 1; }
fi
cd "$top"
out=$(perl "$cache/scripts/checkpatch.pl" --strict --no-tree --terse -q \
	-f kmod/*.c kmod/*.h include/uapi/linux/kh_reflect.h 2>&1 |
	grep -E ': (ERROR|WARNING|CHECK):')
if [ -n "$out" ]; then
	echo "$out"
	echo "FAIL: checkpatch --strict reports the above"
	exit 1
fi
echo "checkpatch --strict: clean ($(ls kmod/*.[ch] | wc -l) files and the UAPI header)"
