#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The seed scenario: A behind NAT1 and B behind NAT2 each have a tunnel to
# the public reflector R only.  After "khctl peers sync" on both, A pings B
# straight across the WAN, not through R, and they go on talking when R's
# WireGuard device and the module are gone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
nat_direct_counter

out=$(kh a peers sync wg0 -j) || fail "first sync on A exited $?: $out"
jq -e --arg r "$NAT_R4:51820" '.reflectors[] | select(.reflector == $r) |
	.endpoint | startswith("203.0.113.1:")' <<<"$out" >/dev/null ||
	fail "A's sync: expected R to see A as 203.0.113.1:PORT, got: $out"

out=$(kh b peers sync wg0 -j) || fail "sync on B exited $?: $out"
a_pub=$(wg_pub a wg0)
jq -e --arg k "$a_pub" '.changes[] | select(.public_key == $k) |
	.new | startswith("203.0.113.1:")' <<<"$out" >/dev/null ||
	fail "B's sync: expected A's endpoint set to 203.0.113.1:PORT, got: $out"
expect_eq "$(nat_wg_endpoint b a)" "$(jq -r --arg k "$a_pub" \
	'.changes[] | select(.public_key == $k) | .new' <<<"$out")" \
	"B's WireGuard endpoint for A"

# A learnt B's record from R's push meanwhile; its next sync applies it.
out=$(kh a peers sync wg0 -j) || fail "second sync on A exited $?: $out"
b_ep=$(nat_wg_endpoint a b)
[[ $b_ep == 203.0.113.2:* ]] ||
	fail "A's WireGuard endpoint for B: expected NAT2's 203.0.113.2:PORT, got '$b_ep' ($out)"

r_before=$(ns r wg show wg0 transfer | awk '{ s += $2 + $3 } END { print s }')
wait_for "ns a ping -c 1 -W 1 198.51.100.131" 15 ||
	fail "A cannot ping B over the direct path within 15 s"
ns a ping -c 10 -i 0.1 -s 1000 -W 1 198.51.100.131 >/dev/null ||
	fail "pings A -> B lost"
ns b ping -c 3 -i 0.1 -W 1 198.51.100.130 >/dev/null || fail "pings B -> A lost"
r_after=$(ns r wg show wg0 transfer | awk '{ s += $2 + $3 } END { print s }')
direct=$(nat_direct_packets)
[ "$direct" -ge 26 ] ||
	fail "expected the pings on the WAN between NAT1 and NAT2, counted $direct packets"
[ $((r_after - r_before)) -lt 2000 ] ||
	fail "R's WireGuard moved $((r_after - r_before)) bytes during 10 KB of pings: not direct"
echo "direct path: A sees B at $b_ep, B sees A at $(nat_wg_endpoint b a); $direct packets NAT1<->NAT2, R moved $((r_after - r_before)) bytes"

# R goes away: its WireGuard device, then the module itself.
ip -n "$(ns_name r)" link del wg0
rmmod kh_reflect || fail "rmmod kh_reflect failed"
ns a ping -c 5 -i 0.2 -W 1 198.51.100.131 >/dev/null ||
	fail "A -> B stopped when R went away"
ns b ping -c 5 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
	fail "B -> A stopped when R went away"
echo "A and B still talk without R and without the module"
