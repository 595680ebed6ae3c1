#!/bin/bash
# make deb builds kh-reflect-dkms and khctl; both install on this machine
# with "apt-get install ./...deb" (DKMS builds and installs the module for
# the installed kernels), everything is where it belongs (khctl, its man
# pages, completion and unit, the module for every kernel), and a purge
# leaves the machine as it was: the same packages, no module, no DKMS state.
#
# Nothing comes from the archive: the dependencies are there (make deps), or
# the test fails before it installs anything.  If either package is already
# installed on this machine and not by an earlier run of this test, the test
# leaves it alone and is skipped.  DKMS signs with a throwaway key, not with
# the machine's /var/lib/dkms/mok.key.
top=$(cd "$(dirname "$0")/../.." && pwd)
export LC_ALL=C DEBIAN_FRONTEND=noninteractive
pkgs=(khctl kh-reflect-dkms)
ver=$(sed -n 's/^VERSION := //p' "$top/Makefile")
arch=$(dpkg --print-architecture)
marker=/var/lib/kh-reflect/deb-test.installing

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 4; }
for c in dpkg-buildpackage dh dh_dkms dkms; do
	command -v "$c" >/dev/null || { echo "FAIL: no $c (make deps)"; exit 1; }
done

installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^.i'; }
present() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^[^u]'; }

purge() {
	apt-get purge -y -q "${pkgs[@]}" >"$tmp/purge.log" 2>&1
}

