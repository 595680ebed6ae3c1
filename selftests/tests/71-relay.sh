#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The in-band relay.  A and B behind symmetric NATs (natlab.sh "sym"): no
# direct path.  Both run "khctl peers sync --watch"; R and R2 are
# reflectors under the mesh key.  The peers must get relayed through the
# lower of the two (R), ping each other, and R's wire must carry WireGuard
# data messages only (no inner ICMP).  Forged and unauthenticated relay
# requests are refused and counted; the rate limit drops and counts.  R stops: both fail over to R2.  The
# NATs become ones that allow a direct path: both go direct.
# kh-timeout: 400
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

KHPROBE=$KH_REPO/selftests/tools/khprobe.py
INTERVAL=4
R2_4=198.51.100.2

natlab_world
natlab_r2 a b
kh r2 key set wg0 "$KH_TMP/mesh.key" >/dev/null
natlab_kind a sym
natlab_kind b sym

for n in a b; do
	ns "$n" "$KHCTL" peers sync wg0 --watch --interval "$INTERVAL" -j \
		>"$KH_TMP/$n.log" 2>&1 &
	eval "pid_$n=$!"
done
on_exit 'kill $pid_a $pid_b 2>/dev/null'

show_state() { nat_show_syncs a b -- r r2; }

# endpoints_are EP: A's endpoint for B and B's for A are both EP.
endpoints_are() {
	[ "$(nat_wg_endpoint a b)" = "$1" ] && [ "$(nat_wg_endpoint b a)" = "$1" ]
}

