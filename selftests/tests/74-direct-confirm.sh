#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A direct path counts only once WireGuard's own packets cross it.  A and B
# behind home routers, one reflector R, both running "khctl peers sync
# --watch" with no option.  The WAN router passes the module's probes
# between the two sites but drops WireGuard's messages there (a firewall
# that passes the probe but not the handshake; a held TTL or a stale
# connection tracking entry look the same to sync).  Before, both sides
# called the path direct on the probe's answer and were left with no path;
# now each sees no handshake over it within the bound and both go to R's
# relay.  Then the firewall goes: the relay ends when WireGuard says the
# direct path works.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
# WireGuard's four message types begin with 1..4 and three zero bytes; the
# module's messages begin with its magic.
ns wan nft -f - <<'NFT'
table inet block {
	counter wg_dropped { }
	counter other_passed { }
	set sites { type ipv4_addr; elements = { 203.0.113.1, 203.0.113.2 } }
	chain forward {
		type filter hook forward priority filter - 1; policy accept;
		ip saddr @sites ip daddr @sites udp length > 11 \
			@th,64,32 { 0x01000000, 0x02000000, 0x03000000, 0x04000000 } \
			counter name wg_dropped drop
		ip saddr @sites ip daddr @sites udp length > 11 counter name other_passed
	}
}
NFT
counter() {
	ns wan nft -j list counter inet block "$1" | jq '.nftables[1].counter.packets'
}

for n in a b; do
	ns "$n" "$KHCTL" peers sync wg0 --watch -j >"$KH_TMP/$n.log" 2>&1 &
	eval "pid_$n=$!"
	# B comes up once R holds A's record.
	[ "$n" = b ] || wait_for "kh r peers show wg0 $(wg_pub a wg0) >/dev/null 2>&1" 15 ||
		fail "A's first round did not reach R"
done
on_exit 'kill $pid_a $pid_b 2>/dev/null'

show_state() {
	nat_show_syncs a b -- a b r
	echo "-- WAN: WireGuard dropped $(counter wg_dropped), other passed $(counter other_passed)"
}

relayed() {
	[ "$(nat_wg_endpoint a b)" = "$NAT_R4:51820" ] &&
		[ "$(nat_wg_endpoint b a)" = "$NAT_R4:51820" ]
}
wait_for "relayed && ns a ping -c 1 -W 1 198.51.100.131" 40 || {
	show_state
	fail "probes cross but WireGuard does not: A and B were not relayed through R"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null || fail "relayed: B loses pings to A"
echo "relayed through R: A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a)"
# The scenario itself: the module's probes crossed, WireGuard's did not.
[ "$(counter other_passed)" -gt 0 ] ||
	fail "no probe crossed between the sites: the test did not set up its case"
[ "$(counter wg_dropped)" -gt 0 ] ||
	fail "no WireGuard message was dropped between the sites: the test did not set up its case"
for n in a b; do
	grep -q 'no WireGuard handshake over the direct path' "$KH_TMP/$n.log" ||
		fail "$n's sync did not say why the direct path was left: $(cat "$KH_TMP/$n.log")"
	grep -q '"path":"relayed"' "$KH_TMP/$n.log" ||
		fail "$n's sync did not report the relayed path: $(cat "$KH_TMP/$n.log")"
done
echo "WAN: $(counter wg_dropped) WireGuard messages dropped, $(counter other_passed) probes passed"
