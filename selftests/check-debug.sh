#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: build (or reuse) the debug kernel, build the module
# against it, and run every VM test in one boot of it (selftests/run.sh
# --kdir).  The guest ends with a kmemleak scan after rmmod; any KASAN,
# lockdep, kmemleak, WARNING or BUG report fails the run.  Ends with
# "N passed, N failed" like make check.
#
# Environment: as selftests/run.sh, with defaults for this kernel:
# KH_TEST_TIMEOUT 600 (s, per test: KASAN under emulation is slow),
# KH_VM_MEMORY 4G, KH_KERNEL_ARGS empty (KASAN replaces slub_debug),
# KH_BOOT_TIMEOUT 5400; KH_DEBUG_CACHE, KH_DEBUG_JOBS: selftests/debug-kernel.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 2

t0=$EPOCHSECONDS
if ! kdir=$(selftests/debug-kernel.sh | tail -n 1) || [ ! -d "$kdir" ]; then
	echo "not ok 1 - debug kernel built"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# debug kernel ready in $((EPOCHSECONDS - t0))s: $kdir"
kver=$(cat "$kdir/include/config/kernel.release")
make --no-print-directory kmods KMOD_TREES="$kver:$kdir"

export KH_TEST_TIMEOUT=${KH_TEST_TIMEOUT:-600}
export KH_VM_MEMORY=${KH_VM_MEMORY:-4G}
export KH_KERNEL_ARGS=${KH_KERNEL_ARGS-}
export KH_BOOT_TIMEOUT=${KH_BOOT_TIMEOUT:-5400}
exec selftests/run.sh --kdir "$kdir" --vm-only --keep-going "$@"
