#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# More distinct keys than the table may hold: it stops at its maximum and
# counts the refused, the records expire and are reclaimed, and a flush
# leaves no object behind (rmmod at the end would complain of a leak).
# kh-parallel
. "$(dirname "$0")/../lib.sh"

KHNL=$KH_REPO/selftests/tools/khnl.py
ns_add 1
# The TTL leaves time for the checks below even on the slow debug kernel.
kh 1 config max-records 100 record-ttl 10 >/dev/null
counts=$(ns 1 "$KHNL" push 150)
expect_eq "$counts" "100 50" "records accepted and refused (max 100, 150 offered)"
expect_eq "$(kh_status 1 .records.count)" 100 "records in the table"
expect_eq "$(kh_status 1 .counters.records_refused)" 50 "records_refused"
expect_eq "$(kh 1 peers list -j | jq length)" 100 "records listed"

wait_for '[ "$(kh_status 1 .records.count)" = 0 ]' 40 ||
	fail "records did not expire: $(kh_status 1 .records.count) left"
expect_eq "$(kh_status 1 .counters.records_expired)" 100 "records_expired"

counts=$(ns 1 "$KHNL" push 80)
expect_eq "$counts" "80 0" "records accepted after the expiry"
kh 1 config record-ttl 600 >/dev/null
key=$(kh 1 peers list -j | jq -r '.[0].public_key')
kh 1 peers delete "$key" || fail "peers delete failed"
expect_eq "$(kh_status 1 .records.count)" 79 "records after one delete"
kh 1 peers flush || fail "peers flush failed"
expect_eq "$(kh_status 1 .records.count)" 0 "records after a flush"
expect_eq "$(kh 1 peers list -j | jq length)" 0 "records listed after a flush"
