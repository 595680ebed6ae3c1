#!/bin/bash
# make install-khctl (which make install runs) puts khctl, khctl(8),
# kh_reflect(7), the bash completion and khctl-sync@.service under DESTDIR
# and PREFIX, or where SBINDIR, MANDIR, COMPLETIONDIR and UNITDIR say; the
# unit runs the khctl installed and passes systemd-analyze verify; make
# uninstall-khctl takes everything back out.
top=$(cd "$(dirname "$0")/../.." && pwd)
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
bad() { echo "FAIL: $*"; rc=1; }

# check NAME MAKE-ARGS... -- EXPECTED-FILES...
check() {
	local name=$1 dest=$tmp/$1 args=() f unit

	shift
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	mkdir -p "$dest"
	make -s -C "$top" install-khctl DESTDIR="$dest" "${args[@]}" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log"; bad "$name: make install-khctl ${args[*]}"; return; }
	diff <(printf '%s\n' "$@" | sort) <(cd "$dest" && find . -type f | sed 's|^\.||' | sort) ||
		bad "$name: make install-khctl ${args[*]} installed other files (diff above)"
	unit=$(find "$dest" -name 'khctl-sync@.service')
	[ -x "$dest/${1#/}" ] || bad "$name: $1 is not executable"
	grep -q -x "ExecStart=$1 peers sync %i --watch" "$unit" ||
		bad "$name: the unit does not run $1: $(grep ExecStart= "$unit")"
	make -s -C "$top" uninstall-khctl DESTDIR="$dest" "${args[@]}" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log"; bad "$name: make uninstall-khctl"; }
	f=$(find "$dest" -type f)
	[ -z "$f" ] || bad "$name: make uninstall-khctl left $f"
	[ "$rc" = 0 ] && echo "$name: $# files in, and out again"
}

check local PREFIX=/usr/local -- /usr/local/sbin/khctl \
	/usr/local/share/man/man8/khctl.8 /usr/local/share/man/man7/kh_reflect.7 \
	/usr/local/share/bash-completion/completions/khctl \
	/usr/local/lib/systemd/system/khctl-sync@.service
check debian PREFIX=/usr UNITDIR=/lib/systemd/system -- /usr/sbin/khctl \
	/usr/share/man/man8/khctl.8 /usr/share/man/man7/kh_reflect.7 \
	/usr/share/bash-completion/completions/khctl \
	/lib/systemd/system/khctl-sync@.service
check dirs SBINDIR=/opt/kh/bin MANDIR=/opt/kh/man COMPLETIONDIR=/opt/kh/bc \
	UNITDIR=/opt/kh/units -- /opt/kh/bin/khctl /opt/kh/man/man8/khctl.8 \
	/opt/kh/man/man7/kh_reflect.7 /opt/kh/bc/khctl /opt/kh/units/khctl-sync@.service

# The unit as installed, its khctl and man pages where this test put them
# (systemd-analyze checks that ExecStart= exists and Documentation= resolves).
dest=$tmp/verify
make -s -C "$top" install-khctl DESTDIR="$dest" PREFIX=/usr/local >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; bad "make install-khctl"; exit 1; }
if command -v systemd-analyze >/dev/null; then
	sed "s|=/usr/local/sbin/khctl|=$dest/usr/local/sbin/khctl|" \
		"$dest/usr/local/lib/systemd/system/khctl-sync@.service" >"$tmp/khctl-sync@wg0.service"
	out=$(MANPATH=$dest/usr/local/share/man systemd-analyze verify "$tmp/khctl-sync@wg0.service" 2>&1) ||
		bad "systemd-analyze verify khctl-sync@wg0.service: $out"
	[ "$rc" = 0 ] && echo "systemd-analyze verify khctl-sync@wg0.service: clean"
else
	bad "no systemd-analyze (make deps)"
fi
exit $rc
