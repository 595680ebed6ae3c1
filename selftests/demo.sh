#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the newest installed kernel in a VM and run the narrated
# NAT scenario (selftests/demo-guest.sh) in it.  KVER= picks another kernel.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${here%/*}
. "$here/kernels.sh"
. "$here/vm.sh"

kver=${KVER:-$(kh_kernels | tail -n 1)}
[ -n "$kver" ] || { echo "demo: no kernel with an image and a build tree: make deps" >&2; exit 1; }
[ -f "$top/build/$kver/kh_reflect.ko" ] || { echo "demo: no build/$kver/kh_reflect.ko: make kmods" >&2; exit 1; }
[ -x "$top/genl-tool/khctl" ] || { echo "demo: no genl-tool/khctl: make khctl" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
kh_vm_decide_kvm "$kver" "$log"
echo "demo: booting $kver in a VM (${kh_vm_kvm_args:-KVM}); about half a minute without KVM"
"${kh_vm_base[@]}" $kh_vm_kvm_args --run "/boot/vmlinuz-$kver" \
	--exec "KH_REPO=$(printf %q "$top") KVER=$kver exec bash $(printf %q "$here/demo-guest.sh")" \
	</dev/null
