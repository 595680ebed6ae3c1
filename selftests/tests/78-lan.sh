#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two peers on one LAN.  A (192.168.1.2) and B (192.168.1.3) on one bridge
# behind one home router NAT1 (203.0.113.1), which does not hairpin: a
# packet from the LAN to its public address goes nowhere.  R on the WAN.
# Both run "khctl peers sync wg0 --watch" with no option.  R sees both at
# 203.0.113.1 (one of them on a port masquerade moved), useless to each
# other; but their requests carry their own addresses (local candidates),
# R hands them on with the records, and each side's path check probes them
# too: they come up direct over the LAN, both ways, and R relays nothing.
# Asserts: WireGuard's endpoints are the LAN addresses; pings cross; R's
# relay counters stay 0; R's records carry the candidates and not the
# tunnel's own address; "peers list" says the path is "lan".  Then the
# router hairpins (its two public ports forwarded back into the LAN, so
# the public endpoints work too: a probe from A to B's gets B's module's
# answer); the peers start over, and the LAN is still preferred.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_world
nat_ns nat1 a b
veth wan n1 nat1 wan
ip -n "$(ns_name wan)" route add 203.0.113.1/32 dev n1
ip -n "$(ns_name nat1)" addr add 203.0.113.1/32 dev wan
ip -n "$(ns_name nat1)" route add 198.51.100.126/32 dev wan
ip -n "$(ns_name nat1)" route add default via 198.51.100.126 dev wan
ip -n "$(ns_name nat1)" link add lan type bridge
ip -n "$(ns_name nat1)" link set lan up
veth nat1 pa a eth0
veth nat1 pb b eth0
ip -n "$(ns_name nat1)" link set pa master lan
ip -n "$(ns_name nat1)" link set pb master lan
ip -n "$(ns_name nat1)" addr add 192.168.1.1/24 dev lan
ip -n "$(ns_name a)" addr add 192.168.1.2/24 dev eth0
ip -n "$(ns_name a)" route add default via 192.168.1.1
ip -n "$(ns_name b)" addr add 192.168.1.3/24 dev eth0
ip -n "$(ns_name b)" route add default via 192.168.1.1
ns nat1 sysctl -qw net.ipv4.ip_forward=1
nat_home_rules nat1
nat_mesh_wg

nat_watch a b

lan() {
	[ "$(nat_wg_endpoint a b)" = 192.168.1.3:51820 ] &&
		[ "$(nat_wg_endpoint b a)" = 192.168.1.2:51820 ] &&
		ns a ping -c 1 -W 1 198.51.100.131 >/dev/null
}
t0=$EPOCHSECONDS
wait_for lan 60 || {
	nat_show_syncs a b -- r
	kh r peers list
	fail "A and B on one LAN: not direct over it (A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a))"
}
echo "direct over the LAN after $((EPOCHSECONDS - t0)) s: A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a)"
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null || fail "B loses pings to A over the LAN"

relayed=$(kh r status -j | jq '.counters.relay_packets')
[ "$relayed" = 0 ] || fail "R relayed $relayed packets between peers on one LAN"
recs=$(kh r peers list -j)
jq -e --arg k "$(wg_pub a wg0)" \
	'.[] | select(.public_key == $k) | .candidates == ["192.168.1.2:51820"]' \
	<<<"$recs" >/dev/null ||
	fail "R's record of A: expected the candidate 192.168.1.2:51820 alone (not the tunnel's 198.51.100.130), got: $(jq -c . <<<"$recs")"
jq -e --arg k "$(wg_pub b wg0)" \
	'.[] | select(.public_key == $k) | .endpoint | startswith("203.0.113.1:")' \
	<<<"$recs" >/dev/null || fail "R's record of B is not NAT1's public address: $recs"
kh a peers list wg0 -j | jq -e --arg k "$(wg_pub b wg0)" \
	'.[] | select(.public_key == $k) | .path == "lan" and .wg_endpoint == "192.168.1.3:51820"' \
	>/dev/null || fail "A's peers list does not say B's path is lan: $(kh a peers list wg0 -j)"