tmp=$(mktemp -d)
ours=0
cleanup() {
	if [ "$ours" = 1 ]; then
		echo "purging the packages after a failure"
		purge || cat "$tmp/purge.log"
		rm -f "$marker"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

if present khctl || present kh-reflect-dkms; then
	if [ ! -f "$marker" ]; then
		echo "SKIP: khctl or kh-reflect-dkms is installed on this machine: not touching it"
		exit 4
	fi
	echo "purging what an interrupted run of this test left"
	purge || { cat "$tmp/purge.log"; echo "FAIL: cannot purge the leftovers"; exit 1; }
	rm -f "$marker"
fi

echo "make deb"
make -s -C "$top" deb >"$tmp/deb.log" 2>&1 ||
	{ tail -n 40 "$tmp/deb.log"; echo "FAIL: make deb"; exit 1; }
debs=("$top/build/deb/kh-reflect-dkms_${ver}_all.deb" "$top/build/deb/khctl_${ver}_$arch.deb")
for d in "${debs[@]}"; do
	[ -f "$d" ] || { ls -l "$top/build/deb"; echo "FAIL: make deb made no ${d##*/}"; exit 1; }
done
for d in "${debs[@]}"; do
	echo "  ${d##*/}: $(dpkg-deb -f "$d" Architecture), depends: $(dpkg-deb -f "$d" Depends)"
done
[ "$(dpkg-deb -f "${debs[0]}" Architecture)" = all ] ||
	{ echo "FAIL: kh-reflect-dkms is not Architecture: all"; exit 1; }

# The state to come back to.
snapshot() {
	dpkg-query -W -f='${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' | sort
	find /lib/modules /usr/src /var/lib/dkms -maxdepth 5 \
		\( -name '*kh_reflect*' -o -name '*kh-reflect*' -o -name 'mok.*' \) 2>/dev/null | sort
}
snapshot >"$tmp/before"

# Only our two packages may come in.
apt-get install -s -q --no-install-recommends "${debs[@]}" >"$tmp/sim.log" 2>&1 ||
	{ cat "$tmp/sim.log"; echo "FAIL: apt-get cannot install the packages"; exit 1; }
extra=$(awk '$1 == "Inst" { print $2 }' "$tmp/sim.log" | grep -v -x -e khctl -e kh-reflect-dkms)
[ -z "$extra" ] ||
	{ echo "FAIL: installing would also bring in:" $extra "(make deps installs them)"; exit 1; }
gone=$(awk '$1 == "Remv" { print $2 }' "$tmp/sim.log")
[ -z "$gone" ] || { echo "FAIL: installing would remove:" $gone; exit 1; }

mkdir -p "${marker%/*}"
: >"$marker"
ours=1
t0=$SECONDS
if ! mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub \
	apt-get install -y -q --no-install-recommends "${debs[@]}" >"$tmp/install.log" 2>&1; then
	tail -n 40 "$tmp/install.log"
	echo "FAIL: apt-get install ./kh-reflect-dkms_${ver}_all.deb ./khctl_${ver}_$arch.deb"
	exit 1
fi
echo "installed both in $((SECONDS - t0)) s"

rc=0
bad() { echo "FAIL: $*"; rc=1; }
for p in "${pkgs[@]}"; do
	installed "$p" || bad "$p is not installed"
done
out=$(/usr/sbin/khctl --version) && [[ $out == "khctl $ver "* ]] ||
	bad "/usr/sbin/khctl --version: '$out'"
for m in 8:khctl 7:kh_reflect; do
	page=$(man -w "${m%%:*}" "${m#*:}" 2>&1) && [[ $page == /usr/share/man/* ]] ||
		bad "man -w ${m%%:*} ${m#*:}: $page"
done
man -P cat khctl 2>/dev/null | grep -q 'peers sync' || bad "man khctl does not show the page"
comp=/usr/share/bash-completion/completions/khctl
[ -f "$comp" ] && bash -c ". /usr/share/bash-completion/bash_completion; . $comp; complete -p khctl" >/dev/null 2>&1 ||
	bad "no bash completion for khctl in $comp"
# systemctl cat needs a running systemd; cat-config shows the same file offline.
if [ -d /run/systemd/system ]; then
	unit=$(systemctl cat khctl-sync@wg0 2>&1)
else
	unit=$(systemd-analyze --root=/ cat-config systemd/system/khctl-sync@.service 2>&1)
fi
grep -q -x 'ExecStart=/usr/sbin/khctl peers sync %i --watch' <<<"$unit" ||
	bad "khctl-sync@.service does not run /usr/sbin/khctl peers sync %i --watch: $unit"
cp /lib/systemd/system/khctl-sync@.service "$tmp/khctl-sync@wg0.service"
out=$(systemd-analyze verify "$tmp/khctl-sync@wg0.service" 2>&1) ||
	bad "systemd-analyze verify khctl-sync@wg0.service: $out"
for k in $(ls /lib/modules); do
	[ -f "/lib/modules/$k/build/Makefile" ] || continue
	st=$(dkms status -m kh-reflect -v "$ver" -k "$k" 2>&1)
	f=$(modinfo -k "$k" -F filename kh_reflect 2>&1)
	if [[ $st != *": installed"* ]] || [[ $f != /lib/modules/$k/updates/dkms/kh_reflect.ko* ]]; then
		bad "$k: dkms status '$st', modinfo finds '$f'"
	else
		echo "  $k: $f"
	fi
done
[ ! -e /var/lib/dkms/mok.key ] || grep -q 'mok\.key' "$tmp/before" ||
	bad "DKMS made /var/lib/dkms/mok.key"
[ "$rc" = 0 ] && echo "khctl, man khctl, man 7 kh_reflect, completion, khctl-sync@.service and the module: in place"

t0=$SECONDS
if ! purge; then
	cat "$tmp/purge.log"
	echo "FAIL: apt-get purge khctl kh-reflect-dkms"
	exit 1
fi
ours=0
rm -f "$marker"
rmdir "${marker%/*}" 2>/dev/null
echo "purged both in $((SECONDS - t0)) s"
snapshot >"$tmp/after"
if ! diff -u "$tmp/before" "$tmp/after"; then
	bad "the machine is not as it was before the install (diff above)"
else
	echo "the machine is as it was: packages, modules, DKMS tree, /usr/src"
fi
exit $rc
