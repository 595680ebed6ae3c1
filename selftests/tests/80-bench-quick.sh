#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, briefly (--quick), so that the benchmarks cannot rot: every
# benchmark runs one short round and yields a figure for ours and, where
# it has one, for its baseline.  Speed is never a condition here: the
# figures of a quick run under emulation mean nothing.
# On one kernel only, 6.1, the one make bench runs on: the suite's time is
# better spent elsewhere.
# kh-timeout: 600
. "$(dirname "$0")/../lib.sh"

case $(uname -r) in
6.1.*) ;;
*) skip "make bench runs on 6.1: its quick run is in the 6.1 VM" ;;
esac

loadgen=$KH_REPO/build/loadgen
[ -x "$loadgen" ] || fail "no $loadgen: make build/loadgen (make check does)"

out=$(bash "$KH_REPO/selftests/bench-guest.sh" --quick "$loadgen" 2>"$KH_TMP/bench.err") || {
	cat "$KH_TMP/bench.err"
	fail "bench-guest.sh --quick failed"
}
echo "$out"

# A figure may come out below zero: a slab delta of a quick run is noise.
num='-?[0-9][0-9.e+-]*'
# row TITLE-PREFIX BASELINE(yes|no)
row() {
	local line

	line=$(grep -F "| $1" <<<"$out") || fail "no row '$1' in the table"
	grep -qE "^\\| [^|]+ \\| $num \\[$num-$num\\] \\|" <<<"$line" ||
		fail "row '$1' has no figure: $line"
	if [ "$2" = yes ]; then
		grep -qE "^\\| [^|]+ \\| [^|]+ \\| $num \\[$num-$num\\] \\| $num \\|" <<<"$line" ||
			fail "row '$1' has no baseline or ratio: $line"
	fi
}
row "TCP over WireGuard" yes
row "Reflection answers/s" yes
row "CPU per answer" yes
row "Time to direct path" yes
row "Dump " no
row "Kernel memory per record" no
row "Relayed TCP over WireGuard" yes
# A count, not a median: runs that came up with the safe start (--quick
# does not run them without).
grep -qE "^\| Collision pairs direct[^|]*\| [0-9]+ \| - \|" <<<"$out" ||
	fail "no collision row with two counts: $(grep -F "| Collision" <<<"$out")"