grep -q '"path":"lan"' "$KH_TMP/a.log" "$KH_TMP/b.log" ||
	fail "neither sync reported a change to the LAN path"
echo "R's record of A: $(jq -c --arg k "$(wg_pub a wg0)" '.[] | select(.public_key == $k) | {endpoint, candidates}' <<<"$recs")"

# The router hairpins now.  The public ports as R saw them, forwarded.
pa=$(jq -r --arg k "$(wg_pub a wg0)" '.[] | select(.public_key == $k) | .endpoint' <<<"$recs")
pb=$(jq -r --arg k "$(wg_pub b wg0)" '.[] | select(.public_key == $k) | .endpoint' <<<"$recs")
ns nat1 nft -f - <<-NFT
table ip hairpin {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "lan" ip daddr 203.0.113.1 udp dport ${pa##*:} dnat to 192.168.1.2:51820
		iifname "lan" ip daddr 203.0.113.1 udp dport ${pb##*:} dnat to 192.168.1.3:51820
	}
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "lan" ct status dnat masquerade
	}
}
NFT
nat_reset
# what the LAN sent to the public address before is tracked as the
# router's own: gone, so that the forwards apply (the mappings toward R,
# and so the public ports, stay)
ns nat1 conntrack -D -d 203.0.113.1 >/dev/null 2>&1 || true
out=$(kh a probe wg0 "$pb") || fail "the router hairpins, yet a probe from A to B's public endpoint $pb got no answer: $out"
echo "hairpin: A's probe to B's public endpoint $pb answered"
nat_watch a b
wait_for lan 60 || {
	nat_show_syncs a b -- r
	fail "with a router that hairpins: not direct over the LAN (A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a))"
}
echo "the router hairpins: still the LAN, A has B at $(nat_wg_endpoint a b)"

# IPv6 on the LAN too (ULA), the bridge passes no IPv4 between A and B any
# more, and the router hairpins no more: the LAN's IPv6 candidates are the
# path.  (With the hairpin left, a first round whose IPv6 neighbours are
# not yet resolved may settle on the hairpinned path, which WireGuard then
# keeps: a later round does not move a live session to a better candidate.)
ip -n "$(ns_name a)" addr add fd00:1::2/64 dev eth0 nodad
ip -n "$(ns_name b)" addr add fd00:1::3/64 dev eth0 nodad
ns nat1 nft delete table ip hairpin
ns nat1 nft -f - <<-NFT
table bridge lan4 {
	chain forward {
		type filter hook forward priority filter;
		ether type ip drop
	}
}
NFT
# and the hairpinned flows' NAT bindings go with the router's tracking
nat_reset nat1
nat_watch a b
lan6() {
	[ "$(nat_wg_endpoint a b)" = '[fd00:1::3]:51820' ] &&
		[ "$(nat_wg_endpoint b a)" = '[fd00:1::2]:51820' ] &&
		ns a ping -c 1 -W 1 198.51.100.131 >/dev/null
}
wait_for lan6 60 || {
	nat_show_syncs a b -- r
	kh r peers list
	fail "IPv4 blocked on the LAN: not direct over the LAN's IPv6 (A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a))"
}
recs=$(kh r peers list -j)
jq -e --arg k "$(wg_pub a wg0)" \
	'.[] | select(.public_key == $k) | .candidates | index("[fd00:1::2]:51820") != null' \
	<<<"$recs" >/dev/null ||
	fail "R's record of A lacks the candidate [fd00:1::2]:51820: $(jq -c . <<<"$recs")"
kh a peers list wg0 -j | jq -e --arg k "$(wg_pub b wg0)" \
	'.[] | select(.public_key == $k) | .path == "lan"' >/dev/null ||
	fail "A's peers list does not say B's path is lan: $(kh a peers list wg0 -j)"
echo "IPv4 blocked on the LAN: direct over its IPv6, A has B at $(nat_wg_endpoint a b)"
