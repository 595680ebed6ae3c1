# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by every test in selftests/tests/, which guest.sh runs as root in the
# VM with kh_reflect loaded.  In the manner of the kernel's
# tools/testing/selftests/wireguard/netns.sh: numbered namespaces, "n1 cmd" runs
# cmd in namespace 1, one cleanup at exit, and every check is a plain command
# whose failure stops the test with a message.  Only documentation addresses
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), only inside
# the test's own namespaces.
#
#   $KHCTL $KMOD $KVER        khctl, the module, the running kernel
#   $KH_TMP                   scratch directory, removed at exit
#   ns NAME cmd...            run cmd in namespace NAME, created on first use
#                             (khctl's cache in $KH_TMP/state-NAME)
#   n1 ... n9 cmd...          ns 1 cmd... ... ns 9 cmd...
#   ns_add NAME...            create namespaces (lo up) without running anything
#   ns_name NAME              the real name (for "ip link set ... netns", "ip -n")
#   kh NAME args...           khctl in namespace NAME
#   kh_status NAME [FILTER]   "khctl status -j" in NAME, through jq FILTER (.)
#   veth NAME_A IF_A NAME_B IF_B   a veth pair between two namespaces, up
#   wg_dev NAME DEV PORT [ADDR/LEN...]   a WireGuard device with a fresh key
#   wg_pub NAME DEV           its public key
#   wg_peer NAME DEV PEER_NAME PEER_DEV ALLOWED_IPS [ENDPOINT]
#   wg_pair A B [PORT_A PORT_B]    A and B joined by a veth (192.0.2.1, .2)
#                             and a tunnel wg0 (198.51.100.1, .2), peers set
#   fail MESSAGE              "FAIL: MESSAGE", exit 1
#   skip REASON               "SKIP: REASON", exit 4
#   expect_eq ACTUAL EXPECTED WHAT
#   wait_for "CMD" [TIMEOUT]  retry CMD (eval'd) for TIMEOUT s (10); 1 if never
#   kh_sleep SECONDS          sleep, without starting a program
#   on_exit "CMD"             run CMD at exit, before the namespaces go
#
# A command that fails outside an if, && or || stops the test: the ERR trap
# says which one and where.  pipefail is on, and it applies to background
# subshells too: "cmd | grep -q X" can fail when grep quits before cmd is done
# (write grep -q X <<<"$(cmd)"); "kill $pid" of a job that has ended, and
# "wait $pid" of a job that was killed (143), stop the test: add || true.

set -eE -o pipefail
export LC_ALL=C

: "${KH_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${KVER:=$(uname -r)}"
: "${KHCTL:=$KH_REPO/genl-tool/khctl}"
: "${KMOD:=$KH_REPO/build/$KVER/kh_reflect.ko}"
export KH_REPO KVER KHCTL KMOD

# guest.sh gives each test a tag of its own (KH_NS_TAG), so that tests that
# run side by side can tell their namespaces from each other's.
KH_NS_PREFIX=${KH_NS_TAG:-kht}$$-
KH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kht.XXXXXX")
KH_ON_EXIT=()

# To stderr, so that a message from inside $(...) is seen too.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 4
}

on_exit() { KH_ON_EXIT+=("$1"); }

# ns_kill_all FULLNAME: kill whatever runs in that network namespace
ns_kill_all() {
	local pids

	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086 # one argument per pid
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
}

# ns_delete_all: every namespace of this test, and what runs in it
ns_delete_all() {
	local n

	for n in $(ip netns list | cut -d' ' -f1); do
		[[ $n == "$KH_NS_PREFIX"* ]] || continue
		ns_kill_all "$n"
		ip netns delete "$n"
	done
	return 0
}

