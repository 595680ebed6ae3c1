#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the newest installed kernel in a VM and run the narrated
# NAT scenario (selftests/demo-guest.sh) in it.  KVER= picks another kernel;
# KH_BUILD (build/) and KHCTL (genl-tool/khctl) as for run.sh.  Whether the
# VM gets KVM is decided as for the tests (selftests/vm.sh; KH_KVM=0|1).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${here%/*}
. "$here/kernels.sh"
. "$here/vm.sh"

build=${KH_BUILD:-$top/build}
khctl=${KHCTL:-$top/genl-tool/khctl}
kver=${KVER:-$(kh_kernels | tail -n 1)}
[ -n "$kver" ] || { echo "demo: no kernel with an image and a build tree: make deps" >&2; exit 1; }
[ -f "$build/$kver/kh_reflect.ko" ] || { echo "demo: no $build/$kver/kh_reflect.ko: make kmods" >&2; exit 1; }
[ -x "$khctl" ] || { echo "demo: no $khctl: make khctl" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
kh_vm_decide_kvm "$kver" "$log"
echo "demo: booting $kver in a VM (${kh_vm_kvm_args:-KVM}); about half a minute without KVM"
"${kh_vm_base[@]}" $kh_vm_kvm_args --run "/boot/vmlinuz-$kver" \
	--exec "$(printf '%q=%q ' KH_REPO "$top" KVER "$kver" KHCTL "$khctl" \
		KMOD "$build/$kver/kh_reflect.ko")exec bash $(printf %q "$here/demo-guest.sh")" \
	</dev/null
