#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A probe flood, valid and garbage, at a WireGuard port: WireGuard traffic
# over the same port keeps flowing, answers stay within the per-source and
# the per-namespace rate limits, and memory stays bounded.  A member whose
# address the reflector has proved (its cookie) still syncs while a flood
# from many sources drains the namespace's budget.
. "$(dirname "$0")/../lib.sh"

KHPROBE=$KH_REPO/selftests/tools/khprobe.py
wg_pair 1 2
kh 1 reflect enable wg0 >/dev/null
wait_for "n2 ping -c 1 -W 1 198.51.100.1" 10 || fail "no tunnel"
counter() { kh_status 1 ".counters.$1"; }
slab() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

slab0=$(slab)
n2 ping -c 60 -i 0.1 -W 1 198.51.100.1 >"$KH_TMP/ping" 2>&1 &
ping=$!

# One source at the default 20/s, burst 5.
a0=$(counter tx_answers)
sent=$(n2 "$KHPROBE" flood 192.0.2.1 51820 3)
a1=$(counter tx_answers)
answers=$((a1 - a0))
echo "one source: $sent datagrams in 3 s, $answers answered, $(counter drop_ratelimit) over the limit"
[ "$answers" -ge 20 ] || fail "only $answers answers: the limit let too few through"
[ "$answers" -le $((20 * 4 + 5)) ] || fail "$answers answers in 3 s from one source: over 20/s"

# Twenty sources, each allowed plenty, the namespace 50/s in all.  ns2, a
# member under the mesh key, synced once before (so R has given it a
# cookie) and syncs again amid the flood: it gets through.
for i in $(seq 10 29); do ip -n "$(ns_name 2)" addr add "192.0.2.$i/24" dev veth0; done
"$KHCTL" key generate >"$KH_TMP/mesh.key"
kh 1 key set wg0 "$KH_TMP/mesh.key" >/dev/null
kh 2 key set wg0 "$KH_TMP/mesh.key" >/dev/null
kh 2 peers sync wg0 >/dev/null 2>&1 || fail "ns2's sync before the flood failed"
kh 1 config rate 1000 burst 1000 total-rate 50 >/dev/null
a0=$(counter tx_answers)
n2 "$KHPROBE" flood 192.0.2.1 51820 4 $(seq -f '192.0.2.%g' 10 29) >"$KH_TMP/flood" &
flood=$!
kh_sleep 1
kh 2 peers sync wg0 -j >"$KH_TMP/sync.json" 2>&1 ||
	fail "a member's sync amid the flood failed: $(cat "$KH_TMP/sync.json")"
wait "$flood"
sent=$(cat "$KH_TMP/flood")
a1=$(counter tx_answers)
answers=$((a1 - a0))
echo "twenty sources: $sent datagrams in 4 s, $answers answered; a member synced amid them"
[ "$answers" -ge 50 ] || fail "only $answers answers from twenty sources"
[ "$answers" -le $((50 * 5 + 5 + 10)) ] || fail "$answers answers in 4 s: over the namespace's 50/s"

wait "$ping" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$KH_TMP/ping")
[ "${received:-0}" -ge 54 ] ||
	fail "WireGuard ping during the flood: $received of 60 received"
slab1=$(slab)
echo "ping over the tunnel: $received of 60; slab ${slab0} kB -> ${slab1} kB"
[ $((slab1 - slab0)) -lt 8192 ] || fail "slab grew by $((slab1 - slab0)) kB during the flood"
