#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Records that survive a reboot.  A and B behind home routers (nat.sh's:
# masquerade, only established packets forwarded in, new WAN packets to
# the router dropped), one reflector R, the mesh key; both run "khctl peers sync wg0 --watch" with
# no tuning option (only the state directory moved into the test's own)
# and go direct; each keeps the other's endpoint in its cache file.  Then
# R is gone for good (its WireGuard device deleted and every packet to it
# dropped, as a machine that is off; not its namespace, whose link holds
# the WAN router's address the NAT routers route through), and both hosts
# "reboot": the
# sync stopped, the WireGuard device deleted, the module reloaded (records
# and watches gone), the device made again from its configuration (same
# key and port, R with its endpoint, the other peer without one), the mesh
# key set, and sync started as the unit starts it (no option at all; the
# state directory from $KHCTL_STATE_DIR as systemd's StateDirectory= would
# give /var/lib/khctl).  No reflector answers: each sets the cached
# endpoint, punches and starts a handshake; they must shake hands and ping
# directly, at the NATs' public addresses.
#
# The routers: a reboot of the hosts leaves them as they are, and their
# connection tracking entries for the A-B session (UDP, 120 s after the
# last packet) would still map the same ports if the hosts came back
# quickly, which makes it easy.  Flushed here, as after a longer outage or
# a router's own reboot: nothing in the network remembers the path, only
# the hosts' files, and each side's first packets hit a router that has
# no mapping yet (a home router drops them) until its own side has sent.
# Linux's masquerade keeps port 51820 when it is free, as home routers
# mostly do, so the cached endpoints still hold.
#
# Then a cache file that is corrupt (A) or another key's (B): said on
# stderr and ignored, sync goes on, and the file is written anew from the
# live session.  A and B keep their files in one state directory, as
# namespaces of one machine do with the default: each device's file is
# named by its key too.
#
# nat.sh's sites, one NAT router each; natlab's (two routers) are the NAT
# matrix's (68).
# kh-timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
a_pub=$(wg_pub a wg0)
b_pub=$(wg_pub b wg0)
declare -A pid=()
# shellcheck disable=SC2016 # expanded at exit
on_exit 'kill ${pid[*]} 2>/dev/null'

# start_sync HOST [ARGS...]: the unit's "khctl peers sync wg0 --watch",
# output appended to $KH_TMP/HOST.log; with no ARGS the state directory
# comes from the environment
start_sync() {
	local h=$1 env=()

	shift
	[ $# -gt 0 ] || env=("KHCTL_STATE_DIR=$KH_TMP/state")
	env "${env[@]}" ip netns exec "$(ns_name "$h")" "$KHCTL" peers sync wg0 --watch "$@" \
		>>"$KH_TMP/$h.log" 2>&1 &
	pid[$h]=$!
}

stop_sync() {
	kill "${pid[$1]}" 2>/dev/null || true
	wait "${pid[$1]}" 2>/dev/null || true
}

# direct: each has the other at its NAT's public address, and A pings B.
direct() {
	[[ $(nat_wg_endpoint a b) == 203.0.113.2:* ]] &&
		[[ $(nat_wg_endpoint b a) == 203.0.113.1:* ]] &&
		ns a ping -c 1 -W 1 198.51.100.131
}

# cfile HOST: HOST's cache file, DEV.KEY.json (KEY: 8 bytes of its key in hex)
cfile() {
	echo "$KH_TMP/state/wg0.$(wg_pub "$1" wg0 | base64 -d | head -c 8 | od -An -tx1 | tr -d ' \n').json"
}

# cached HOST PEER PREFIX: HOST's cache file has PEER at PREFIX*.
cached() {
	jq -e --arg k "$(wg_pub "$2" wg0)" --arg p "$3" \
		'.version == 1 and (.peers[] | select(.public_key == $k) |
		 .endpoint | startswith($p))' "$(cfile "$1")"
}

show_state() {
	nat_show_syncs a b -- a b
	for n in nat1 nat2; do
		echo "-- $n's connection tracking"; ns "$n" conntrack -L -p udp 2>&1
	done
	echo "-- B pings A: $(ns b ping -c 1 -W 1 198.51.100.130 >/dev/null 2>&1 && echo yes || echo no)"
	for h in a b; do echo "-- $h's wg"; ns "$h" wg show wg0 dump; done
	for h in a b; do
		echo "-- $h's cache"; cat "$(cfile "$h")" 2>&1
	done
}

# 1. Direct through R, the caches written.
start_sync a --state-dir "$KH_TMP/state"
wait_for "kh r peers show wg0 $a_pub" 15 || fail "A's first round did not reach R"
start_sync b --state-dir "$KH_TMP/state"
wait_for direct 40 || { show_state; fail "A and B did not go direct through R"; }
wait_for "cached a b 203.0.113.2: && cached b a 203.0.113.1:" 10 ||
	{ show_state; fail "the caches do not hold the peers' public endpoints"; }
for h in a b; do
	expect_eq "$(stat -c %a "$(cfile "$h")")" 600 "mode of $h's cache"
done
[ -z "$(find "$KH_TMP/state" -name '.*')" ] ||
	fail "a temporary file was left: $(ls -a "$KH_TMP/state")"
expect_eq "$(find "$KH_TMP/state" -type f | wc -l)" 2 "files in the shared state directory"
echo "direct through R: A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a); both cached"

