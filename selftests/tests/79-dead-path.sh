#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A direct path that dies mid-session.  A and B behind home routers, one
# reflector R, both run "khctl peers sync wg0 --watch --interval 10" and
# come up direct; pings flow both ways.  Then NAT2 starts dropping what
# goes between the two (not R's relayed packets): each side's WireGuard
# keeps sending and hears nothing, sync sees it (transmit grows, receive
# and the handshake do not, for 20 s), probes the path again, gets no
# answer and asks R to relay: relayed within 90 s (the window, the probes,
# and the relay, which waits until both sides asked), pings flow.  NAT2
# stops dropping at once: the peers stay relayed for the back-off (60 s)
# and go direct again at the first round after it; one switch each way,
# no flapping.
# kh-timeout: 300
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
declare -A pid=()
# shellcheck disable=SC2016 # expanded at exit
on_exit 'kill ${pid[*]} 2>/dev/null'
nat_watch a b -- --interval 10

# both_at EP_OF_B EP_OF_A: A has B at the first, B has A at the second.
both_at() {
	[ "$(nat_wg_endpoint a b)" = "$1" ] && [ "$(nat_wg_endpoint b a)" = "$2" ] &&
		ns a ping -c 1 -W 1 198.51.100.131 >/dev/null
}
wait_for "both_at 203.0.113.2:51820 203.0.113.1:51820" 30 || {
	nat_show_syncs a b -- r
	fail "A and B did not come up direct"
}
ns a ping -i 0.5 198.51.100.131 >/dev/null 2>&1 &
pid[pa]=$!
ns b ping -i 0.5 198.51.100.130 >/dev/null 2>&1 &
pid[pb]=$!

ns nat2 nft -f - <<-NFT
table inet block {
	chain blk {
		type filter hook forward priority -10;
		ip saddr 203.0.113.1 drop
		ip daddr 203.0.113.1 drop
	}
}
NFT
t0=$EPOCHSECONDS
wait_for "both_at $NAT_R4:51820 $NAT_R4:51820" 90 || {
	nat_show_syncs a b -- r
	fail "a direct path blocked mid-session: not relayed within 90 s"
}
t1=$EPOCHSECONDS
echo "blocked at NAT2: relayed through R after $((t1 - t0)) s"
grep -q "heard nothing: checking its path again" "$KH_TMP/a.log" ||
	fail "A did not say the path stalled: $(tail -n 5 "$KH_TMP/a.log")"
ns nat2 nft delete table inet block

wait_for "both_at 203.0.113.2:51820 203.0.113.1:51820" 120 || {
	nat_show_syncs a b -- r
	fail "unblocked: not direct again within 120 s"
}
t2=$EPOCHSECONDS
echo "unblocked: direct again $((t2 - t1)) s after the relay"
[ $((t2 - t1)) -ge 50 ] ||
	fail "direct again after $((t2 - t1)) s: the back-off (60 s) was not kept"
# Each side moves to the relay at most once (the side that goes second may
# be moved by WireGuard itself, when the first side's relayed packets come),
# and at least one side did it.
na=$(grep -c '"path":"relayed"' "$KH_TMP/a.log" || true)
nb=$(grep -c '"path":"relayed"' "$KH_TMP/b.log" || true)
[ "$na" -le 1 ] && [ "$nb" -le 1 ] && [ $((na + nb)) -ge 1 ] ||
	fail "switches to the relay: A $na, B $nb: $(grep -h '"path"' "$KH_TMP/a.log" "$KH_TMP/b.log")"