wait_for "endpoints_are $NAT_R4:51820 && ns a ping -c 1 -W 1 198.51.100.131" 30 || {
	show_state
	fail "A and B behind symmetric NATs: not relayed through R ($NAT_R4:51820)"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
	fail "relayed: B loses pings to A"
echo "relayed through R: $(nat_wg_endpoint a b)"
grep -q '"path":"relayed"' "$KH_TMP/a.log" ||
	fail "A's sync did not report the relayed path: $(cat "$KH_TMP/a.log")"
# path_is NS PEER PATH [RELAY_NS]: as peers list NS's wg0 says it.
path_is() {
	kh "$1" peers list wg0 -j | jq -e --arg k "$(wg_pub "$2" wg0)" \
		--arg p "$3" --arg r "${4:+$(wg_pub "${4:-r}" wg0)}" \
		'.[] | select(.public_key == $k) |
		 .path == $p and (.relay // "") == $r' >/dev/null
}
path_is a b relayed r || fail "peers list: A's path to B is not 'relayed via R': $(kh a peers list wg0)"
kh a peers list wg0 | grep "path relayed via $(wg_pub r wg0)" >/dev/null ||
	fail "peers list: no 'path relayed via R' in: $(kh a peers list wg0)"

# On R's wire: WireGuard data messages in and out, never the ping itself
# (its pattern, "khkh...", would show in clear in a relayed ICMP packet).
pcap_start r "$KH_TMP/relay.pcap" -i eth0 udp port 51820
dump=$PCAP_PID
ns a ping -c 5 -i 0.2 -W 1 -p 6b686b686b686b68 198.51.100.131 >/dev/null ||
	fail "relayed: A loses pings with a pattern"
kh_sleep 0.5
kill "$dump"
wait "$dump" 2>/dev/null || true
count() { tcpdump -r "$KH_TMP/relay.pcap" -nn "$1" 2>/dev/null | wc -l; }
data_in=$(count "dst host $NAT_R4 and udp[8] = 4")
data_out=$(count "src host $NAT_R4 and udp[8] = 4")
echo "R's wire: $data_in data messages in, $data_out out"
[ "$data_in" -ge 10 ] && [ "$data_out" -ge 10 ] ||
	fail "expected >= 10 WireGuard data messages each way on R, got $data_in in, $data_out out"
if tcpdump -r "$KH_TMP/relay.pcap" -nn -x 2>/dev/null | tr -d ' \n' | grep -q 6b686b686b686b68; then
	fail "the ping's pattern is readable on R's wire: not end-to-end encrypted"
fi
relayed=$(kh_status r .counters.relay_packets)
[ "$relayed" -ge 20 ] || fail "R counts $relayed relayed packets, expected >= 20"
[ "$(kh_status r .counters.relay_bytes)" -gt 0 ] || fail "R counts no relayed bytes"

# Forged and unauthenticated relay requests: refused, counted, no grant.
# From the WAN router, with A's key claimed and B named.
refused=$(kh_status r .counters.relay_refused)
pa=$(wg_pub a wg0) pb=$(wg_pub b wg0)
"$KHCTL" key generate >"$KH_TMP/other.key"
ns wan python3 "$KHPROBE" relay 198.51.100.126 40000 "$NAT_R4" 51820 "$pa" "$pb"
ns wan python3 "$KHPROBE" relay 198.51.100.126 40001 "$NAT_R4" 51820 "$pa" "$pb" \
	"$KH_TMP/mesh.key" --badmac
ns wan python3 "$KHPROBE" relay 198.51.100.126 40002 "$NAT_R4" 51820 "$pa" "$pb" \
	"$KH_TMP/other.key"
wait_for "[ \$(kh_status r .counters.relay_refused) -ge $((refused + 3)) ]" 5 ||
	fail "3 forged relay requests: relay_refused $(kh_status r .counters.relay_refused), was $refused"
echo "forged relay requests refused: $(( $(kh_status r .counters.relay_refused) - refused ))"
# Under the mesh key, fresh, but from an address A never proved (a member
# spoofing A's key): R only gives that address a cookie to ask again
# with; no grant moves (the pings below still go through R to A).
retries=$(kh_status r .counters.tx_retries)
ns wan python3 "$KHPROBE" relay 198.51.100.126 40003 "$NAT_R4" 51820 "$pa" "$pb" \
	"$KH_TMP/mesh.key"
wait_for "[ \$(kh_status r .counters.tx_retries) -gt $retries ]" 5 ||
	fail "a relay request from an unproved address got no retry: $(kh_status r .counters)"
# Had one been taken, A's grant would point at the WAN router now.
before=$(kh_status r .counters.relay_packets)
ns a ping -c 2 -i 0.2 -W 1 198.51.100.131 >/dev/null ||
	fail "after forged relay requests, the relay lost A's pings"
[ "$(kh_status r .counters.relay_packets)" -gt "$before" ] ||
	fail "after forged relay requests, R relays nothing"

# The rate limit: 1500 bytes/s per peer lets about one large ping a second
# through; the rest is dropped and counted.
limited=$(kh_status r .counters.relay_limited)
kh r config relay-rate 1500 >/dev/null
got=$(ns a ping -c 10 -i 0.1 -W 1 -s 1200 198.51.100.131 2>/dev/null |
	awk '/received/ { print $4 }')
kh r config relay-rate 4194304 >/dev/null
dropped=$(( $(kh_status r .counters.relay_limited) - limited ))
echo "relay-rate 1500: $got of 10 large pings answered, $dropped packets dropped"
[ "$dropped" -gt 0 ] && [ "${got:-0}" -lt 10 ] ||
	fail "relay-rate 1500: expected drops, got $got of 10 answered, $dropped dropped"
ns a ping -c 2 -i 0.2 -W 1 198.51.100.131 >/dev/null ||
	fail "relay-rate back to the default: pings lost"

# R stops: the next round finds it silent; both move to R2.
kh r reflect disable wg0 >/dev/null
wait_for "endpoints_are $R2_4:51820 && ns a ping -c 1 -W 1 198.51.100.131" \
	$((INTERVAL * 6)) || {
	show_state
	fail "R stopped: A and B did not fail over to R2"
}
echo "failed over to R2: $(nat_wg_endpoint a b)"
[ "$(kh_status r2 .counters.relay_packets)" -gt 0 ] || fail "R2 relays nothing"

# The NATs go away: the next rounds find the direct path.
natlab_kind a none
natlab_kind b none
direct() {
	[ "$(nat_wg_endpoint a b)" = 192.0.2.66:51820 ] &&
		[ "$(nat_wg_endpoint b a)" = 192.0.2.2:51820 ]
}
wait_for "direct && ns a ping -c 1 -W 1 198.51.100.131" $((INTERVAL * 8)) || {
	show_state
	fail "no NAT any more: A and B did not go direct"
}
before=$(kh_status r2 .counters.relay_packets)
ns a ping -c 3 -i 0.2 -W 1 198.51.100.131 >/dev/null || fail "direct again: pings lost"
[ "$(kh_status r2 .counters.relay_packets)" -eq "$before" ] ||
	fail "direct again, yet R2 still relays"
grep -q '"path":"direct"' "$KH_TMP/a.log" ||
	fail "A's sync did not report going direct: $(tail -n 5 "$KH_TMP/a.log")"
path_is a b direct || fail "peers list: A's path to B is not 'direct': $(kh a peers list wg0)"
echo "direct again: A has B at $(nat_wg_endpoint a b)"