# No write when nothing changed: the file (its inode: a write renames a
# new one over it) stays through the next round.
inode=$(stat -c %i "$(cfile a)")
rounds=$(grep -c "^reflector $NAT_R4:51820:" "$KH_TMP/a.log")
wait_for "[ \$(grep -c '^reflector $NAT_R4:51820:' '$KH_TMP/a.log') -gt $rounds ]" 40 ||
	fail "A's sync made no further round"
expect_eq "$(stat -c %i "$(cfile a)")" "$inode" \
	"A's cache file after a round that changed nothing (inode)"
echo "a round that changed nothing left the file alone"

# 2. R gone for good; both hosts reboot.
ip -n "$(ns_name r)" link del wg0
ns r nft -f - <<'NFT'
table inet off {
	chain input {
		type filter hook input priority raw; policy drop;
	}
}
NFT
stop_sync a
stop_sync b
for h in a b; do ip -n "$(ns_name "$h")" link del wg0; done
rmmod kh_reflect || fail "rmmod kh_reflect"
insmod "$KMOD" || fail "insmod kh_reflect"
for n in nat1 nat2; do ns "$n" conntrack -F >/dev/null 2>&1 || true; done

# boot HOST ADDR PEER: wg0 as its configuration makes it
boot() {
	local h=$1

	ip -n "$(ns_name "$h")" link add wg0 type wireguard
	ns "$h" wg set wg0 listen-port 51820 private-key "$KH_TMP/$h-wg0.key" \
		peer "$(wg_pub r wg0)" allowed-ips 198.51.100.129/32 endpoint "$NAT_R4:51820" \
		peer "$(wg_pub "$3" wg0)" allowed-ips "$4/32"
	ip -n "$(ns_name "$h")" addr add "$2/25" dev wg0
	ip -n "$(ns_name "$h")" link set wg0 up
	kh "$h" key set wg0 "$KH_TMP/mesh.key" >/dev/null
}
boot a 198.51.100.130 b 198.51.100.131
boot b 198.51.100.131 a 198.51.100.130
expect_eq "$(nat_wg_endpoint a b)" "(none)" "A's endpoint for B after the reboot"
expect_eq "$(kh a peers list -j | jq length)" 0 "A's records after the reboot"
: >"$KH_TMP/a.log"
: >"$KH_TMP/b.log"

t0=${EPOCHREALTIME/./}
start_sync a
start_sync b
# WireGuard's handshake, with no traffic of ours to start it
handshake() {
	[ "$(ns a wg show wg0 latest-handshakes |
		awk -v k="$b_pub" '$1 == k { print $2 }')" -gt 0 ]
}
wait_for handshake 30 || { show_state; fail "no handshake between A and B after the reboot"; }
t1=${EPOCHREALTIME/./}
wait_for direct 10 || { show_state; fail "A and B are not direct after the reboot"; }
t2=${EPOCHREALTIME/./}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null || fail "B loses pings to A after the reboot"
for h in a b; do
	grep -q 'no reflector answered' "$KH_TMP/$h.log" ||
		fail "$h: its rounds were not silent: $(cat "$KH_TMP/$h.log")"
	grep -q 'cached: no reflector answered' "$KH_TMP/$h.log" ||
		fail "$h: no cached endpoint was set: $(cat "$KH_TMP/$h.log")"
done
echo "after the reboot, no reflector: handshake $(( (t1 - t0) / 1000 )) ms, ping $(( (t2 - t0) / 1000 )) ms after both syncs started; A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a)"

# 3. A corrupt cache on A, another key's on B: said, ignored, sync goes on.
stop_sync a
stop_sync b
# Without a record, "peers list" says where WireGuard's endpoint came from.
kh a peers flush >/dev/null
KHCTL_STATE_DIR=$KH_TMP/state kh a peers list wg0 -j | jq -e --arg k "$b_pub" \
	'.[] | select(.public_key == $k) | .path == "cached" and .source == "cached"' \
	>/dev/null || fail "A's peers list, no record of B: not shown as cached: $(KHCTL_STATE_DIR=$KH_TMP/state kh a peers list wg0 -j)"
good=$(cat "$(cfile a)")
head -c 60 <<<"$good" >"$(cfile a)"
cp "$(cfile a)" "$KH_TMP/a-cut.json"
printf '%s\n' "$good" >"$(cfile b)"
: >"$KH_TMP/a.log"
: >"$KH_TMP/b.log"
start_sync a
start_sync b
wait_for "grep -q 'ignoring the cache' '$KH_TMP/a.log' && grep -q 'ignoring the cache' '$KH_TMP/b.log'" 10 ||
	{ show_state; fail "a bad cache was not reported"; }
grep -q "ignoring the cache $(cfile a): corrupt or truncated" "$KH_TMP/a.log" ||
	fail "A: the truncated cache was not called so: $(cat "$KH_TMP/a.log")"
grep -q "ignoring the cache $(cfile b): it is the cache of another key, $a_pub" "$KH_TMP/b.log" ||
	fail "B: the foreign cache was not called so: $(cat "$KH_TMP/b.log")"
wait_for "cached a b 203.0.113.2: && cached b a 203.0.113.1:" 20 ||
	{ show_state; fail "the bad caches were not written anew from the live session"; }
kill -0 "${pid[a]}" 2>/dev/null && kill -0 "${pid[b]}" 2>/dev/null ||
	fail "sync stopped after a bad cache"
ns a ping -c 3 -i 0.2 -W 1 198.51.100.131 >/dev/null || { show_state; fail "A loses pings to B"; }
echo "a truncated and a foreign cache: said, ignored, written anew; sync goes on"
