#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The ground the other tests stand on: two namespaces reach each other through
# a WireGuard tunnel (wg_pair), without kh_reflect doing anything.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

wg_pair 1 2
n1 ping -c 1 -W 1 192.0.2.2 >/dev/null || fail "no ping over the veth 192.0.2.1 -> 192.0.2.2"
wait_for "n1 ping -c 1 -W 1 198.51.100.2" 10 ||
	fail "no ping through the tunnel 198.51.100.1 -> 198.51.100.2 within 10 s"
n2 ping -c 1 -W 1 198.51.100.1 >/dev/null || fail "no ping back through the tunnel"
hs=$(n1 wg show wg0 latest-handshakes | cut -f2)
[ "$hs" -gt 0 ] || fail "ns1 wg0: expected a handshake with ns2, got latest-handshake '$hs'"
