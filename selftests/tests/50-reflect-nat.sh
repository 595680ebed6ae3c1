#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A peer behind a masquerading home router probes a public reflector from its
# WireGuard port: the answer is the router's public address, and the port is
# the very mapping the reflector's WireGuard then sees for that peer.  IPv4,
# then IPv6.  R's second port (its WireGuard port + 1, where nothing
# listens) answers plain probes too: the same mapping through NAT1, and
# another one once NAT1 maps every destination port apart (symmetric).
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_reflect_pair

# probe_json HOST REFLECTOR: khctl probe -j, with its output checked.
probe_json() {
	local out

	out=$(kh "$1" probe wg0 "$2" -j) || fail "khctl probe wg0 $2 in $1 exited $?"
	jq -e '.endpoint and .reflector and (.rtt_us | type == "number")' \
		<<<"$out" >/dev/null || fail "khctl probe -j: unexpected output: $out"
	echo "$out"
}

# Cold: the probe goes out before WireGuard ever sent anything, so it opens
# the mapping that WireGuard then reuses.
cold=$(probe_json a "$NAT_R4:51820" | jq -r .endpoint)
[[ $cold == 203.0.113.1:* ]] ||
	fail "probe from behind NAT1: expected NAT1's public 203.0.113.1:PORT, got $cold"
expect_eq "$(kh_status r .counters.tx_answers)" 1 "answers sent by R"
expect_eq "$(kh_status a .counters.rx_answers)" 1 "answers received by A"

wait_for "ns a ping -c 1 -W 1 198.51.100.129" 10 ||
	fail "A cannot ping R through the tunnel"
seen=$(ns r wg show wg0 endpoints | awk -v k="$(wg_pub a wg0)" '$1 == k { print $2 }')
expect_eq "$seen" "$cold" "R's WireGuard endpoint for A vs. A's probe result"

# Warm: after WireGuard's handshake, the same mapping again.
warm=$(probe_json a "$NAT_R4:51820" | jq -r .endpoint)
expect_eq "$warm" "$seen" "probe result after the handshake"
human=$(kh a probe wg0 "$NAT_R4:51820")
expect_eq "$human" "$seen" "khctl probe's plain output"
grep -q "endpoint $seen" <<<"$(kh a reflections)" ||
	fail "khctl reflections does not list $seen: $(kh a reflections)"

# R's second port: no socket there, the module answers from it.
ns r ss -Hlun | grep -q ':51821 ' && fail "R has a socket on 51821"
alt=$(probe_json a "$NAT_R4:51821" | jq -r .endpoint)
expect_eq "$alt" "$seen" "the probe of R's second port through NAT1"
# Symmetric: NAT1 picks a new random port for every destination.
ns nat1 nft flush chain inet nat post
ns nat1 nft add rule inet nat post oifname wan masquerade random
ns nat1 conntrack -F >/dev/null 2>&1 || true
s1=$(probe_json a "$NAT_R4:51820" | jq -r .endpoint)
s2=$(probe_json a "$NAT_R4:51821" | jq -r .endpoint)
[ "${s1%:*}" = "${s2%:*}" ] && [ "${s1##*:}" != "${s2##*:}" ] ||
	fail "through a symmetric NAT1, R's two ports saw $s1 and $s2"
ns nat1 nft flush chain inet nat post
ns nat1 nft add rule inet nat post oifname wan masquerade
ns nat1 conntrack -F >/dev/null 2>&1 || true
echo "R's second port: $alt through NAT1; $s1 and $s2 through a symmetric one"

# IPv6: move R's endpoint to its IPv6 address and do it again.
ns a wg set wg0 peer "$(wg_pub r wg0)" endpoint "[$NAT_R6]:51820"
cold6=$(probe_json a "[$NAT_R6]:51820" | jq -r .endpoint)
[[ $cold6 == "[2001:db8:ffff::1]:"* ]] ||
	fail "IPv6 probe: expected NAT1's public [2001:db8:ffff::1]:PORT, got $cold6"
wait_for "ns a ping -c 1 -W 1 198.51.100.129" 10 ||
	fail "A cannot ping R through the tunnel over IPv6"
seen6=$(ns r wg show wg0 endpoints | awk -v k="$(wg_pub a wg0)" '$1 == k { print $2 }')
expect_eq "$seen6" "$cold6" "R's WireGuard endpoint for A over IPv6 vs. the probe"
echo "A is seen as $seen (IPv4) and $seen6 (IPv6), as WireGuard sees it"
