# SPDX-License-Identifier: GPL-2.0
# Sourced by run.sh and demo.sh: how to boot a kernel under virtme-ng here.
#
#   kh_vm_base                 vng with memory, CPUs (KH_VM_MEMORY, KH_VM_CPUS)
#   kh_vm_decide_kvm KVER|IMAGE LOG
#                              sets kh_vm_kvm_args to "" or --disable-kvm and
#                              says which on stdout, as "# KVM: ..." lines;
#                              the trial boots /boot/vmlinuz-KVER or IMAGE (a
#                              path)

kh_vm_base=(vng --memory "${KH_VM_MEMORY:-2G}" --cpus "${KH_VM_CPUS:-2}")
# virtme-ng runs the script as the host user unless told otherwise.
[ "$(id -u)" = 0 ] || kh_vm_base+=(--user root)
kh_vm_kvm_args=

# A /dev/kvm that opens is not enough: on some of our machines it exists but
# a guest kernel cannot run under it.  So boot once with KVM, with a short
# timeout, and use KVM only if that guest runs and says its hypervisor is KVM
# (QEMU is started with accel=kvm:tcg and may quietly fall back to TCG).
# KH_KVM=0 or 1 forces the answer.
kh_vm_decide_kvm() {
	local img=$1 log=$2 t0=$EPOCHSECONDS

	[[ $img == /* ]] || img=/boot/vmlinuz-$img

	case ${KH_KVM:-auto} in
	0) kh_vm_kvm_args=--disable-kvm; echo "# KVM: off (KH_KVM=0)"; return ;;
	1) kh_vm_kvm_args=; echo "# KVM: on (KH_KVM=1)"; return ;;
	esac
	# A character device that opens read-write (virtme-ng only checks that
	# it opens).
	if ! [ -c /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
		kh_vm_kvm_args=--disable-kvm
		echo "# KVM: no usable /dev/kvm: plain emulation (--disable-kvm)"
		return
	fi
	timeout -k 5 "${KH_KVM_TRIAL_TIMEOUT:-60}" "${kh_vm_base[@]}" \
		--run "$img" \
		--exec 'dmesg | grep -q "Hypervisor detected: KVM" && echo kh-kvm-works' \
		</dev/null >"$log" 2>&1
	if grep -q '^kh-kvm-works' "$log"; then
		kh_vm_kvm_args=
		echo "# KVM: a trial guest booted in $((EPOCHSECONDS - t0))s: using KVM"
	else
		kh_vm_kvm_args=--disable-kvm
		echo "# KVM: /dev/kvm is there but a trial guest did not run" \
		     "($((EPOCHSECONDS - t0))s): plain emulation (--disable-kvm)"
		tail -n 5 "$log" | sed 's/^/# /'
	fi
}
