#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rmmod while probes and answers are in flight is clean, and the module
# comes back fresh.  (guest.sh checks the kernel log at the end.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_reflect_pair
kh a probe wg0 "$NAT_R4:51820" >/dev/null || fail "first probe failed"

( while :; do kh a probe wg0 "$NAT_R4:51820" --timeout 200 >/dev/null 2>&1; done ) &
loop=$!
on_exit "kill $loop"
ns a ping -f -c 200 -W 1 198.51.100.129 >/dev/null 2>&1 &
kh_sleep 1
rmmod kh_reflect || fail "rmmod kh_reflect failed with probes in flight"
! grep -q '^kh_reflect ' /proc/modules || fail "kh_reflect still loaded after rmmod"
kill "$loop" 2>/dev/null || true
wait 2>/dev/null || true

insmod "$KMOD" || fail "insmod after rmmod failed"
expect_eq "$(kh_status a '.watching | length')" 0 "watches after reload"
expect_eq "$(kh_status r .counters.tx_answers)" 0 "R's answers after reload"
wait_for "ns a ping -c 1 -W 1 198.51.100.129" 10 ||
	fail "tunnel broken after rmmod/insmod"
