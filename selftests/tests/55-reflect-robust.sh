#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Reflection does not disturb the tunnel: ping and a bulk transfer over
# WireGuard go through while probes flow on the same port; truncated,
# oversized and garbage messages are dropped and counted while WireGuard
# keeps working; a probe to a peer without kh_reflect times out cleanly.
# kh-parallel
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"

nat_reflect_pair
wait_for "ns a ping -c 1 -W 1 198.51.100.129" 10 || fail "no tunnel A -> R"

# Probes in a loop while the tunnel carries a ping flood and a transfer.
( for i in $(seq 40); do kh a probe wg0 "$NAT_R4:51820" >/dev/null || exit 1; done ) &
probes=$!
ns r iperf3 -s -1 >/dev/null 2>&1 &
iperf=$!
wait_for "grep -q :5201 <<<\"\$(ns r ss -ltn)\"" 5 || fail "iperf3 server did not start"
ns a ping -c 50 -i 0.02 -W 1 198.51.100.129 >"$KH_TMP/ping" ||
	fail "ping over WireGuard lost packets while probes flowed: $(tail -2 "$KH_TMP/ping")"
bytes=$(ns a iperf3 -c 198.51.100.129 -t 2 -J | jq '.end.sum_received.bytes') ||
	fail "iperf3 over WireGuard failed while probes flowed"
[ "$bytes" -gt 0 ] || fail "iperf3 over WireGuard moved no bytes"
wait "$probes" || fail "a probe failed while the tunnel was busy"
wait "$iperf" || true
answered=$(kh_status r .counters.tx_answers)
[ "$answered" -ge 40 ] || fail "R answered $answered probes, expected at least 40"
echo "ping, $bytes bytes of iperf3 and $answered probes over one port"

# Hostile datagrams from the WAN to R's WireGuard port.
before=$(kh_status r '.counters | "\(.drop_malformed) \(.drop_unknown_type) \(.drop_amplify)"')
expect_eq "$before" "0 0 0" "R's drop counters before"
ns wan /usr/bin/python3 - "$NAT_R4" <<'PY'
import socket, struct, sys
magic = struct.pack(">I", 0x6b687201)
def hdr(t, length):
    return magic + struct.pack(">BBH", t, 0, length) + bytes(16)
msgs = [
    magic,                                   # truncated: magic only
    magic + bytes(20),                       # header with length 0
    magic + bytes(1296),                     # oversized
    hdr(9, 24),                              # unknown type
    hdr(1, 44) + bytes(16),                  # says 44, is 40
    hdr(1, 26) + bytes([0, 5]),              # field runs past the end
    hdr(1, 24),                              # request too small to answer
    bytes([5, 0, 0, 0]) + bytes(40),         # neither ours nor WireGuard's
]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in msgs:
    s.sendto(m, (sys.argv[1], 51820))
PY
wait_for "[ \"\$(kh_status r .counters.drop_malformed)\" = 5 ]" 5 ||
	fail "R's drop_malformed: expected 5, got $(kh_status r .counters.drop_malformed)"
expect_eq "$(kh_status r .counters.drop_unknown_type)" 1 "R's drop_unknown_type"
expect_eq "$(kh_status r .counters.drop_amplify)" 1 "R's drop_amplify (24-byte request)"
ns a ping -c 3 -i 0.2 -W 1 198.51.100.129 >/dev/null ||
	fail "WireGuard stopped working after the hostile datagrams"

# A peer whose port nobody watches: a clean timeout.
kh r reflect disable wg0 >/dev/null
if kh a probe wg0 "$NAT_R4:51820" --timeout 1000 2>"$KH_TMP/err"; then
	fail "probe to an unwatched port succeeded"
fi
grep -q "no answer from $NAT_R4:51820" "$KH_TMP/err" ||
	fail "timeout message: expected 'no answer from $NAT_R4:51820', got: $(cat "$KH_TMP/err")"
ns a ping -c 1 -W 1 198.51.100.129 >/dev/null ||
	fail "tunnel broken after probing an unwatched port"