kh_cleanup() {
	local rc=$? i

	set +eE
	trap - ERR
	for ((i = ${#KH_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${KH_ON_EXIT[i]}" >/dev/null 2>&1
	done
	ns_delete_all
	rm -rf "$KH_TMP"
	exit "$rc"
}
trap kh_cleanup EXIT
# shellcheck disable=SC2154 # kh_rc is set in the trap itself
trap 'kh_rc=$?; [ "$kh_rc" = 4 ] ||
	echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $kh_rc" >&2' ERR

ns_name() { echo "$KH_NS_PREFIX$1"; }

ns_add() {
	local n

	for n in "$@"; do
		[ -e "/run/netns/$KH_NS_PREFIX$n" ] && continue
		ip netns add "$KH_NS_PREFIX$n"
		ip -n "$KH_NS_PREFIX$n" link set lo up
	done
}

ns() {
	local n=$1

	shift
	ns_add "$n"
	# each namespace a host of its own: khctl's cache in a directory of its own
	KHCTL_STATE_DIR=${KHCTL_STATE_DIR:-$KH_TMP/state-$n} \
		ip netns exec "$KH_NS_PREFIX$n" "$@"
}

n1() { ns 1 "$@"; }
n2() { ns 2 "$@"; }
n3() { ns 3 "$@"; }
n4() { ns 4 "$@"; }
n5() { ns 5 "$@"; }
n6() { ns 6 "$@"; }
n7() { ns 7 "$@"; }
n8() { ns 8 "$@"; }
n9() { ns 9 "$@"; }

kh() {
	local n=$1

	shift
	ns "$n" "$KHCTL" "$@"
}

kh_status() {
	local json

	json=$(kh "$1" status -j) || fail "khctl status -j failed in namespace $1"
	jq -r "${2:-.}" <<<"$json" ||
		fail "khctl status -j in namespace $1: jq '${2:-.}' fails on: $json"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# Under plain emulation every program started costs about 0.1 s of CPU
# (measured: 300 runs of /bin/true took 25-34 s in the VM), and the suite is
# bound by the VM's CPUs.  So a wait is a read with a timeout from a FIFO
# that nobody writes (no process), and wait_for tries every 0.2 s for its
# first 2 s, then every KH_WAIT_SLOW s (0.5; the benchmarks, whose figures
# are such waits, keep 0.2).
mkfifo "$KH_TMP/.sleep"
exec {KH_SLEEP_FD}<>"$KH_TMP/.sleep"
kh_sleep() { read -r -t "$1" -u "$KH_SLEEP_FD" _ || true; }

wait_for() {
	local cmd=$1 deadline=$((EPOCHSECONDS + ${2:-10})) i=0

	until eval "$cmd" >/dev/null 2>&1; do
		[ "$EPOCHSECONDS" -lt "$deadline" ] || return 1
		if [ $((i++)) -lt 10 ]; then kh_sleep 0.2; else kh_sleep "${KH_WAIT_SLOW:-0.5}"; fi
	done
}

# pcap_start NS PCAP TCPDUMP_ARGS...: tcpdump in NS into PCAP, in the
# background (its pid in PCAP_PID), back once it listens: a loaded VM can
# take seconds to start it, and what it missed would not count.
pcap_start() {
	local n=$1 f=$2

	shift 2
	ns "$n" tcpdump -U -w "$f" "$@" 2>"$f.log" &
	PCAP_PID=$!
	wait_for "grep -q 'listening on' '$f.log'" 30 ||
		fail "tcpdump in $n did not start: $(cat "$f.log")"
}

veth() {
	ns_add "$1" "$3"
	ip link add "$2" netns "$KH_NS_PREFIX$1" type veth \
		peer name "$4" netns "$KH_NS_PREFIX$3"
	ip -n "$KH_NS_PREFIX$1" link set "$2" up
	ip -n "$KH_NS_PREFIX$3" link set "$4" up
}

wg_dev() {
	local n=$1 dev=$2 port=$3 key=$KH_TMP/$1-$2.key a

	shift 3
	ns_add "$n"
	(umask 077 && wg genkey >"$key")
	wg pubkey <"$key" >"$KH_TMP/$n-$dev.pub"
	ip -n "$KH_NS_PREFIX$n" link add "$dev" type wireguard
	ns "$n" wg set "$dev" listen-port "$port" private-key "$key"
	for a in "$@"; do
		ip -n "$KH_NS_PREFIX$n" addr add "$a" dev "$dev"
	done
	ip -n "$KH_NS_PREFIX$n" link set "$dev" up
}

wg_pub() { cat "$KH_TMP/$1-$2.pub"; }

wg_peer() {
	ns "$1" wg set "$2" peer "$(wg_pub "$3" "$4")" allowed-ips "$5" \
		${6:+endpoint "$6"}
}

wg_pair() {
	local a=$1 b=$2 pa=${3:-51820} pb=${4:-51821}

	veth "$a" veth0 "$b" veth0
	ip -n "$KH_NS_PREFIX$a" addr add 192.0.2.1/24 dev veth0
	ip -n "$KH_NS_PREFIX$b" addr add 192.0.2.2/24 dev veth0
	wg_dev "$a" wg0 "$pa" 198.51.100.1/24
	wg_dev "$b" wg0 "$pb" 198.51.100.2/24
	wg_peer "$a" wg0 "$b" wg0 198.51.100.2/32 "192.0.2.2:$pb"
	wg_peer "$b" wg0 "$a" wg0 198.51.100.1/32 "192.0.2.1:$pa"
}
