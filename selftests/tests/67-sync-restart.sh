#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A peer without a live session gets its new endpoint by being made anew,
# so that WireGuard initiates at once instead of after its 5 s back-off:
# it keeps everything else it had (preshared key, keepalive, allowed IPs)
# and the tunnel comes up.  A peer with a live session only gets its
# endpoint set: its transfer counters go on.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
a_pub=$(wg_pub a wg0)
b_pub=$(wg_pub b wg0)
(umask 077 && wg genpsk >"$KH_TMP/psk")
ns a wg set wg0 peer "$b_pub" preshared-key "$KH_TMP/psk" persistent-keepalive 25 \
	allowed-ips 198.51.100.131/32,2001:db8:b::/64
ns b wg set wg0 peer "$a_pub" preshared-key "$KH_TMP/psk"

# peer_conf NS KEY: "psk keepalive allowed-ips" as wg shows them
peer_conf() {
	local psk ka aips

	psk=$(ns "$1" wg show wg0 preshared-keys | awk -v k="$2" '$1 == k { print $2 }')
	ka=$(ns "$1" wg show wg0 persistent-keepalive | awk -v k="$2" '$1 == k { print $2 }')
	aips=$(ns "$1" wg show wg0 allowed-ips | awk -v k="$2" '$1 == k { $1 = ""; print }' |
		tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
	echo "$psk $ka $aips"
}
before=$(peer_conf a "$b_pub")
[[ $before == "$(cat "$KH_TMP/psk") 25 "* ]] || fail "setting up A's peer B: $before"

# R learns A, B learns A (and opens its NAT toward A).
kh a peers sync wg0 >/dev/null || fail "A's first sync failed"
kh b peers sync wg0 >/dev/null || fail "B's sync failed"
# (A's module holds B's record, pushed by R; WireGuard does not.)
expect_eq "$(nat_wg_endpoint a b)" "(none)" "A's endpoint for B before its second sync"
# Traffic for B while A does not know where B is: WireGuard tries a
# handshake that goes nowhere, and would wait 5 s before the next one.
ns a ping -c 1 -W 1 198.51.100.131 >/dev/null 2>&1 || true

out=$(kh a peers sync wg0 -j) || fail "A's sync failed: $out"
jq -e --arg k "$b_pub" '.changes[] | select(.public_key == $k)' <<<"$out" >/dev/null ||
	fail "A's sync changed nothing for B: $out"
[[ $(nat_wg_endpoint a b) == 203.0.113.2:* ]] ||
	fail "A's endpoint for B: '$(nat_wg_endpoint a b)'"
expect_eq "$(peer_conf a "$b_pub")" "$before" "A's peer B (psk, keepalive, allowed IPs) after the sync"
wait_for "ns a ping -c 1 -W 1 198.51.100.131" 20 ||
	fail "no tunnel A -> B after the sync (is the preshared key still there?)"
echo "B's peer on A kept its preshared key, keepalive 25 and allowed IPs ($before)"

# Now a live session: a fresher record for B, from an import, is applied
# with the endpoint alone.
ns a ping -c 5 -i 0.2 -W 1 198.51.100.131 >/dev/null || fail "pings A -> B lost"
echo "live session up; importing a moved endpoint for B"
rx0=$(ns a wg show wg0 transfer | awk -v k="$b_pub" '$1 == k { print $2 }')
b_ep=$(nat_wg_endpoint a b)
moved=203.0.113.2:$(( ${b_ep##*:} == 65535 ? 1024 : ${b_ep##*:} + 1 ))
printf '[{"public_key": "%s", "endpoint": "%s", "expires_ms": 60000}]\n' \
	"$b_pub" "$moved" | kh a peers import wg0 >/dev/null || fail "import on A failed"
kh a peers pull wg0 >/dev/null || fail "pull on A failed"
expect_eq "$(nat_wg_endpoint a b)" "$moved" "A's endpoint for B after the pull"
rx1=$(ns a wg show wg0 transfer | awk -v k="$b_pub" '$1 == k { print $2 }')
[ "$rx1" -ge "$rx0" ] && [ "$rx0" -gt 0 ] ||
	fail "A's peer B was made anew despite a live session: received $rx0 then $rx1 bytes"
expect_eq "$(peer_conf a "$b_pub")" "$before" "A's peer B after the pull"
echo "live session: endpoint $b_ep -> $moved set alone, counters went on ($rx0 -> $rx1 bytes)"
