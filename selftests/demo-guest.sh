#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the VM (selftests/demo.sh boots it): two WireGuard peers
# behind two home-router NATs find each other through a reflector, talk
# directly, and keep talking when the reflector is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nat.sh"

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" 2>&1 | sed 's/^/    /'; }
a() { ns a "$@"; }
b() { ns b "$@"; }
r() { ns r "$@"; }

modprobe wireguard
grep -q '^kh_reflect ' /proc/modules || insmod "$KMOD"

say "The network (namespaces in this VM; documentation addresses)"
cat <<'PIC'
   A 192.0.2.2  -- NAT1 203.0.113.1 --+
                                      +-- internet -- R 198.51.100.1:51820 (reflector)
   B 192.0.2.66 -- NAT2 203.0.113.2 --+
   Both NATs are home routers: masquerade, inbound only for established flows.
   WireGuard: A and B each have R as a peer with an endpoint, and each other
   as peers WITHOUT an endpoint.  Tunnel: R .129, A .130, B .131 (198.51.100.128/25).
PIC
nat_mesh
nat_direct_counter
echo "   public keys: R $(wg_pub r wg0)"
echo "                A $(wg_pub a wg0)"
echo "                B $(wg_pub b wg0)"
show a wg show wg0

say "One mesh key on R, A and B (khctl key generate / khctl key set wg0 FILE)"
show kh r status

say "A starts 'khctl peers sync wg0 --watch': probes R from its WireGuard port"
a "$KHCTL" peers sync wg0 --watch --interval 25 >"$KH_TMP/a-watch" 2>&1 &
watch=$!
on_exit "kill $watch"
wait_for "grep -q reflector '$KH_TMP/a-watch'" 10 || true
sed 's/^/    A: /' "$KH_TMP/a-watch"
echo "    R has seen A; B is not online yet, so R knows nothing of B."

say "B comes online: one 'khctl peers sync wg0'"
show kh b peers sync wg0
wait_for "[[ \$(nat_wg_endpoint a b) == 203.0.113.2:* ]]" 10 || true
echo "    meanwhile R pushed B's endpoint to A, whose --watch applied it at once:"
sed 's/^/    A: /' "$KH_TMP/a-watch"

say "A pings B's tunnel address"
wait_for "a ping -c 1 -W 1 198.51.100.131" 15 || true
show a ping -c 3 -i 0.3 198.51.100.131
echo "    A's WireGuard endpoint for B: $(nat_wg_endpoint a b)   (NAT2's public address)"
echo "    B's WireGuard endpoint for A: $(nat_wg_endpoint b a)   (NAT1's public address)"
echo "    packets forwarded between NAT1 and NAT2 on the internet: $(nat_direct_packets)"
echo "    bytes R's WireGuard moved for A and B: $(r wg show wg0 transfer | awk '{ s += $2 + $3 } END { print s }') (the probes are not WireGuard traffic)"

say "R goes away: its WireGuard device is deleted and kh_reflect unloaded"
kill "$watch" 2>/dev/null || true
wait "$watch" 2>/dev/null || true
ip -n "$(ns_name r)" link del wg0
rmmod kh_reflect
show a ping -c 3 -i 0.3 198.51.100.131
show b ping -c 3 -i 0.3 198.51.100.130
say "A and B still talk directly.  The end."
