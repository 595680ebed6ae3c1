#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM (run.sh boots it): load WireGuard and kh_reflect, run every
# selftests/tests/*.sh, then check that the module unloads and that the kernel
# log holds no splat.  Results are lines "KHTEST ok|fail|skip SECONDS NAME",
# a skip reason after a tab, between "KHTEST begin KVER" and "KHTEST end";
# "KHTEST run NAME" announces a test, so that a test that kills the VM is
# named.  Every other line starts with "# ".  Exits 0 once it has reported
# everything.
#
# Environment (from run.sh): KH_REPO, KH_BUILD, KHCTL, KH_FILTER, KH_CORE
# (a second glob every test must match too), KH_KEEP_GOING, KH_TEST_TIMEOUT,
# KH_GUEST_JOBS (tests marked "# kh-parallel" at once, 2).

exec </dev/null 2>&1
set -u
shopt -s extglob
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

here=$(cd "$(dirname "$0")" && pwd)
cd / || exit 1

export KH_REPO=${KH_REPO:-$(cd "$here/.." && pwd)}
KVER=$(uname -r)
export KVER
export KHCTL=${KHCTL:-$KH_REPO/genl-tool/khctl}
export KMOD=${KH_BUILD:-$KH_REPO/build}/$KVER/kh_reflect.ko
filter=${KH_FILTER:-*}
core=${KH_CORE:-*}
keep_going=${KH_KEEP_GOING:-1}
test_timeout=${KH_TEST_TIMEOUT:-120}

now_us() { echo "${EPOCHREALTIME/./}"; }
secs_since() {
	local d=$(( ($(now_us) - $1) / 100000 ))
	echo "$((d / 10)).$((d % 10))"
}
# Prefix every line with "# ", a last line without its newline too.
indent() {
	local l

	while IFS= read -r l || [ -n "$l" ]; do
		printf '# %s\n' "$l"
	done
}

# result ok|fail|skip NAME START_US [REASON]
result() {
	printf 'KHTEST %s %s %s%s\n' "$1" "$(secs_since "$3")" "$2" "${4:+$'\t'$4}"
}

loaded() { grep -q "^$1 " /proc/modules; }

# What the kernel says when something went wrong (with a taint besides);
# "BUG kmalloc-64 (...): Poison overwritten" is slub_debug's (run.sh turns it
# on: Debian's kernels have no KASAN).
splat='WARNING:|BUG:|BUG [^ ]+ \(|Oops|KASAN|general protection|refcount_t|unreferenced object|list_add corruption|list_del corruption'

load_kmod() {
	if [ ! -f "$KMOD" ]; then
		echo "no $KMOD: build it first (make kmods)"
		return 1
	fi
	insmod "$KMOD"
}

# Root is the host's, read-only but for overlays (/tmp among them) that
# virtme-ng puts on top.  The tests get a scratch directory of their own on the
# guest's /run tmpfs; /tmp stays as it is, since the repository (or khctl) may
# well live there on the host.
export TMPDIR=/run/kh-tmp
mkdir -p "$TMPDIR"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug

# A kernel with kmemleak (make check-debug): what the boot itself left is
# not ours to judge, so mark it seen; the end of the run scans again.
kmemleak=/sys/kernel/debug/kmemleak
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak" && echo clear >"$kmemleak"
fi

# Every ping turns the kernel's timestamping static key on and off, and
# each turn patches kernel text while the other CPU may run it.  Under
# plain emulation (TCG) that race killed a VM once (6.12: "Oops: int3" in
# __netif_receive_skb_core, right at net_timestamp_check()'s jump) during
# the ping-heavy NAT matrix.  A socket that wants timestamps for the whole
# run keeps the key on: no patching, and nothing a test measures changes.
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# 29 on x86: not every Python build names it
s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_TIMESTAMP", 29), 1)
time.sleep(1 << 30)' &
tstamp_pid=$!

echo "KHTEST begin $KVER"
echo "# $(uname -a)"
echo "# $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"

t0=$(now_us)
if out=$(modprobe wireguard 2>&1) && loaded wireguard; then
	result ok "modprobe wireguard" "$t0"
else
	echo "$out" | indent
	result fail "modprobe wireguard" "$t0"
fi

t0=$(now_us)
module_ok=0
if out=$(load_kmod 2>&1) && loaded kh_reflect; then
	module_ok=1
	result ok "insmod kh_reflect.ko" "$t0"
else
	echo "$out" | indent
	dmesg | tail -n 20 | indent
	result fail "insmod kh_reflect.ko" "$t0"
fi

