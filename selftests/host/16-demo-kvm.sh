#!/bin/bash
# make demo's host part (selftests/demo.sh) under its own "set -eu", with a
# stand-in vng: the KVM trial that hangs falls back to plain emulation
# instead of killing the demo, the verdict is kept and reused, keyed by
# what can change it, and KH_KVM still overrides.  The guest part runs in
# the VM suite (tests/15-demo.sh).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }

# The stand-in: a trial (its --exec asks for kh-kvm-works) does what
# $tmp/trial says (hang or work); the demo's boot records its arguments.
mkdir -p "$tmp/bin" "$tmp/build/kh-test-1.0"
cat >"$tmp/bin/vng" <<'VNG'
#!/bin/bash
case "$*" in
*kh-kvm-works*)
	echo trial >>"$KH_T/trials"
	case $(cat "$KH_T/trial") in
	works) echo kh-kvm-works ;;
	*) exec sleep 60 ;;
	esac ;;
*) printf '%s\n' "$*" >"$KH_T/boot" ;;
esac
VNG
chmod +x "$tmp/bin/vng"
: >"$tmp/build/kh-test-1.0/kh_reflect.ko"
printf '#!/bin/sh\n' >"$tmp/khctl"
chmod +x "$tmp/khctl"

# demo [VAR=VALUE...]: run demo.sh, output in $tmp/out, trials counted.
demo() {
	rm -f "$tmp/trials" "$tmp/boot"
	env -u KH_KVM PATH="$tmp/bin:$PATH" KH_T="$tmp" KVER=kh-test-1.0 \
		KH_BUILD="$tmp/build" KHCTL="$tmp/khctl" KH_KVM_DEV=/dev/null \
		KH_KVM_CACHE="$tmp/cache/kvm-verdict" KH_KVM_TRIAL_TIMEOUT=2 "$@" \
		timeout 60 "$top/selftests/demo.sh" >"$tmp/out" 2>&1
	drc=$?
	return $drc
}
trials() { [ -f "$tmp/trials" ] && wc -l <"$tmp/trials" || echo 0; }
show() { sed 's/^/  /' "$tmp/out"; }

echo hang >"$tmp/trial"
t0=$EPOCHSECONDS
if ! demo; then
	fail "demo.sh exited $drc when the KVM trial hung"; show
elif ! grep -q -- '--disable-kvm' "$tmp/boot" || ! grep -q 'demo-guest.sh' "$tmp/boot"; then
	fail "after a hung trial the demo did not boot with --disable-kvm"; show
elif ! grep -q 'plain emulation' "$tmp/out"; then
	fail "the demo did not say it chose plain emulation"; show
else
	echo "a hung trial: plain emulation, said, in $((EPOCHSECONDS - t0))s"
fi
[ "$(trials)" = 1 ] || fail "expected one trial, got $(trials)"
[ -f "$tmp/cache/kvm-verdict" ] || fail "no verdict kept in the cache"

if ! demo; then
	fail "second demo.sh exited $drc"; show
elif [ "$(trials)" != 0 ]; then
	fail "the second run tried again instead of using the kept verdict"; show
elif ! grep -q -- '--disable-kvm' "$tmp/boot" || ! grep -q 'before' "$tmp/out"; then
	fail "the second run did not use and name the kept verdict"; show
else
	echo "second run: the kept verdict, no trial"
fi

# Another QEMU, kernel or device means another key: the trial runs again.
sed -i '1s/$/x/' "$tmp/cache/kvm-verdict"
echo works >"$tmp/trial"
if ! demo; then
	fail "demo.sh exited $drc when the trial worked"; show
elif [ "$(trials)" != 1 ] || grep -q -- '--disable-kvm' "$tmp/boot" ||
     ! grep -q 'using KVM' "$tmp/out"; then
	fail "a changed key and a working trial: expected a new trial and KVM"; show
else
	echo "a changed key: tried again; the trial worked: KVM"
fi

if ! demo KH_KVM_DEV="$tmp/no-such-device"; then
	fail "demo.sh exited $drc without a KVM device"; show
elif [ "$(trials)" != 0 ] || ! grep -q -- '--disable-kvm' "$tmp/boot"; then
	fail "without a KVM device: expected no trial and --disable-kvm"; show
else
	echo "no KVM device: plain emulation, no trial"
fi

if ! demo KH_KVM=0 || ! grep -q -- '--disable-kvm' "$tmp/boot" || [ "$(trials)" != 0 ]; then
	fail "KH_KVM=0 did not force plain emulation"; show
fi
if ! demo KH_KVM=1 || grep -q -- '--disable-kvm' "$tmp/boot" || [ "$(trials)" != 0 ]; then
	fail "KH_KVM=1 did not force KVM"; show
fi
[ "$rc" = 0 ] && echo "KH_KVM=0 and KH_KVM=1 override"
exit $rc
