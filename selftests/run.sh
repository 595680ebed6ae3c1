#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every kh_reflect test: the host tests (selftests/host/*.sh), then, for
# each kernel, one virtme-ng boot that runs selftests/guest.sh, which loads the
# module and runs selftests/tests/*.sh (KH_VM_JOBS such boots at once, by
# default one per two CPUs).
# Prints TAP lines as results come, a kernel's after the one before it, and
# ends with "N passed, N failed[, N skipped]"; exits 0 iff nothing failed.
#
# usage: selftests/run.sh [--kernel KVER]... [--core KVER[:GLOB]]... [--kdir DIR]
#                         [--vm-only] [--filter GLOB] [--keep-going]
#
#   --kernel KVER   test this kernel (repeatable); default: every kernel with
#                   both /boot/vmlinuz-KVER and /lib/modules/KVER/build
#   --core KVER[:GLOB]  test this kernel too, with the core tests only
#                   (load, demo, reflect, netlink policy, sync, relay,
#                   birthday, the quick bench, rmmod: KH_CORE) and those
#                   GLOB matches
#   --kdir DIR      test the kernel built in the tree DIR (make check-debug),
#                   its modules from the tree, instead of installed kernels
#   --vm-only       no host tests
#   --filter GLOB   run only the tests whose file name matches GLOB, an extglob
#                   ('40-*', '@(10|40)-*'); a kernel with no matching VM test
#                   is not booted
#   --keep-going    run everything; by default the run stops at the first
#                   failure (no further host test, no further kernel; in the VM
#                   the module unload and kernel log checks still run)
#
# Expects build/KVER/kh_reflect.ko and genl-tool/khctl (make check builds
# them).  Environment: KH_KVM=auto|0|1 (0: plain emulation, 1: KVM without
# a trial boot), KH_KVM_TRIAL_TIMEOUT (s, 60), KH_BOOT_TIMEOUT (s, per boot,
# 2400), KH_TEST_TIMEOUT (s, per VM test, 120; a test's own "# kh-timeout: N"
# line may raise it),
# KH_HOST_TEST_TIMEOUT (s, per host test, 1800), KH_GUEST_JOBS (VM tests
# marked "# kh-parallel" run at once in a VM, 2), KH_VM_MEMORY (2G),
# KH_VM_CPUS (2), KH_VM_JOBS (VMs at once, nproc / 2), KH_MATRIX (quick|full: rows of 68-nat-matrix), KH_MATRIX_KINDS (with full: only these NAT kinds), KH_MATRIX_RUNS (its rows N times), KH_KERNEL_ARGS (kernel command line, slub_debug=FZP), KH_BUILD
# (where the modules are, build/), KHCTL (genl-tool/khctl).

