#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo's guest part (selftests/demo-guest.sh), as make demo runs it, on
# the kernel make demo boots (the newest installed): it must end with A and
# B talking directly after R is gone, and its narration must say so.
# kh-timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$KH_REPO/selftests/kernels.sh"

newest=$(kh_kernels | tail -n 1)
[ -z "$newest" ] || [ "$newest" = "$KVER" ] ||
	skip "make demo boots $newest, not $KVER"

out=$(bash "$KH_REPO/selftests/demo-guest.sh" 2>&1) || {
	echo "$out"
	fail "demo-guest.sh exited $?"
}
echo "$out" | tail -n 12
grep -q "A's WireGuard endpoint for B: 203\.0\.113\.2:" <<<"$out" ||
	fail "the demo did not narrate A's endpoint for B as NAT2's public address"
grep -q "B's WireGuard endpoint for A: 203\.0\.113\.1:" <<<"$out" ||
	fail "the demo did not narrate B's endpoint for A as NAT1's public address"
n=$(sed -n 's/.*packets forwarded between NAT1 and NAT2 on the internet: \([0-9]*\)$/\1/p' <<<"$out")
[ "${n:-0}" -gt 0 ] || fail "the demo says ${n:-no} packets crossed between the NATs directly"
grep -q 'A and B still talk directly.  The end.' <<<"$out" ||
	fail "the demo did not reach its end"
# After R is gone, both pings of the last step got every reply.
[ "$(grep -c ' 0% packet loss' <<<"$out")" -ge 3 ] ||
	fail "expected three pings without loss in the demo"
