#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Without the right mesh key no record is revealed or accepted, but the
# reflection is still answered.  Export then import reproduces a table in a
# fresh namespace; a malformed import changes nothing and names its line.
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_mesh
kh a peers sync wg0 >/dev/null || fail "A's sync failed"

# B with another key: R still reflects B, but trades no record with it.
"$KHCTL" key generate >"$KH_TMP/other.key"
kh b key set wg0 "$KH_TMP/other.key" >/dev/null
out=$(kh b peers sync wg0 -j) || true
jq -e '.reflectors[0].endpoint | startswith("203.0.113.2:")' <<<"$out" >/dev/null ||
	fail "B with a wrong key: expected R's reflection 203.0.113.2:PORT, got: $out"
expect_eq "$(jq '.changes | length' <<<"$out")" 0 "changes on B with a wrong key"
expect_eq "$(kh b peers list -j | jq length)" 0 "records on B with a wrong key"
if kh r peers show wg0 "$(wg_pub b wg0)" >/dev/null 2>&1; then
	fail "R recorded B although B's key is wrong"
fi
[ "$(kh_status r .counters.drop_auth)" -ge 1 ] ||
	fail "R counted no authentication failure"

# The right key: records flow.
kh b key set wg0 "$KH_TMP/mesh.key" >/dev/null
kh b peers sync wg0 >/dev/null || fail "B's sync with the right key failed"
kh a peers pull wg0 >/dev/null || fail "A's pull failed"
n=$(kh a peers list wg0 -j | jq length)
[ "$n" -ge 1 ] || fail "A holds no record after the syncs"

# Export from A, import into C, a fresh namespace with the same peers.
kh a peers export wg0 >"$KH_TMP/export.json" || fail "export failed"
wg_dev c wg0 51820
wg_peer c wg0 b wg0 198.51.100.131/32
wg_peer c wg0 r wg0 198.51.100.129/32
kh c reflect enable wg0 >/dev/null
kh c peers import wg0 <"$KH_TMP/export.json" || fail "import into C failed"
keys() { kh "$1" peers list -j | jq -c 'map({public_key, endpoint}) | sort_by(.public_key)'; }
expect_eq "$(keys c)" "$(keys a)" "C's table after import vs. A's"

# A malformed file changes nothing and says where.
before=$(keys c)
printf '[\n{"public_key":"%s","endpoint":"192.0.2.9:1"},\n{"public_key":"%s","endpoint":"nope"}\n]\n' \
	"$(wg_pub r wg0)" "$(wg_pub b wg0)" >"$KH_TMP/bad.json"
if kh c peers import wg0 <"$KH_TMP/bad.json" 2>"$KH_TMP/err"; then
	fail "a malformed import succeeded"
fi
grep -q ':3:' "$KH_TMP/err" || fail "import error does not name line 3: $(cat "$KH_TMP/err")"
expect_eq "$(keys c)" "$before" "C's table after the malformed import"

# Records of one namespace are invisible in another.
expect_eq "$(kh wan peers list -j | jq length)" 0 "records seen from another namespace"
