#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khctl status in a fresh namespace: valid JSON, nothing watched, every counter
# 0; khctl --version and khctl help work.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

json=$(kh 1 status -j) || fail "khctl status -j exited $? in a fresh namespace"
jq -e . >/dev/null <<<"$json" || fail "khctl status -j is not valid JSON: $json"
expect_eq "$(jq -r .version <<<"$json")" 1 "version"
expect_eq "$(jq -c .watching <<<"$json")" "[]" "watched ports in a fresh namespace"
ncounters=$(jq '.counters | length' <<<"$json")
[ "$ncounters" -gt 0 ] || fail "expected counters in khctl status -j, got: $json"
nonzero=$(jq -r '[.counters | to_entries[] | select(.value != 0) | "\(.key)=\(.value)"] | join(" ")' <<<"$json")
[ -z "$nonzero" ] || fail "expected every counter 0 in a fresh namespace, got: $nonzero"
human=$(kh 1 status) || fail "khctl status exited $?"
[ -n "$human" ] || fail "khctl status (human form) printed nothing"

version=$("$KHCTL" --version) || fail "khctl --version exited $?"
[[ $version == khctl* ]] || fail "khctl --version: expected 'khctl ...', got '$version'"
help=$("$KHCTL" help) || fail "khctl help exited $?"
grep -q status <<<"$help" || fail "khctl help does not mention 'status': $help"
