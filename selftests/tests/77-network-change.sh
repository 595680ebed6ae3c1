#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A laptop's uplink moves.  A has two uplinks: eth0 behind NAT1
# (203.0.113.1), its default route, and eth1 behind NAT3 (203.0.113.3),
# a second home router, with a default route of higher metric.  A and B
# (behind NAT2) run "peers sync --watch" with an interval of 300 s, as the
# unit does but longer, and come up direct.  Then eth0 goes down: A's
# packets leave by NAT3 from a new public endpoint, which B's NAT drops
# until B has sent there.  Sync follows the network: A's next round comes
# at once (not in 300 s), R pushes A's new record to B, B sets it and
# punches, and the path is direct again.  Asserts that, within 30 s (the
# target is 3 s; emulation is slower, and the figure is printed), that A
# said the network changed, and that a route the tunnel itself gets (A's
# own WireGuard device) starts no round.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
nat_uplink2

nat_watch a b -- --interval 300

# direct_at EP: A pings B, and B has A at EP.
direct_at() {
	ns a ping -c 1 -W 1 198.51.100.131 >/dev/null &&
		[ "$(nat_wg_endpoint b a)" = "$1" ]
}

wait_for "direct_at 203.0.113.1:51820" 30 || {
	nat_show_syncs a b -- r
	fail "A and B did not come up direct through NAT1"
}
echo "direct: B has A at $(nat_wg_endpoint b a)"

# A default route on A's own WireGuard device (a full tunnel's, in a table of
# its own, as wg-quick makes it) is not a network change.
ip -n "$(ns_name a)" route add default dev wg0 table 51820
kh_sleep 1
! grep -q '"event":"network"' "$KH_TMP/a.log" ||
	fail "a route on A's WireGuard device started a round: $(grep '"event"' "$KH_TMP/a.log")"

t0=${EPOCHREALTIME/./}
ip -n "$(ns_name a)" link set eth0 down
wait_for "direct_at 203.0.113.3:51820" 30 || {
	nat_show_syncs a b -- r
	fail "after A's uplink moved to NAT3: not direct again within 30 s (B has A at $(nat_wg_endpoint b a))"
}
t1=${EPOCHREALTIME/./}
grep -q '"event":"network"' "$KH_TMP/a.log" ||
	fail "A did not say the network changed: $(tail -n 5 "$KH_TMP/a.log")"
[ "$(nat_wg_endpoint a b)" = 203.0.113.2:51820 ] ||
	fail "A's endpoint for B moved: $(nat_wg_endpoint a b)"
echo "uplink moved to NAT3: direct again after $(( (t1 - t0) / 1000 )) ms (interval 300 s)"
