#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Records are sensitive: without CAP_NET_ADMIN every records command is
# refused, reads included.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

wg_dev 1 wg0 51820
kh 1 reflect enable wg0 >/dev/null
"$KHCTL" key generate >"$KH_TMP/key"
kh 1 key set wg0 "$KH_TMP/key" >/dev/null
chmod 755 "$KH_TMP"
chmod 644 "$KH_TMP/key"
echo '[]' >"$KH_TMP/empty.json"
chmod 644 "$KH_TMP/empty.json"
key=$(wg genkey | wg pubkey)

unpriv() {
	ns 1 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$KHCTL" "$@"
}

for args in "peers list" "peers list wg0" "peers show wg0 $key" "peers push wg0" \
	    "peers pull wg0" "peers export wg0" "peers sync wg0" \
	    "key set wg0 $KH_TMP/key" "config max-records 10" "status" \
	    "reflections"; do
	if unpriv $args </dev/null >"$KH_TMP/out" 2>&1; then
		fail "unprivileged 'khctl $args' succeeded"
	fi
	grep -qi 'permission denied\|not permitted' "$KH_TMP/out" ||
		fail "unprivileged 'khctl $args': expected permission denied, got: $(cat "$KH_TMP/out")"
done
if unpriv peers import wg0 <"$KH_TMP/empty.json" >"$KH_TMP/out" 2>&1; then
	fail "unprivileged import succeeded"
fi
kh 1 peers list >/dev/null || fail "root's peers list failed"
