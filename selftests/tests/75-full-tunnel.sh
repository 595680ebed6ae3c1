#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A full-tunnel node, as wg-quick makes one from "AllowedIPs = 0.0.0.0/0":
# a fwmark on the device, the default route into wg0 in a table of its
# own, a "not fwmark" rule to it, and the main table for the rest.  Only
# packets with the device's fwmark leave outside the tunnel: the module's
# probes, answers and punches must carry it, as WireGuard's own do, or the
# reflector sees them come through the tunnel and reports A's tunnel
# address.  With default options: A's probe names NAT1's public address,
# the fwmark shows in the status, and A and B sync and go direct.
# kh-timeout: 180
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

MARK=51820
nat_mesh
nat_direct_counter
# A: wg-quick's full tunnel through R.
ns a wg set wg0 fwmark "$MARK" peer "$(wg_pub r wg0)" allowed-ips 0.0.0.0/0
ns a ip route add default dev wg0 table "$MARK"
ns a ip rule add not fwmark "$MARK" table "$MARK"
ns a ip rule add table main suppress_prefixlength 0
# R lets A's traffic out of the tunnel, toward nothing in particular.
ns r sysctl -qw net.ipv4.ip_forward=1
kh a reflect enable wg0 >/dev/null

out=$(kh a status -j) || fail "khctl status -j in A failed"
expect_eq "$(jq -r '.watching[0].fwmark' <<<"$out")" "$MARK" "the fwmark of A's watch"
grep -q "fwmark 0xca6c" <<<"$(kh a status)" ||
	fail "khctl status does not show the fwmark: $(kh a status)"

out=$(kh a probe wg0 "$NAT_R4:51820" -j) || fail "khctl probe from the full-tunnel node exited $?"
ep=$(jq -r .endpoint <<<"$out")
[[ $ep == 203.0.113.1:* ]] ||
	fail "full tunnel: R saw A's probe as $ep, expected NAT1's 203.0.113.1:PORT (the probe went into the tunnel?)"
echo "probe from the full-tunnel node: R sees $ep"

# Sync with defaults, A watching, B once: direct, not through R.
ns a "$KHCTL" peers sync wg0 --watch -j >"$KH_TMP/a.log" 2>&1 &
pid_a=$!
on_exit 'kill $pid_a 2>/dev/null'
wait_for "kh r peers show wg0 $(wg_pub a wg0) >/dev/null 2>&1" 15 ||
	fail "A's first round did not reach R"
[[ $(kh r peers show wg0 "$(wg_pub a wg0)" -j | jq -r .endpoint) == 203.0.113.1:* ]] ||
	fail "R's record of A is not NAT1's public address: $(kh r peers show wg0 "$(wg_pub a wg0)")"
out=$(kh b peers sync wg0 -j) || fail "B's sync exited $?: $out"
wait_for "[[ \$(nat_wg_endpoint a b) == 203.0.113.2:* ]] && ns a ping -c 1 -W 1 198.51.100.131" 20 || {
	nat_show_syncs a -- a b r
	echo "-- b's sync"; echo "$out"
	fail "full tunnel: A and B did not go direct"
}
ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null || fail "direct: B loses pings to A"
[ "$(nat_direct_packets)" -gt 0 ] || fail "no packet crossed between NAT1 and NAT2: not direct"
echo "direct: A has B at $(nat_wg_endpoint a b), B has A at $(nat_wg_endpoint b a)"
