#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Birthday probing.  A behind a symmetric NAT ("sym"), B behind a home
# router ("home"); R is the one reflector: from R's two ports A's sync
# finds its mapping varies by destination and says so with its record, with
# the rest of what its NAT does (it moves the port).  The pair
# must come up direct through the pair birthday probing found, not relayed;
# both sides report the birthday path.  The limits hold on the wire: B's
# probes cross the WAN no more often than its session says it sent (at
# most 2000, at most about 100 a second), A's spray opens at most 256 ports
# and dies (TTL) before B's NAT.  Forged and unauthenticated birthday
# messages are refused and counted.  Then the other order with the router
# that accepts new WAN packets: B symmetric, A "open", B first.
# kh-timeout: 300
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

KHPROBE=$KH_REPO/selftests/tools/khprobe.py
A_PUB=203.0.113.1
B_PUB=203.0.113.2
# A birthday message: the magic, then type 4, at the UDP payload's start.
BDAY_FILTER='udp[8:4] = 0x6b687201 and udp[12] = 4'

natlab_world

# capture NAME IFACE: birthday messages on the WAN router's IFACE.
capture() {
	pcap_start wan "$KH_TMP/$1.pcap" -i "$2" "$BDAY_FILTER"
	eval "dump_$1=$PCAP_PID"
}
stop_capture() {
	local pid

	kh_sleep 0.5
	eval "pid=\$dump_$1"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}
# count NAME FILTER: packets of the capture that match.
count() { tcpdump -r "$KH_TMP/$1.pcap" -nn "$2" 2>/dev/null | wc -l; }

show_state() {
	local n

	echo "-- watch"; cat "$KH_TMP/watch.log"
	echo "-- sync"; cat "$KH_TMP/sync.log"
	for n in a b; do
		echo "-- $n"; ns "$n" wg show wg0 endpoints
		kh "$n" status
	done
}

# session NS: its birthday session as JSON.
session() { kh "$1" status -j | jq -c '.birthday[0] // empty'; }

# path_is NS PEER PATH: as peers list NS's wg0 says it.
path_is() {
	kh "$1" peers list wg0 -j | jq -e --arg k "$(wg_pub "$2" wg0)" \
		--arg p "$3" '.[] | select(.public_key == $k) | .path == $p' \
		>/dev/null
}

