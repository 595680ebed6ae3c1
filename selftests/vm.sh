# SPDX-License-Identifier: GPL-2.0
# Sourced by run.sh and demo.sh: how to boot a kernel under virtme-ng here.
# Safe under "set -eu": nothing in it fails the caller.
#
#   kh_vm_base                 vng with memory, CPUs (KH_VM_MEMORY, KH_VM_CPUS)
#   kh_vm_decide_kvm KVER|IMAGE LOG
#                              sets kh_vm_kvm_args to "" or --disable-kvm and
#                              says which on stdout, as "# KVM: ..." lines;
#                              the trial boots /boot/vmlinuz-KVER or IMAGE (a
#                              path)
#
# Environment: KH_KVM=0|1 forces the answer; KH_KVM_TRIAL_TIMEOUT (s, 60);
# KH_KVM_CACHE, the file that keeps a trial's verdict
# (/var/lib/kh-reflect/kvm-verdict); KH_KVM_DEV (/dev/kvm).

kh_vm_base=(vng --memory "${KH_VM_MEMORY:-2G}" --cpus "${KH_VM_CPUS:-2}")
# virtme-ng runs the script as the host user unless told otherwise.
[ "$(id -u)" = 0 ] || kh_vm_base+=(--user root)
kh_vm_kvm_args=

# What a trial's verdict depends on: the host kernel, the KVM device, QEMU.
kh_vm_kvm_key() {
	local dev=$1 qemu

	qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1) || true
	printf '%s|%s|%s' "$(uname -r)" "$(stat -L -c '%t:%T' "$dev" 2>/dev/null)" "$qemu"
}

# A /dev/kvm that opens is not enough: on some of our machines it exists but
# a guest kernel cannot run under it (the trial then hangs until its
# timeout).  So boot once with KVM, with a timeout, and use KVM only if that
# guest runs and says its hypervisor is KVM (QEMU is started with
# accel=kvm:tcg and may quietly fall back to TCG).  The verdict is kept, keyed
# by what can change it, so the trial's cost is paid once per machine.
kh_vm_decide_kvm() {
	local img=$1 log=$2 t0=$EPOCHSECONDS
	local dev=${KH_KVM_DEV:-/dev/kvm} cache=${KH_KVM_CACHE:-/var/lib/kh-reflect/kvm-verdict}
	local key verdict=''

	[[ $img == /* ]] || img=/boot/vmlinuz-$img

	case ${KH_KVM:-auto} in
	0) kh_vm_kvm_args=--disable-kvm; echo "# KVM: off (KH_KVM=0)"; return 0 ;;
	1) kh_vm_kvm_args=; echo "# KVM: on (KH_KVM=1)"; return 0 ;;
	esac
	# A character device that opens read-write (virtme-ng only checks that
	# it opens).
	if ! [ -c "$dev" ] || ! (exec 3<>"$dev") 2>/dev/null; then
		kh_vm_kvm_args=--disable-kvm
		echo "# KVM: no usable $dev: plain emulation (--disable-kvm)"
		return 0
	fi

	key=$(kh_vm_kvm_key "$dev")
	if [ -r "$cache" ] && [ "$(head -n 1 "$cache")" = "$key" ]; then
		verdict=$(sed -n 2p "$cache")
	fi
	case $verdict in
	kvm)
		kh_vm_kvm_args=
		echo "# KVM: a trial guest ran under KVM on this machine before ($cache): using KVM"
		return 0 ;;
	tcg)
		kh_vm_kvm_args=--disable-kvm
		echo "# KVM: a trial guest did not run under $dev on this machine before" \
		     "($cache): plain emulation (--disable-kvm)"
		return 0 ;;
	esac

	echo "# KVM: $dev opens; booting a trial guest (at most ${KH_KVM_TRIAL_TIMEOUT:-60}s, once per machine)"
	timeout -k 5 "${KH_KVM_TRIAL_TIMEOUT:-60}" "${kh_vm_base[@]}" \
		--run "$img" \
		--exec 'dmesg | grep -q "Hypervisor detected: KVM" && echo kh-kvm-works' \
		</dev/null >"$log" 2>&1 || true
	if grep -q '^kh-kvm-works' "$log"; then
		kh_vm_kvm_args=
		verdict=kvm
		echo "# KVM: the trial guest booted in $((EPOCHSECONDS - t0))s: using KVM"
	else
		kh_vm_kvm_args=--disable-kvm
		verdict=tcg
		echo "# KVM: $dev is there but the trial guest did not run" \
		     "($((EPOCHSECONDS - t0))s): plain emulation (--disable-kvm)"
		tail -n 5 "$log" | sed 's/^/# /'
	fi
	if mkdir -p "${cache%/*}" 2>/dev/null &&
	   printf '%s\n%s\n' "$key" "$verdict" >"$cache.tmp" 2>/dev/null; then
		mv -f "$cache.tmp" "$cache"
	else
		rm -f "$cache.tmp" 2>/dev/null
		echo "# KVM: cannot keep the verdict in $cache: the next run tries again"
	fi
	return 0
}
