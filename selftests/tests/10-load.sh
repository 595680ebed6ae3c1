#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest.sh loaded both modules, and kh_reflect's genl family answers.
. "$(dirname "$0")/../lib.sh"

grep -q '^wireguard ' /proc/modules || fail "wireguard is not in /proc/modules"
grep -q '^kh_reflect ' /proc/modules || fail "kh_reflect is not in /proc/modules"
[ -d /sys/module/kh_reflect ] || fail "/sys/module/kh_reflect does not exist"

genl ctrl get name kh_reflect >/dev/null ||
	fail "the generic netlink controller does not know the family kh_reflect"
"$KHCTL" status >/dev/null || fail "khctl status exited $?"
json=$("$KHCTL" status -j) || fail "khctl status -j exited $?"
version=$(jq -r .version <<<"$json") || fail "khctl status -j printed no JSON: $json"
expect_eq "$version" 1 "version in khctl status -j"
