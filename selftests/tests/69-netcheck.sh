#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khctl netcheck from A's WireGuard port, against two reflectors at two
# addresses (R with the mesh key, R2 without): behind a home router it
# reports the NAT's public endpoint, a mapping that does not vary, the port
# kept, filtering by port (R's answer from its other port does not get in);
# behind a symmetric NAT a mapping that varies and a port not kept; behind
# address-dependent filtering and without NAT no filtering by port.  R2
# cannot answer from another port: its silence there must not count.  No
# IPv6 reflector here: "works" is null.  Under the mesh key netcheck tells
# R what it found, and R's record of A says so.  With one reflector, its
# second port (the next one, where its module answers plain probes) tells
# the mapping: not varying without NAT, varying behind the symmetric one.
# And the start TTL sync would find from the routers' answers: 3 behind
# site a's carrier NAT, which answers from the public address R sees (the
# home router in front of it is a plain router), 2 for a host with its own
# address (the carrier then is a router of the Internet), 3 behind site b's
# home router and carrier NAT, whose inside is 100.64.0.1.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

natlab_world
natlab_r2 a

# check KIND JQ_FILTER WHAT
check() {
	local out

	natlab_kind a "$1"
	out=$(kh a netcheck wg0 -j) || fail "netcheck behind $1 exited $?: $out"
	jq -e "$2" <<<"$out" >/dev/null || fail "netcheck behind $1: expected $3, got: $out"
	echo "$1: $(jq -c '.ipv4' <<<"$out")"
}

check home '.ipv4.public == "203.0.113.1:51820" and .ipv4.mapping_varies == "no"
	and .ipv4.port_kept == "yes" and .ipv4.port_filtered == "yes"
	and .ipv4.answered == 2 and .ipv6.works == null and .mesh_key
	and .ipv4.start_ttl == 3 and .ipv6.start_ttl == null
	and ([.reflectors[].endpoint] | unique == ["203.0.113.1:51820"])' \
	"one public endpoint 203.0.113.1:51820 from both, not varying, port kept, filtered by port, start TTL 3"
# Under the mesh key netcheck tells R what it found: R's record of A says
# so, and so does A's port.
# r_nat JQ: R's record of A matches JQ (varies, filtered, port_moved).
r_nat() {
	kh r peers list -j | jq -e --arg k "$(wg_pub a wg0)" \
		".[] | select(.public_key == \$k) | $1" >/dev/null
}
r_nat '(.varies | not) and .filtered and (.port_moved | not)' ||
	fail "R's record of A does not say A's NAT filters by port: $(kh r peers list -j)"
kh a status -j | jq -e '.watching[0] | .filtered and (.varies | not)' >/dev/null ||
	fail "A's port does not say its NAT filters: $(kh a status -j | jq -c .watching)"
check sym '.ipv4.mapping_varies == "yes" and .ipv4.port_kept == "no"
	and .ipv4.port_filtered == "yes"
	and ([.reflectors[].endpoint | startswith("203.0.113.1:")] | all)
	and ([.reflectors[].endpoint] | unique | length == 2)' \
	"two endpoints at 203.0.113.1 with random ports: varying, port not kept, filtered"
r_nat '.varies and .filtered and .port_moved' ||
	fail "R's record of A does not say A's NAT is symmetric: $(kh r peers list -j)"
echo "R's record of A behind sym: $(kh r peers show wg0 "$(wg_pub a wg0)" | sed 's/^[^ ]* *//')"
check adf '.ipv4.public == "203.0.113.1:51820" and .ipv4.mapping_varies == "no"
	and .ipv4.port_filtered == "no"' \
	"address-dependent filtering: R's other port gets in"
check none '.ipv4.public == "192.0.2.2:51820" and .ipv4.mapping_varies == "no"
	and .ipv4.port_filtered == "no" and .ipv4.start_ttl == 2' \
	"the host's own address, nothing filtered, start TTL 2"
natlab_kind b cgnat
out=$(kh b netcheck wg0 -j) || fail "netcheck behind b's carrier NAT exited $?: $out"
jq -e '.ipv4.public == "203.0.113.2:51820" and .ipv4.start_ttl == 3' <<<"$out" >/dev/null ||
	fail "netcheck behind b's home router and carrier NAT (100.64.0.1 inside): expected start TTL 3, got: $out"
echo "b behind cgnat: $(jq -c '.ipv4' <<<"$out")"
natlab_kind b none

# Text, and one reflector only: its second port tells the mapping.
out=$(kh a netcheck wg0 --reflector "$NAT_R4:51820") || fail "netcheck --reflector exited $?: $out"
grep -q "^IPv4: public 192.0.2.2:51820; mapping varies by destination: no.*filtered by port: no; start TTL: 2$" <<<"$out" ||
	fail "netcheck with one reflector: expected the mapping not varying, got: $out"
grep -q "^IPv6: no reflector to ask" <<<"$out" || fail "netcheck: expected no IPv6 reflector, got: $out"
natlab_kind a sym
out=$(kh a netcheck wg0 --reflector "$NAT_R4:51820" -j) || fail "netcheck --reflector behind sym exited $?: $out"
jq -e '.ipv4.mapping_varies == "yes" and .ipv4.port_kept == "no"' <<<"$out" >/dev/null ||
	fail "netcheck with one reflector behind sym: expected a varying mapping, got: $out"
echo "one reflector behind sym: $(jq -c '.ipv4' <<<"$out")"
natlab_kind a none

# Nobody answers: exit 1, said.
ip -n "$(ns_name r)" link set eth0 down
ip -n "$(ns_name r2)" link set eth0 down
if out=$(kh a netcheck wg0 --timeout 600 2>&1); then
	fail "netcheck with no reflector reachable exited 0: $out"
fi
grep -q "no reflector answered" <<<"$out" || fail "netcheck: expected 'no reflector answered', got: $out"
# Options of sync only are refused.
if kh a netcheck wg0 --watch >/dev/null 2>&1; then fail "netcheck --watch accepted"; fi
# Without the mesh key: no filtering check, and it says so.
ip -n "$(ns_name r)" link set eth0 up
ip -n "$(ns_name r)" route replace default via 198.51.100.126
kh a key clear wg0 >/dev/null || fail "key clear failed"
out=$(kh a netcheck wg0 --reflector "$NAT_R4:51820") || fail "netcheck without a key exited $?: $out"
grep -q "^filtering: not checked" <<<"$out" || fail "netcheck without a key: expected 'filtering: not checked', got: $out"
grep -q "filtered by port: unknown; start TTL: 2$" <<<"$out" || fail "netcheck without a key: expected filtering unknown, got: $out"
echo "netcheck: home, symmetric, address-dependent and no NAT told apart"
