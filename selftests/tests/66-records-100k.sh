#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A dump pages correctly through 100,000 records: every one listed, once.
. "$(dirname "$0")/../lib.sh"

ns_add 1
t0=$EPOCHREALTIME
ns 1 "$KH_REPO/selftests/tools/khnl.py" bulk 100000 || fail "setting 100000 records failed"
t1=$EPOCHREALTIME
expect_eq "$(kh_status 1 .records.count)" 100000 "records in the table"
kh 1 peers list -j >"$KH_TMP/list" || fail "peers list -j failed"
t2=$EPOCHREALTIME
expect_eq "$(jq length "$KH_TMP/list")" 100000 "records listed"
expect_eq "$(jq '[.[].public_key] | unique | length' "$KH_TMP/list")" 100000 "distinct keys listed"
kh 1 peers flush
echo "set in $(( (${t1/./} - ${t0/./}) / 1000 )) ms, listed in $(( (${t2/./} - ${t1/./}) / 1000 )) ms (emulated CPU)"
