#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rmmod while a namespace watches a port, then insmod again: the module goes
# cleanly, khctl says it is not loaded, and it comes back with a fresh state.
. "$(dirname "$0")/../lib.sh"

wg_dev 1 wg0 51820
kh 1 reflect enable wg0 || fail "khctl reflect enable wg0 exited $?"
expect_eq "$(kh_status 1 '.watching | length')" 1 "watches in ns1 before rmmod"

rmmod kh_reflect || fail "rmmod kh_reflect with an active watch exited $?"
! grep -q '^kh_reflect ' /proc/modules || fail "kh_reflect is still in /proc/modules after rmmod"
[ ! -e /sys/module/kh_reflect ] || fail "/sys/module/kh_reflect is still there after rmmod"
n1 wg show wg0 >/dev/null || fail "wg0 in ns1 is broken after rmmod kh_reflect"
if out=$(kh 1 status 2>&1); then
	fail "khctl status succeeded without the module: $out"
fi
grep -qi "not loaded" <<<"$out" ||
	fail "khctl status without the module: expected 'not loaded', got: $out"

insmod "$KMOD" || fail "insmod $KMOD after rmmod exited $?"
expect_eq "$(kh_status 1 '.watching | length')" 0 "watches in ns1 after rmmod and insmod"
nonzero=$(kh_status 1 '[.counters | to_entries[] | select(.value != 0) | "\(.key)=\(.value)"] | join(" ")')
[ -z "$nonzero" ] || fail "expected every counter 0 after rmmod and insmod, got: $nonzero"
