#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A stale LAN candidate.  A (192.168.1.2) behind home router NAT1, B
# (192.168.1.3) behind home router NAT2, each router with a LAN of its own
# numbered 192.168.1.0/24, R on the WAN.  B's candidate 192.168.1.3 means
# nothing to A: on A's LAN that address is C's, a stranger that runs
# WireGuard and kh_reflect on the same port, and so answers A's probe to
# it.  Both run "khctl peers sync wg0 --watch" with no option.  A may take
# C's answer for B's LAN path; WireGuard's handshake fails there, and the
# pair must end up direct over the public endpoints, pings crossing, and
# stay so: the candidate is not tried again round after round (no loop).
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

# home NATNS N HOST:ADDR...: a home router with public 203.0.113.N and a
# bridged LAN 192.168.1.0/24, the hosts on it
home() {
	local n=$1 i=$2 h a

	shift 2
	nat_ns "$n"
	veth wan "n$i" "$n" wan
	ip -n "$(ns_name wan)" route add "203.0.113.$i/32" dev "n$i"
	ip -n "$(ns_name "$n")" addr add "203.0.113.$i/32" dev wan
	ip -n "$(ns_name "$n")" route add 198.51.100.126/32 dev wan
	ip -n "$(ns_name "$n")" route add default via 198.51.100.126 dev wan
	ip -n "$(ns_name "$n")" link add lan type bridge
	ip -n "$(ns_name "$n")" link set lan up
	ip -n "$(ns_name "$n")" addr add 192.168.1.1/24 dev lan
	for h in "$@"; do
		a=${h#*:} h=${h%%:*}
		nat_ns "$h"
		veth "$n" "p$h" "$h" eth0
		ip -n "$(ns_name "$n")" link set "p$h" master lan
		ip -n "$(ns_name "$h")" addr add "$a/24" dev eth0
		ip -n "$(ns_name "$h")" route add default via 192.168.1.1
	done
	ns "$n" sysctl -qw net.ipv4.ip_forward=1
	nat_home_rules "$n"
}

nat_world
home nat1 1 a:192.168.1.2 c:192.168.1.3
home nat2 2 b:192.168.1.3
nat_mesh_wg
# C: WireGuard on the same port, its port watched, no peer, no mesh key
wg_dev c wg0 51820 10.99.0.1/24
kh c reflect enable wg0 >/dev/null
kh a reflect enable wg0 >/dev/null
out=$(kh a probe wg0 192.168.1.3:51820) ||
	fail "C does not answer A's probe, so the test tests nothing: $out"

nat_watch a b

public() {
	[[ $(nat_wg_endpoint a b) == 203.0.113.2:* ]] &&
		[[ $(nat_wg_endpoint b a) == 203.0.113.1:* ]] &&
		ns a ping -c 1 -W 1 198.51.100.131 >/dev/null
}
t0=$EPOCHSECONDS
wait_for public 90 || {
	nat_show_syncs a b -- r c
	kh r peers list
	fail "A and B not direct over their public endpoints (A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a))"
}
echo "direct over the public endpoints after $((EPOCHSECONDS - t0)) s: A has B at $(nat_wg_endpoint a b)"
kh r peers list -j | jq -e --arg k "$(wg_pub b wg0)" \
	'.[] | select(.public_key == $k) | .candidates == ["192.168.1.3:51820"]' >/dev/null ||
	fail "R's record of B does not carry the candidate 192.168.1.3:51820: $(kh r peers list -j)"

# Two more rounds of A's (every 25 s): B stays where it is, and pings
# keep crossing.
end=$((EPOCHSECONDS + 55))
while [ "$EPOCHSECONDS" -lt "$end" ]; do
	e=$(nat_wg_endpoint a b)
	[[ $e == 203.0.113.2:* ]] || {
		nat_show_syncs a b -- r c
		fail "A moved B to $e after the pair was direct: a loop through the stale candidate"
	}
	kh_sleep 1
done
ns a ping -c 3 -i 0.2 -W 1 198.51.100.131 >/dev/null ||
	fail "A loses pings to B after two more rounds"
n=$(grep -c '"path":"lan"' "$KH_TMP/a.log" || true)
[ "$n" -le 1 ] || fail "A set B's LAN path $n times: $(cat "$KH_TMP/a.log")"
echo "after two more rounds A still has B at $(nat_wg_endpoint a b); A took the stale candidate $n time(s)"
