#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot a kernel (KVER=, default Debian 12's 6.1) once, run every
# benchmark in it, print the table and write it, with the date, the kernel
# and the CPU, to bench/RESULTS.md.  --quick runs each one briefly.
# KH_BENCH="birthday nat ..." runs only those, into bench/RESULTS-birthday-nat.md
# (one file per set of parts, so that one part's run leaves another's alone).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${here%/*}
. "$here/kernels.sh"
. "$here/vm.sh"

quick=
[ "${1:-}" = --quick ] && quick=--quick
kver=${KVER:-$(kh_kernels | grep '^6\.1\.' | tail -n 1)}
kver=${kver:-$(kh_kernels | tail -n 1)}
[ -f "$top/build/$kver/kh_reflect.ko" ] || { echo "bench: no build/$kver/kh_reflect.ko" >&2; exit 1; }
[ -x "$top/build/loadgen" ] || { echo "bench: no build/loadgen" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kh_vm_decide_kvm "$kver" "$tmp/kvm.log"
echo "bench: $kver in a VM (${kh_vm_kvm_args:-KVM}); this takes a while"
cmd="KH_REPO=$(printf %q "$top") KVER=$kver KH_BENCH=$(printf %q "${KH_BENCH:-}") exec bash $(printf %q "$here/bench-guest.sh") $quick $(printf %q "$top/build/loadgen")"
# No slub_debug here: its red zones would count as our memory.
"${kh_vm_base[@]}" $kh_vm_kvm_args --run "/boot/vmlinuz-$kver" --exec "$cmd" \
	</dev/null >"$tmp/table" 2> >(grep --line-buffered '^bench:\|FAIL' >&2)
cat "$tmp/table"
grep -q '^| Benchmark' "$tmp/table" || { echo "bench: no table" >&2; exit 1; }
[ -n "$quick" ] && exit 0

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
# A part of the benchmarks (KH_BENCH=...) leaves the full table alone.
out=$top/bench/RESULTS.md
[ -z "${KH_BENCH:-}" ] || out=$top/bench/RESULTS-$(echo $KH_BENCH | tr ' ' -).md
{
	echo "# Benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') with \`make bench\`${KH_BENCH:+ (KH_BENCH=$KH_BENCH)}: kernel $kver in a"
	echo "virtme-ng VM (${kh_vm_kvm_args:-KVM}, ${KH_VM_CPUS:-2} CPUs) on $(nproc) x $cpu."
	echo
	cat "$tmp/table"
	if [ -f "$top/bench/notes.md" ] && [ -z "${KH_BENCH:-}" ]; then
		echo
		cat "$top/bench/notes.md"
	fi
} >"$out"
echo "bench: wrote ${out#"$top"/}"