# Tests with a "# kh-parallel" line run beside each other, up to
# KH_GUEST_JOBS (2) at once: their namespaces are their own, and their
# waits on timers (WireGuard's retries, the sync's windows, the relay's
# stall) can overlap; under emulation the VM's CPUs stay the limit, so
# this gains only as the tests make fewer processes.  The others
# (module unloads, floods, the benchmarks, the 100k table) run alone,
# after them.  "KHTEST run NAME" announces a test, its
# result line ends it; a parallel test's output comes in one piece at its
# end, a test that runs alone streams it.
guest_jobs=${KH_GUEST_JOBS:-2}
[[ $guest_jobs =~ ^[1-9][0-9]*$ ]] || guest_jobs=1
declare -A job_name=() job_t0=() job_tt=() job_reader=()

is_parallel() { grep -q '^# kh-parallel$' "$1"; }

# forks: processes made since boot (/proc/stat), read without making one.
# Each costs the VM about 0.1 s of CPU under emulation, which is what bounds
# the suite's time: every test says how many were made while it ran (with
# those of the test beside it, if any).
forks() {
	local k v

	while read -r k v _; do
		[ "$k" = processes ] && { echo "$v"; return; }
	done </proc/stat
}
declare -A job_forks=()

# ns_tag NAME: the prefix of the network namespaces that test makes (lib.sh)
ns_tag() { local n=${1%.sh}; echo "kt${n//[^0-9a-z]/}_"; }

# test_start FILE alone|beside: its own process and process group, with a
# timeout.  Its output goes to a file; a test that runs alone has it streamed
# by tail until the test's process is reaped, so a daemon it leaves behind
# holding its stdout cannot stall us.
test_start() {
	local t=$1 name=${1##*/} out pid tt

	out=$TMPDIR/${name%.sh}.out
	echo "KHTEST run $name"
	echo "kh-selftests: running $name" >/dev/kmsg
	: >"$out"
	# A test may need more: a "# kh-timeout: SECONDS" line of its own.
	tt=$(test_timeout_of "$t")
	# beside another, a test gets a share of the CPUs: its time too
	[ "$2" = alone ] || tt=$((tt * guest_jobs))
	KH_NS_TAG=$(ns_tag "$name") timeout -k 5 "$tt" bash "$t" </dev/null >"$out" 2>&1 &
	pid=$!
	job_name[$pid]=$name
	job_t0[$pid]=$(now_us)
	job_tt[$pid]=$tt
	job_reader[$pid]=
	job_forks[$pid]=$(forks)
	if [ "$2" = alone ]; then
		tail -s 0.2 -n +1 -f --pid="$pid" "$out" | indent &
		job_reader[$pid]=$!
	fi
}

# test_reap: wait for one running test to end and report it; whatever is
# left in its process group is killed, its namespaces deleted.  Returns 1 if
# it failed.
test_reap() {
	local pid rc name out tt left n

	wait -n -p pid "${!job_name[@]}"
	rc=$?
	name=${job_name[$pid]}
	out=$TMPDIR/${name%.sh}.out
	tt=${job_tt[$pid]}
	if [ -n "${job_reader[$pid]}" ]; then
		wait "${job_reader[$pid]}"
	else
		indent <"$out"
	fi
	kill -KILL -- "-$pid" 2>/dev/null
	echo "# $name: $(($(forks) - ${job_forks[$pid]})) processes made while it ran"

	if dmesg | sed -n "/kh-selftests: running $name\$/,\$p" | grep -q -E "$splat"; then
		echo "# the kernel log shows a splat since $name began (see 'kernel log clean')"
	fi
	case $rc in
	0) result ok "$name" "${job_t0[$pid]}" ;;
	4) result skip "$name" "${job_t0[$pid]}" "$(sed -n 's/^SKIP: //p' "$out" | head -n 1)" ;;
	124|137) result fail "$name" "${job_t0[$pid]}" "timed out after ${tt}s" ;;
	*) result fail "$name" "${job_t0[$pid]}" "exit $rc" ;;
	esac
	unset "job_name[$pid]" "job_t0[$pid]" "job_tt[$pid]" "job_reader[$pid]" \
		"job_forks[$pid]"

	left=
	for n in $(ip netns list | cut -d' ' -f1); do
		[[ $n == "$(ns_tag "$name")"* ]] || continue
		left+="$n "
		# shellcheck disable=SC2046 # one argument per pid
		kill -KILL $(ip netns pids "$n") 2>/dev/null
		ip netns delete "$n"
	done
	[ -z "$left" ] || echo "# $name left network namespaces behind: $left(deleted)"
	[ "$rc" = 0 ] || [ "$rc" = 4 ]
}

