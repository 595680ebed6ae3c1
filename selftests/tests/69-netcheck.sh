#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khctl netcheck from A's WireGuard port, against two reflectors at two
# addresses (R, and R2 without a mesh key): behind a home router it reports
# the NAT's public endpoint, a mapping that does not vary, the port kept;
# behind a symmetric NAT a mapping that varies and a port not kept; without
# NAT the host's own address.  No IPv6 reflector here: "works" is null.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

natlab_world
# R2 at 198.51.100.2, on a link of its own to the WAN router.
nat_ns r2
veth wan r20 r2 eth0
ip -n "$(ns_name wan)" addr add 198.51.100.126/32 dev r20
ip -n "$(ns_name wan)" route add 198.51.100.2/32 dev r20
ip -n "$(ns_name r2)" addr add 198.51.100.2/32 dev eth0
ip -n "$(ns_name r2)" route add 198.51.100.126/32 dev eth0
ip -n "$(ns_name r2)" route add default via 198.51.100.126 dev eth0
wg_dev r2 wg0 51820 198.51.100.140/25
wg_peer a wg0 r2 wg0 198.51.100.140/32 198.51.100.2:51820
wg_peer r2 wg0 a wg0 198.51.100.130/32
kh r2 reflect enable wg0 >/dev/null

# check KIND JQ_FILTER WHAT
check() {
	local out

	natlab_kind a "$1"
	out=$(kh a netcheck wg0 -j) || fail "netcheck behind $1 exited $?: $out"
	jq -e "$2" <<<"$out" >/dev/null || fail "netcheck behind $1: expected $3, got: $out"
	echo "$1: $(jq -c '.ipv4' <<<"$out")"
}

check home '.ipv4.public == "203.0.113.1:51820" and .ipv4.mapping_varies == "no"
	and .ipv4.port_kept == "yes" and .ipv4.answered == 2 and .ipv6.works == null
	and ([.reflectors[].endpoint] | unique == ["203.0.113.1:51820"])' \
	"one public endpoint 203.0.113.1:51820 from both, not varying, port kept"
check sym '.ipv4.mapping_varies == "yes" and .ipv4.port_kept == "no"
	and ([.reflectors[].endpoint | startswith("203.0.113.1:")] | all)
	and ([.reflectors[].endpoint] | unique | length == 2)' \
	"two endpoints at 203.0.113.1 with random ports: varying, port not kept"
check none '.ipv4.public == "192.0.2.2:51820" and .ipv4.mapping_varies == "no"' \
	"the host's own address"

# Text, and one reflector only: the mapping cannot be told.
out=$(kh a netcheck wg0 --reflector "$NAT_R4:51820") || fail "netcheck --reflector exited $?: $out"
grep -q "^IPv4: public 192.0.2.2:51820; mapping varies by destination: unknown" <<<"$out" ||
	fail "netcheck with one reflector: expected the mapping unknown, got: $out"
grep -q "^IPv6: no reflector to ask" <<<"$out" || fail "netcheck: expected no IPv6 reflector, got: $out"

# Nobody answers: exit 1, said.
ip -n "$(ns_name r)" link set eth0 down
ip -n "$(ns_name r2)" link set eth0 down
if out=$(kh a netcheck wg0 --timeout 600 2>&1); then
	fail "netcheck with no reflector reachable exited 0: $out"
fi
grep -q "no reflector answered" <<<"$out" || fail "netcheck: expected 'no reflector answered', got: $out"
# Options of sync only are refused.
if kh a netcheck wg0 --watch >/dev/null 2>&1; then fail "netcheck --watch accepted"; fi
echo "netcheck: home, symmetric and no NAT told apart"