# n1 leads to A's carrier router, n2 to B's.
ports0=$(kh a status -j | jq .counters.bday_ports)
capture n1 n1
capture n2 n2
natlab_pair sym home a
stop_capture n1
stop_capture n2
[ "$NATLAB_PATH" = birthday ] || {
	show_state
	fail "sym/home: path $NATLAB_PATH, expected the birthday pair"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
	fail "sym/home: B loses pings to A"
echo "sym/home: direct through the birthday pair in $NATLAB_MS ms"
echo "A: $(session a)"
echo "B: $(session b)"
session a | jq -e '.mode == "spray" and .state == "found" and
	.ports_opened <= 256 and .local_port != null' >/dev/null ||
	fail "A's session is not a found spray: $(session a)"
session b | jq -e '.mode == "probe" and .state == "found" and
	.probes_sent <= 2000' >/dev/null ||
	fail "B's session is not a found probe: $(session b)"
# B probes where A's NAT maps the found port; A's WireGuard keeps B's
# endpoint and its module moves the port.
found=$(session b | jq -r .found)
[ "$(nat_wg_endpoint b a)" = "$found" ] ||
	fail "B's endpoint for A is $(nat_wg_endpoint b a), not the pair $found"
[ "${found%:*}" = "$A_PUB" ] || fail "the pair $found is not at A's NAT"
[ "$(nat_wg_endpoint a b)" = "$B_PUB:51820" ] ||
	fail "A's endpoint for B is $(nat_wg_endpoint a b), not $B_PUB:51820"
# A found out what its NAT does (the mapping varies, the port moves), and B
# learned it with A's record; B's home router keeps the port, and A learned
# that.  (Filtering is netcheck's to tell: 69.)
A_NAT='.varies and .port_moved'
B_NAT='(.varies | not) and (.port_moved | not)'
kh a status -j | jq -e ".watching[0] | $A_NAT" >/dev/null ||
	fail "A's port does not say what its NAT does: $(kh a status -j | jq -c .watching)"
kh b peers list wg0 -j | jq -e --arg k "$(wg_pub a wg0)" \
	".[] | select(.public_key == \$k) | $A_NAT" >/dev/null ||
	fail "B's record of A does not say what A's NAT does: $(kh b peers list wg0 -j)"
kh a peers list wg0 -j | jq -e --arg k "$(wg_pub b wg0)" \
	".[] | select(.public_key == \$k) | $B_NAT" >/dev/null ||
	fail "A's record of B does not say what B's NAT does: $(kh a peers list wg0 -j)"
echo "B's record of A: $(kh b peers show wg0 "$(wg_pub a wg0)" | sed 's/^[^ ]* *//')"
path_is a b birthday && path_is b a birthday ||
	fail "peers list does not say birthday: $(kh a peers list wg0); $(kh b peers list wg0)"
rewritten=$(kh a status -j | jq '.counters.bday_rewritten')
[ "$rewritten" -gt 0 ] || fail "A's module rewrote no packet"

# The wire.  B's probes, from B's public endpoint toward A's address.
probes=$(session b | jq .probes_sent)
wire=$(count n2 "src host $B_PUB and src port 51820 and dst host $A_PUB")
echo "B's probes: $probes sent, $wire on the WAN"
[ "$wire" -eq "$probes" ] || fail "B's session says $probes probes, the WAN saw $wire"
times=$(tcpdump -r "$KH_TMP/n2.pcap" -nn -tt "src host $B_PUB and src port 51820" 2>/dev/null |
	awk 'NR == 1 { t0 = $1 } { t = $1 } END { printf "%.3f", t - t0 }')
if [ "$wire" -gt 20 ]; then
	awk -v n="$wire" -v s="$times" 'BEGIN { exit !((n - 1) / s <= 110) }' ||
		fail "B sent $wire probes in $times s: over 100/s"
	echo "B's probe rate: $(awk -v n="$wire" -v s="$times" 'BEGIN { printf "%.0f", (n - 1) / s }')/s"
fi
# A's spray: from A's NAT, one message per port opened, never past the
# WAN router (the start TTL), so never at B's NAT.
ports=$(session a | jq .ports_opened)
sprayed=$(count n1 "src host $A_PUB and dst host $B_PUB and dst port 51820")
# Every session of A's counts its ports in bday_ports, a session that
# sync replaced too.
all=$(( $(kh a status -j | jq .counters.bday_ports) - ports0 ))
echo "A's spray: $ports ports opened ($all by every session), $sprayed messages reached the WAN"
if ! { [ "$sprayed" -le "$all" ] && [ "$sprayed" -ge 1 ]; }; then
	tcpdump -r "$KH_TMP/n1.pcap" -nn -tt "src host $A_PUB and dst host $B_PUB" 2>/dev/null | head -20
	show_state
	fail "A's spray: $sprayed messages on the WAN for $all ports"
fi
leaked=$(count n2 "src host $A_PUB")
[ "$leaked" -eq 0 ] || fail "$leaked spray messages went past the WAN router to B's NAT"

# Forged and unauthenticated birthday messages to B's port, from its home
# router: refused and counted, and the pair stands.
before=$(kh b status -j | jq '.counters.bday_refused')
ns hrb python3 "$KHPROBE" birthday 192.0.2.65 40000 192.0.2.66 51820 \
	"$(wg_pub a wg0)"
ns hrb python3 "$KHPROBE" birthday 192.0.2.65 40000 192.0.2.66 51820 \
	"$(wg_pub a wg0)" "$KH_TMP/mesh.key" --badmac
# Under the mesh key, but not from A's address: no session of B's.
ns hrb python3 "$KHPROBE" birthday 192.0.2.65 40000 192.0.2.66 51820 \
	"$(wg_pub a wg0)" "$KH_TMP/mesh.key"
wait_for "[ \$(kh b status -j | jq '.counters.bday_refused') -ge $((before + 3)) ]" 5 ||
	fail "forged birthday messages: bday_refused went from $before to $(kh b status -j | jq '.counters.bday_refused'), not by 3"
ns a ping -c 2 -i 0.2 -W 1 198.51.100.131 >/dev/null ||
	fail "after the forged messages, A loses pings to B"
echo "forged and unauthenticated birthday messages refused: $(kh b status -j | jq '.counters.bday_refused')"
mbit=$(natlab_iperf 512K) || fail "iperf3 over the birthday pair failed"
echo "iperf3 over the birthday pair: $mbit Mbit/s"
natlab_pair_end

# The other side symmetric, against a router that accepts new WAN packets,
# which a spray past the WAN would fill with colliding entries.
natlab_pair open sym b
[ "$NATLAB_PATH" = birthday ] || {
	show_state
	fail "open/sym (B first): path $NATLAB_PATH, expected the birthday pair"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
	fail "open/sym: B loses pings to A"
session b | jq -e '.mode == "spray" and .state == "found"' >/dev/null ||
	fail "B's session is not a found spray: $(session b)"
echo "open/sym (B first): direct through the birthday pair in $NATLAB_MS ms"
natlab_pair_end
echo "birthday probing: direct both ways, limits kept, forgeries refused"