set -u
shopt -s extglob
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=${here%/*}
cd "$top" || exit 2

usage() {
	sed -n '11,28s/^# \{0,1\}//p' "$here/run.sh" >&2
	exit 2
}

kernels=()
core=()
filter='*'
keep_going=0
kdir=
vm_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernels+=("$2"); shift ;;
	--kernel=*) kernels+=("${1#*=}") ;;
	--core) [ $# -ge 2 ] || usage; kernels+=("${2%%:*}"); core+=("$2"); shift ;;
	--core=*) v=${1#*=}; kernels+=("${v%%:*}"); core+=("$v") ;;
	--kdir) [ $# -ge 2 ] || usage; kdir=$2; shift ;;
	--kdir=*) kdir=${1#*=} ;;
	--vm-only) vm_only=1 ;;
	--filter) [ $# -ge 2 ] || usage; filter=$2; shift ;;
	--filter=*) filter=${1#*=} ;;
	--keep-going) keep_going=1 ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

build=${KH_BUILD:-$top/build}
khctl=${KHCTL:-$top/genl-tool/khctl}
boot_timeout=${KH_BOOT_TIMEOUT:-2400}
test_timeout=${KH_TEST_TIMEOUT:-120}
host_test_timeout=${KH_HOST_TEST_TIMEOUT:-1800}
vm_memory=${KH_VM_MEMORY:-2G}
vm_cpus=${KH_VM_CPUS:-2}
# Debian's kernels have no KASAN: slab poisoning and red zones at least make
# a use after free or an overflow in the module say so in the kernel log.
kernel_args=${KH_KERNEL_ARGS-slub_debug=FZP}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kh-selftests.XXXXXX") || exit 2
keep_tmp=0
child=
cleanup() {
	local f

	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null
	# VMs still running (timeout passes the signal on to vng)
	for f in "$tmp"/vm-*.pid; do
		[ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	[ "$keep_tmp" = 1 ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- TAP ------------------------------------------------------------------

n=0 passed=0 failed=0 skipped=0

now_us() { echo "${EPOCHREALTIME/./}"; }

# secs_since START_US: elapsed seconds with one decimal
secs_since() {
	secs_between "$1" "$(now_us)"
}

# secs_between START_US END_US
secs_between() {
	local d=$(( ($2 - $1) / 100000 ))
	echo "$((d / 10)).$((d % 10))"
}

# Prefix every line with "# ", a last line without its newline too.
indent() {
	local l

	while IFS= read -r l || [ -n "$l" ]; do
		printf '# %s\n' "$l"
	done
}

# report ok|fail|skip NAME SECONDS [REASON]
report() {
	local st=$1 name=$2 secs=$3 reason=${4:-}

	n=$((n + 1))
	case $st in
	ok)	passed=$((passed + 1)); echo "ok $n - $name (${secs}s)" ;;
	skip)	skipped=$((skipped + 1))
		echo "ok $n - $name (${secs}s) # SKIP${reason:+ $reason}" ;;
	*)	failed=$((failed + 1))
		echo "not ok $n - $name (${secs}s)${reason:+ # $reason}" ;;
	esac
}

finish() {
	local line="$passed passed, $failed failed"

	[ "$skipped" -gt 0 ] && line+=", $skipped skipped"
	echo "1..$n"
	echo "$line"
	[ "$failed" -eq 0 ]
	exit
}

stop_if_failed() {
	if [ "$failed" -gt 0 ] && [ "$keep_going" = 0 ]; then
		echo "# stopping at the first failure (--keep-going runs everything)"
		finish
	fi
}

echo "TAP version 13"

# ---- host tests -----------------------------------------------------------

# run_host_test FILE: exit 0 pass, 4 skip, else fail.  The output goes to a
# file that tail streams until the test's process is reaped, so a daemon the
# test leaves behind holding its stdout cannot stall the run; whatever is left
# in its process group is then killed.
run_host_test() {
	local t=$1 name=${1##*/} out=$tmp/host.out t0 pid reader rc reason

	t0=$(now_us)
	: >"$out"
	timeout -k 10 "$host_test_timeout" "$t" </dev/null >"$out" 2>&1 &
	pid=$!
	child=$pid
	tail -s 0.2 -n +1 -f --pid="$pid" "$out" | indent &
	reader=$!
	wait "$pid"
	rc=$?
	wait "$reader"
	child=
	kill -KILL -- "-$pid" 2>/dev/null
	case $rc in
	0) report ok "$name" "$(secs_since "$t0")" ;;
	4) reason=$(sed -n 's/^SKIP: //p' "$out" | head -n 1)
	   report skip "$name" "$(secs_since "$t0")" "$reason" ;;
	124|137) report fail "$name" "$(secs_since "$t0")" "timed out after ${host_test_timeout}s" ;;
	*) report fail "$name" "$(secs_since "$t0")" "exit $rc" ;;
	esac
}

for t in "$top"/selftests/host/*.sh; do
	[ "$vm_only" = 0 ] && [ -f "$t" ] && [ -x "$t" ] || continue
	# shellcheck disable=SC2053 # $filter is a glob on purpose
	[[ ${t##*/} == $filter ]] || continue
	run_host_test "$t"
	stop_if_failed
done

# ---- kernels --------------------------------------------------------------

# The tree's image and modules (virtme-ng links them into the guest's
# /lib/modules) instead of /boot and /lib/modules.
kdir_img=
if [ -n "$kdir" ]; then
	kdir=$(cd "$kdir" && pwd) || exit 2
	kdir_img=$kdir/arch/x86/boot/bzImage
	if ! [ -f "$kdir/include/config/kernel.release" ] || ! [ -f "$kdir_img" ]; then
		echo "run.sh: $kdir holds no built kernel" >&2
		exit 2
	fi
	kernels=("$(cat "$kdir/include/config/kernel.release")")
fi

if [ ${#kernels[@]} -eq 0 ]; then
	if [ -f "$top/selftests/kernels.sh" ]; then
		. "$top/selftests/kernels.sh"
		mapfile -t kernels < <(kh_kernels)
	else
		for d in /lib/modules/*/build; do
			v=${d%/build}; v=${v##*/}
			[ -f "$d/Makefile" ] && [ -f "/boot/vmlinuz-$v" ] && kernels+=("$v")
		done
	fi
fi

guest_tests=0
for t in "$top"/selftests/tests/*.sh; do
	# shellcheck disable=SC2053
	[ -f "$t" ] && [[ ${t##*/} == $filter ]] && guest_tests=$((guest_tests + 1))
done

. "$here/vm.sh"
vng_base=("${kh_vm_base[@]}")

