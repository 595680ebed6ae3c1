#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Push: A already syncs with --watch (and a long interval) when B comes
# online.  R tells A about B the moment B's probe arrives, so A's WireGuard
# gets B's endpoint without another poll; then B's NAT mapping changes and
# A converges again.
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
b_pub=$(wg_pub b wg0)

ns a "$KHCTL" peers sync wg0 --watch --interval 300 -j >"$KH_TMP/watch" 2>&1 &
watch=$!
on_exit "kill $watch"
wait_for "grep -q reflectors '$KH_TMP/watch'" 10 ||
	fail "A's sync --watch printed no first round: $(cat "$KH_TMP/watch")"
[ -z "$(nat_wg_endpoint a b | grep -v none)" ] ||
	fail "A has an endpoint for B before B came online"

t0=$EPOCHREALTIME
kh b peers sync wg0 >/dev/null || fail "B's sync failed"
wait_for "[[ \$(nat_wg_endpoint a b) == 203.0.113.2:* ]]" 10 ||
	fail "A's WireGuard never got B's endpoint from the push: $(cat "$KH_TMP/watch")"
t1=$EPOCHREALTIME
ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
echo "A got B's endpoint $ms ms after B's sync started (interval 300 s)"
grep -q '"event":"change"' "$KH_TMP/watch" ||
	fail "A's sync --watch did not report the change: $(cat "$KH_TMP/watch")"
wait_for "ns a ping -c 1 -W 1 198.51.100.131" 15 || fail "A cannot ping B after the push"

# B moves: a new listen port and NAT2 forgets its mappings.
ns b wg set wg0 listen-port 51830
ns nat2 conntrack -F >/dev/null 2>&1 || true
kh b peers sync wg0 >/dev/null || fail "B's sync after the move failed"
wait_for "[ \"\$(nat_wg_endpoint a b)\" = 203.0.113.2:51830 ]" 10 ||
	fail "A did not converge on B's new endpoint 203.0.113.2:51830: now $(nat_wg_endpoint a b)"
wait_for "ns a ping -c 1 -W 1 198.51.100.131" 15 || fail "A cannot ping B after B moved"
kill "$watch" 2>/dev/null || true
wait "$watch" 2>/dev/null || true
echo "after B moved, A sees B at $(nat_wg_endpoint a b)"
