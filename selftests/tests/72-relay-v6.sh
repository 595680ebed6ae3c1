#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The relay over IPv6.  A and B behind the home routers of nat.sh reach R
# over IPv6 only, and the WAN router drops whatever the two NATs send each
# other: no direct path.  Both run "khctl peers sync --watch"; they must
# get relayed through R's IPv6 endpoint, ping each other, and R's counters
# must show the relayed packets.  R deletes B's record: the relay ends at
# once.  Then the block goes and both go direct.
# kh-timeout: 200
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

INTERVAL=4
R6="[$NAT_R6]:51820"

nat_mesh
for n in a b; do
	ns "$n" wg set wg0 peer "$(wg_pub r wg0)" endpoint "$R6"
done
ns wan nft -f - <<-NFT
table inet block {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip6 saddr 2001:db8:ffff::1 ip6 daddr 2001:db8:ffff::2 drop
		ip6 saddr 2001:db8:ffff::2 ip6 daddr 2001:db8:ffff::1 drop
	}
}
NFT

for n in a b; do
	ns "$n" "$KHCTL" peers sync wg0 --watch --interval "$INTERVAL" -j \
		>"$KH_TMP/$n.log" 2>&1 &
	eval "pid_$n=$!"
done
on_exit 'kill $pid_a $pid_b 2>/dev/null'

show_state() { nat_show_syncs a b -- r; }

both_at() {
	[ "$(nat_wg_endpoint a b)" = "$1" ] && [ "$(nat_wg_endpoint b a)" = "$1" ]
}

wait_for "both_at '$R6' && ns a ping -c 1 -W 1 198.51.100.131" 30 || {
	show_state
	fail "no IPv6 path between A and B: not relayed through $R6"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
	fail "relayed over IPv6: B loses pings to A"
relayed=$(kh_status r .counters.relay_packets)
[ "$relayed" -ge 4 ] || fail "R counts $relayed relayed packets, expected >= 4"
echo "relayed over IPv6 through $R6: $relayed packets"

# R forgets B (khctl peers delete): the relay between A and B ends with the
# record at once, not when its grants run out.  The syncs stop first, so
# that nothing tells R of B again.
# $pid_a is the subshell of "ns a ...": killing it leaves khctl running.
for n in a b; do
	ns_kill_all "$(ns_name "$n")"
done
wait "$pid_a" "$pid_b" 2>/dev/null || true
wait_for '[ -z "$(ip netns pids "$(ns_name a)")$(ip netns pids "$(ns_name b)")" ]' ||
	fail "the syncs did not stop"
kh r peers delete "$(wg_pub b wg0)" >/dev/null
before=$(kh_status r .counters.relay_packets)
if ns a ping -c 3 -i 0.3 -W 1 198.51.100.131 >/dev/null; then
	fail "R deleted B's record, yet it still relays between A and B"
fi
echo "B's record deleted on R: relay ended ($(( $(kh_status r .counters.relay_packets) - before )) packets relayed since)"

# The block goes and the syncs start again: they find the direct path.
ns wan nft delete table inet block
for n in a b; do
	ns "$n" "$KHCTL" peers sync wg0 --watch --interval "$INTERVAL" -j \
		>>"$KH_TMP/$n.log" 2>&1 &
	eval "pid_$n=$!"
done
wait_for "[[ \$(nat_wg_endpoint a b) == '[2001:db8:ffff::2]:'* ]] &&
	[[ \$(nat_wg_endpoint b a) == '[2001:db8:ffff::1]:'* ]] &&
	ns a ping -c 1 -W 1 198.51.100.131" $((INTERVAL * 8)) || {
	show_state
	fail "the block is gone, yet A and B did not go direct over IPv6"
}
echo "direct over IPv6: A has B at $(nat_wg_endpoint a b)"
