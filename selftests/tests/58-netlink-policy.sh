#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every command with missing, oversized, mistyped and unknown attributes is
# refused with an extack message, and nothing changes.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

state() {
	kh_status 1 '{watching, records, ratelimit, counters} | tostring'
}
ns_add 1
before=$(state)
ns 1 "$KH_REPO/selftests/tools/khnl.py" policy ||
	fail "a bad request was accepted or refused without a message (BAD lines above)"
expect_eq "$(state)" "$before" "state of the namespace after the bad requests"