# Decided once per run: see vm.sh.
kvm_args=
kvm_decided=0
decide_kvm() {
	[ "$kvm_decided" = 1 ] && return
	kvm_decided=1
	kh_vm_decide_kvm "$1" "$tmp/kvm-trial.log"
	kvm_args=$kh_vm_kvm_args
}

# Up to KH_VM_JOBS VMs run at once.  Under plain emulation a guest running
# the suite keeps two host cores busy (its two vCPUs and QEMU's I/O thread,
# which serves the 9p root), so the default is one VM per two cores: on a
# two-core machine two VMs at once took each test twice as long, and the
# whole no less.  Each VM's output is stamped with its arrival time into a
# file of its own, and the files are read in kernel order: the report is the
# same as with one VM at a time.
vm_jobs=${KH_VM_JOBS:-$(( $(nproc) / 2 ))}
[[ $vm_jobs =~ ^[1-9][0-9]*$ ]] || vm_jobs=1

# The tests a --core kernel runs (an extglob on their file names).
core_glob=${KH_CORE:-'@(05|10|15|50|58|60|71|73|80|90)-*'}

# core_of KVER: the core glob for a --core kernel (with the tests its
# ":GLOB" adds), else '*'.
core_of() {
	local k

	for k in "${core[@]}"; do
		[ "$k" = "$1" ] && { echo "$core_glob"; return; }
		[ "${k%%:*}" = "$1" ] && { echo "@($core_glob|${k#*:})"; return; }
	done
	echo '*'
}

# vm_start KVER: boot one VM that runs the whole guest suite.  Its stdout,
# each line prefixed with the microseconds it arrived at, goes to
# $tmp/vm-KVER.out; the exit status of vng to $tmp/vm-KVER.rc; the kernel
# console to $tmp/console-KVER.log.
vm_start() {
	local kver=$1 cmd

	decide_kvm "${kdir_img:-$kver}"
	cmd=$(printf '%q=%q ' KH_REPO "$top" KH_BUILD "$build" KHCTL "$khctl" KH_FILTER "$filter" \
		KH_CORE "$(core_of "$kver")" \
		KH_KEEP_GOING "$keep_going" KH_TEST_TIMEOUT "$test_timeout" \
		KH_GUEST_JOBS "${KH_GUEST_JOBS:-2}" \
		KH_MATRIX "${KH_MATRIX:-quick}" KH_MATRIX_KINDS "${KH_MATRIX_KINDS:-}" \
		KH_MATRIX_RUNS "${KH_MATRIX_RUNS:-1}")
	cmd+="exec bash $(printf %q "$top/selftests/guest.sh")"

	now_us >"$tmp/vm-$kver.t0"
	# --verbose sends the kernel console to stderr (our log file) instead of
	# nowhere; the script's own stdout is a separate virtio port, so console
	# messages never land inside our result lines.  All three descriptors
	# are private: QEMU sets O_NONBLOCK on them.
	# A tree boots from its own directory: no --run, and virtme-ng links
	# the tree's modules in.
	(
		if [ -n "$kdir" ]; then
			cd "$kdir" || exit 2
			run=()
		else
			run=(--run "/boot/vmlinuz-$kver")
		fi
		timeout -k 30 "$boot_timeout" "${vng_base[@]}" $kvm_args --verbose \
			"${run[@]}" ${kernel_args:+--append "$kernel_args"} \
			--exec "$cmd" </dev/null 2>"$tmp/console-$kver.log" &
		echo $! >"$tmp/vm-$kver.pid"
		wait $!
		echo $? >"$tmp/vm-$kver.rc"
	) | while IFS= read -r line; do
		printf '%s %s\n' "$(now_us)" "${line%$'\r'}"
	done >"$tmp/vm-$kver.out" &
	echo $! >"$tmp/vm-$kver.reader"
}