# reap_all: wait for every running test; 1 if one failed
reap_all() {
	local bad=0

	while [ ${#job_name[@]} -gt 0 ]; do
		test_reap || bad=1
	done
	return "$bad"
}

# after_test: a test that unloaded the module leaves it loaded again; 1 if
# it cannot be
after_test() {
	local t0 out

	loaded kh_reflect && return 0
	t0=$(now_us)
	out=$(load_kmod 2>&1) && return 0
	echo "$out" | indent
	result fail "insmod kh_reflect.ko again after $1" "$t0"
	module_ok=0
	return 1
}

# test_timeout_of FILE: its "# kh-timeout: SECONDS", else the default
test_timeout_of() {
	local tt

	tt=$(sed -n 's/^# kh-timeout: \([0-9]\+\)$/\1/p' "$1" | head -n 1)
	[ -n "$tt" ] && [ "$tt" -gt "$test_timeout" ] || tt=$test_timeout
	echo "$tt"
}

# The parallel tests first, the longest (by their timeout) first, so that
# the last to end is not a long one started late; then the others, one at
# a time, in their order (the module unloads last).
beside=() alone=()
if [ "$module_ok" = 1 ]; then
	for t in "$here"/tests/*.sh; do
		[ -f "$t" ] || continue
		# shellcheck disable=SC2053 # $filter is a glob on purpose
		[[ ${t##*/} == $filter && ${t##*/} == $core ]] || continue
		if is_parallel "$t" && [ "$guest_jobs" -gt 1 ]; then
			beside+=("$(test_timeout_of "$t") $t")
		else
			alone+=("$t")
		fi
	done
	mapfile -t beside < <(printf '%s\n' "${beside[@]}" | sort -s -k1,1nr | cut -d' ' -f2-)
fi

failed_any=0
for t in "${beside[@]}"; do
	[ -n "$t" ] || continue
	while [ ${#job_name[@]} -ge "$guest_jobs" ]; do
		test_reap || failed_any=1
	done
	[ "$failed_any" = 1 ] && [ "$keep_going" = 0 ] && break
	test_start "$t" beside
done
reap_all || failed_any=1
for t in "${alone[@]}"; do
	[ "$module_ok" = 1 ] || break
	[ "$failed_any" = 1 ] && [ "$keep_going" = 0 ] && break
	test_start "$t" alone
	test_reap || failed_any=1
	after_test "${t##*/}" || break
done
if [ "$failed_any" = 1 ] && [ "$keep_going" = 0 ]; then
	echo "# stopped at the first failure (--keep-going runs everything)"
fi

t0=$(now_us)
if loaded kh_reflect; then
	if out=$(timeout 60 rmmod kh_reflect 2>&1) && ! loaded kh_reflect; then
		result ok "rmmod clean" "$t0"
	else
		echo "$out" | indent
		result fail "rmmod clean" "$t0"
	fi
else
	result skip "rmmod clean" "$t0" "kh_reflect is not loaded"
fi

# After rmmod, everything the module and the tests allocated is gone or
# leaked.  kmemleak reports an object once it is 5 s old and unreferenced;
# a second scan, as is usual, sheds references left on stacks by the first.
if [ -w "$kmemleak" ]; then
	t0=$(now_us)
	sleep 6
	if ! { echo scan >"$kmemleak" && sleep 1 && echo scan >"$kmemleak"; } 2>/dev/null; then
		dmesg | grep -i kmemleak | tail -n 5 | indent
		result fail "kmemleak: nothing unreferenced after rmmod" "$t0" \
			"kmemleak refuses to scan (turned itself off?)"
	elif leaks=$(cat "$kmemleak") && [ -z "$leaks" ]; then
		result ok "kmemleak: nothing unreferenced after rmmod" "$t0"
	else
		echo "# kmemleak reports $(grep -c '^unreferenced object' <<<"$leaks") object(s):"
		echo "$leaks" | indent
		result fail "kmemleak: nothing unreferenced after rmmod" "$t0"
	fi
fi

# WARN, BUG, oopses, refcount and list corruption, slub_debug's findings: all
# say so in the log and leave a taint.  The log has a "kh-selftests: running
# NAME" line before each test.
t0=$(now_us)
first=$(dmesg | grep -n -m 1 -E "$splat" | cut -d: -f1)
tainted=$(cat /proc/sys/kernel/tainted)
# B bad page, D died, W warning, L soft lockup.
bad_taint=$(( tainted & ((1 << 5) | (1 << 7) | (1 << 9) | (1 << 14)) ))
if [ -z "$first" ] && [ "$bad_taint" = 0 ]; then
	result ok "kernel log clean" "$t0"
else
	echo "# tainted: $tainted"
	if [ -n "$first" ]; then
		dmesg | tail -n "+$first" | indent
	else
		dmesg | tail -n 50 | indent
	fi
	result fail "kernel log clean" "$t0"
fi

kill "$tstamp_pid" 2>/dev/null
wait "$tstamp_pid" 2>/dev/null
echo "KHTEST end"
exit 0
