#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own YNL tool (tools/net/ynl/cli.py) drives kh_reflect from
# Documentation/netlink/specs/kh_reflect.yaml: in one batch it adds a record,
# reads one that khctl pushed and reads the status (counters, limits, the
# watch nest); then it dumps the records, an IPv4 and an IPv6 one.  khctl
# agrees with all YNL reads.  Two cli.py runs only: each costs seconds in an
# emulated VM.  (Events are left out: 6.12's cli.py fails when an event
# arrives on the socket of its own --do, and a second listener cannot tell
# when it has subscribed.)
#
# YNL is extracted on the host by selftests/host/43-ynl-spec.sh into
# /var/lib/kh-reflect/ynl-*; the VM sees the host's root there.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

py=/usr/bin/python3
spec=$KH_REPO/Documentation/netlink/specs/kh_reflect.yaml
cli=
for d in $(ls -d /var/lib/kh-reflect/ynl-* 2>/dev/null | sort -rV || true); do
	for c in "$d/tools/net/ynl/cli.py" "$d/tools/net/ynl/pyynl/cli.py"; do
		[ -f "$c" ] && { cli=$c; break 2; }
	done
done
[ -n "$cli" ] ||
	skip "no YNL extracted: selftests/host/43-ynl-spec.sh extracts it (make check runs it first)"
"$py" -c 'import yaml' 2>/dev/null || skip "no python3-yaml (make deps)"
echo "YNL: $cli"

# ynl NS ARGS...: cli.py in namespace NS, JSON out.  The host test validated
# the spec against the schema already: not again here, it is slow in a VM.
# -S: no site-wide .pth hooks, which cost seconds under emulation; Debian's
# python3-yaml comes through PYTHONPATH instead.
ynl() {
	local n=$1

	shift
	ns "$n" env PYTHONPATH=/usr/lib/python3/dist-packages \
		"$py" -S "$cli" --spec "$spec" --no-schema --output-json "$@"
}

# hex of a base64 key, of a struct sockaddr_in / sockaddr_in6 (little endian
# family, big endian port, no flow info, no scope)
key_hex() { base64 -d <<<"$1" | od -An -v -tx1 | tr -d ' \n'; }
sin_hex() {
	local IFS=.

	# shellcheck disable=SC2086 # the address split on dots
	printf '0200%04x%02x%02x%02x%02x0000000000000000' "$2" $1
}
sin6_hex() { printf '0a00%04x00000000%s00000000' "$2" "$1"; }

# A watched port with a mesh key, and a peer with an IPv6 endpoint that
# khctl pushes as a record B.
wg_dev 1 wg0 51820
wg_dev 2 wg0 51821
wg_peer 1 wg0 2 wg0 198.51.100.2/32 "[2001:db8::2]:51821"
kh 1 key generate >"$KH_TMP/mesh.key"
kh 1 key set wg0 "$KH_TMP/mesh.key" >/dev/null
b_key=$(wg_pub 2 wg0)
kh 1 peers push wg0 >/dev/null
b_hex=$(key_hex "$b_key")
b_ep=$(sin6_hex 20010db8000000000000000000000002 51821)

# In one batch: YNL sets a record A, reads B, reads the status.
a_key=$(wg genkey | wg pubkey)
a_hex=$(key_hex "$a_key")
a_ep=$(sin_hex 203.0.113.7 40312)
out=$(ynl 1 --multi set-peer "{\"pubkey\": \"$a_hex\", \"endpoint\": \"$a_ep\", \"record-ttl\": 300}" \
	--multi get-peer "{\"pubkey\": \"$b_hex\"}" --multi get-status '{}') ||
	fail "ynl --multi set-peer get-peer get-status exited $?: $out"
khst=$(kh_status 1)
cfg=$(kh 1 config -j) || fail "khctl config -j exited $?: $cfg"
jq -e --arg e "$b_ep" '.[1].endpoint == $e and .[1].source == "pushed"' <<<"$out" >/dev/null ||
	fail "get-peer of the record khctl pushed: expected $b_ep, pushed, got: $out"
jq -e -n --argjson o "$out" --argjson k "$khst" --argjson c "$cfg" '$o[2] as $y |
	$y.version == 1 and $y.records == 2 and ($y.watch | length) == 1 and
	$y.watch[0].port == 51820 and $y.watch[0].ifname == "wg0" and
	$y.watch[0]["has-key"] == 1 and
	($y.stats | with_entries(.key |= gsub("-"; "_"))) == $k.counters and
	$y["rl-rate"] == $c.rate and $y["rl-burst"] == $c.burst and
	$y["rl-total"] == $c.total_rate and $y["max-records"] == $c.max_records and
	$y["record-ttl"] == $c.record_ttl' >/dev/null ||
	fail "get-status through YNL: expected version 1, 2 records, wg0's port 51820 watched with a key, the counters and limits khctl shows ($khst $cfg), got: $out"
echo "set-peer, get-peer, get-status (watch nest, $(jq '.[2].stats | length' <<<"$out") counters, limits) in one batch, as khctl sees them"

# The dump: both records, as khctl lists them.
dump=$(ynl 1 --dump get-peers) || fail "ynl --dump get-peers exited $?: $dump"
list=$(kh 1 peers list -j) || fail "khctl peers list -j exited $?"
kh_keys=$(jq -r '.[].public_key' <<<"$list" | while read -r k; do key_hex "$k"; echo; done |
	jq -R -s -c 'split("\n") | map(select(. != "")) | sort')
jq -e -n --argjson d "$dump" --argjson kk "$kh_keys" --arg a "$a_hex" --arg ae "$a_ep" \
	--arg b "$b_hex" --arg be "$b_ep" '
	($d | length) == 2 and ($d | map(.pubkey) | sort) == $kk and
	($d[] | select(.pubkey == $a) | .endpoint == $ae and .source == "pushed" and
		.port == 0 and .["expires-ms"] > 250000 and .["expires-ms"] <= 300000) and
	($d[] | select(.pubkey == $b) | .endpoint == $be and .source == "pushed")' >/dev/null ||
	fail "get-peers: expected A at $a_ep (ttl 300 s) and B at $b_ep, the keys khctl lists ($list), got: $dump"
echo "get-peers: the IPv4 and the IPv6 record, as khctl lists them"