# vm_collect KVER [again]: report what that VM said, as it comes, until it
# is done; a kernel that dies before the suite begins boots once more.
# Lines starting with "KHTEST " are results; everything else on the guest's
# stdout is shown indented.  The kernel console is shown on failure.
vm_collect() {
	local kver=$1 out=$tmp/vm-$1.out console=$tmp/console-$1.log
	local t0 at line st secs rest name reason rc
	local began=0 ended=0 guest_kver='' why='' t_last r
	# the tests running now (several at once: guest.sh), with their start
	local -A running=()

	t0=$(cat "$tmp/vm-$kver.t0")
	t_last=$t0
	echo "# $kver: booting (${kvm_args:-KVM}, $vm_cpus CPUs, $vm_memory${kernel_args:+, $kernel_args})"
	while read -r at line; do
		t_last=$at
		case $line in
		"KHTEST begin"*)
			began=1
			guest_kver=${line#KHTEST begin }
			if [ "$guest_kver" = "$kver" ]; then
				report ok "$kver: VM booted" "$(secs_between "$t0" "$at")"
			else
				report fail "$kver: VM booted" "$(secs_between "$t0" "$at")" \
					"guest runs '$guest_kver'"
			fi
			;;
		"KHTEST end"*)
			ended=1
			;;
		"KHTEST run "*)
			running[${line#KHTEST run }]=$at
			;;
		"KHTEST "*)
			read -r _ st secs rest <<<"$line"
			name=${rest%%$'\t'*}
			reason=
			[ "$name" != "$rest" ] && reason=${rest#*$'\t'}
			unset "running[$name]"
			report "$st" "$kver: $name" "$secs" "$reason"
			;;
		"#"*)	echo "$line" ;;
		*)	echo "# $line" ;;
		esac
	done < <(tail -s 0.2 -n +1 -f --pid="$(cat "$tmp/vm-$kver.reader")" "$out")
	wait "$(cat "$tmp/vm-$kver.reader")"
	rc=$(cat "$tmp/vm-$kver.rc" 2>/dev/null)
	[ -n "$rc" ] || t_last=$(now_us)

	case $rc in
	0) ;;
	124|137) why="timed out after ${boot_timeout}s" ;;
	255) why="the VM stopped before the script did (kernel panic?)" ;;
	'') why="vng did not say how it ended" ;;
	*) why="vng exited with $rc" ;;
	esac
	if [ "$began" = 0 ] && [ "${2:-}" != again ] && [ "$rc" = 255 ]; then
		# The kernel died while it booted, before guest.sh (and so the
		# module) ran: under plain emulation a CPU may run code another
		# one is patching (seen: "Oops: int3" in sched_clock_cpu as 7.3
		# marked its clock stable).  Not ours: one more boot.
		echo "# $kver: the kernel died while booting, before any test (last lines below); booting it once more"
		tail -n 25 "$console" | indent
		rm -f "$tmp/vm-$kver.rc"
		vm_start "$kver"
		vm_collect "$kver" again
		return
	fi
	if [ "$began" = 0 ]; then
		report fail "$kver: VM booted" "$(secs_between "$t0" "$t_last")" \
			"${why:-guest.sh never started}"
	elif [ "$ended" = 0 ] || [ -n "$why" ]; then
		for r in "${!running[@]}"; do
			report fail "$kver: $r" "$(secs_between "${running[$r]}" "$t_last")" \
				"the VM died during this test"
		done
		report fail "$kver: VM ran the suite to the end" "$(secs_between "$t0" "$t_last")" \
			"${why:-guest.sh stopped before its end}"
	else
		echo "# $kver: VM done in $(secs_between "$t0" "$t_last")s"
		return
	fi
	echo "# last lines of the kernel console ($console):"
	tail -n 60 "$console" | indent
	keep_tmp=1
}

if [ ${#kernels[@]} -eq 0 ]; then
	report fail "kernels found" 0 "no kernel has both /boot/vmlinuz-KVER and /lib/modules/KVER/build"
fi
if [ ! -x "$khctl" ] && [ "$guest_tests" -gt 0 ] && [ ${#kernels[@]} -gt 0 ]; then
	report fail "khctl built" 0 "no $khctl"
	stop_if_failed
fi
stop_if_failed

# What can boot is booted, KH_VM_JOBS at a time, and reported in order.
to_boot=()
for kver in "${kernels[@]}"; do
	if [ -z "$kdir" ] && [ ! -f "/boot/vmlinuz-$kver" ]; then
		report fail "$kver: kernel installed" 0 "no /boot/vmlinuz-$kver"
	elif [ ! -f "$build/$kver/kh_reflect.ko" ]; then
		report fail "$kver: module built" 0 "no $build/$kver/kh_reflect.ko"
		if [ -f "$build/$kver/build.log" ]; then
			echo "# last lines of $build/$kver/build.log:"
			tail -n 20 "$build/$kver/build.log" | indent
		fi
	elif [ "$guest_tests" = 0 ]; then
		echo "# $kver: no VM test matches '$filter': not booted"
	elif ! command -v vng >/dev/null; then
		report fail "$kver: VM booted" 0 "no vng: install virtme-ng (scripts/deps.sh)"
	else
		to_boot+=("$kver")
	fi
	stop_if_failed
done

[ ${#to_boot[@]} -gt 1 ] && [ "$vm_jobs" -gt 1 ] &&
	echo "# ${#to_boot[@]} kernels, up to $vm_jobs VMs at once (KH_VM_JOBS)"
started=0
for i in "${!to_boot[@]}"; do
	while [ "$started" -lt ${#to_boot[@]} ] && [ "$started" -lt $((i + vm_jobs)) ]; do
		vm_start "${to_boot[$started]}"
		started=$((started + 1))
	done
	vm_collect "${to_boot[$i]}"
	stop_if_failed
done

finish
