#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Watches belong to their network namespace: enabling reflection on wg0 in
# ns1 shows in ns1's status only, and disabling it removes it.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

# expect_watches NS "DEV:PORT ..." WHAT
expect_watches() {
	local w

	w=$(kh_status "$1" '[.watching[] | "\(.ifname):\(.port)"] | join(" ")')
	expect_eq "$w" "$2" "$3"
}

wg_dev 1 wg0 51820
wg_dev 2 wg0 51821

kh 1 reflect enable wg0 || fail "khctl reflect enable wg0 in ns1 exited $?"
expect_watches 1 "wg0:51820" "watches in ns1 after enabling wg0 there"
expect_watches 2 "" "watches in ns2 after enabling wg0 in ns1"

kh 2 reflect enable wg0 || fail "khctl reflect enable wg0 in ns2 exited $?"
expect_watches 2 "wg0:51821" "watches in ns2 after enabling wg0 there"
expect_watches 1 "wg0:51820" "watches in ns1 after enabling wg0 in ns2"

kh 1 reflect disable wg0 || fail "khctl reflect disable wg0 in ns1 exited $?"
expect_watches 1 "" "watches in ns1 after disabling wg0 there"
expect_watches 2 "wg0:51821" "watches in ns2 after disabling wg0 in ns1"

if kh 1 reflect disable wg0 2>/dev/null; then
	fail "disabling wg0 again in ns1 succeeded; expected an error (not watched)"
fi
