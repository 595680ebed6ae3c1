#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cross-namespace access: an unprivileged user who makes a user namespace
# has CAP_NET_ADMIN there, which works on a network namespace of its own
# (fresh state, nothing of the others) and on no one else's.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

mkdir "$KH_TMP/bin"
cp "$KHCTL" "$KH_TMP/bin/khctl"
chmod 755 "$KH_TMP" "$KH_TMP/bin" "$KH_TMP/bin/khctl"
wg_dev 1 wg0 51820
kh 1 reflect enable wg0 >/dev/null
"$KHCTL" key generate >"$KH_TMP/key"
kh 1 key set wg0 "$KH_TMP/key" >/dev/null

nobody() {
	ns 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
nobody unshare -U true 2>/dev/null || skip "unprivileged user namespaces are off here"

# Its own network namespace: allowed, and empty.
out=$(nobody unshare -Urn "$KH_TMP/bin/khctl" status -j) ||
	fail "khctl status in a user's own user and network namespace failed: $out"
expect_eq "$(jq '.watching | length' <<<"$out")" 0 "watches seen from a user's own namespace"

# ns1's network namespace, from a user namespace that does not own it.
for args in "status" "peers list" "peers flush" "config rate 1" \
	    "reflect disable wg0" "key clear wg0"; do
	if nobody unshare -Ur "$KH_TMP/bin/khctl" $args >"$KH_TMP/out" 2>&1; then
		fail "'khctl $args' from a foreign user namespace succeeded"
	fi
	grep -qi 'permission denied\|not permitted' "$KH_TMP/out" ||
		fail "'khctl $args' from a foreign user namespace: $(cat "$KH_TMP/out")"
done
expect_eq "$(kh_status 1 '.watching[0].has_key')" true "ns1's watch and key afterwards"
expect_eq "$(kh_status 1 .ratelimit.rate)" 20 "ns1's rate limit afterwards"
