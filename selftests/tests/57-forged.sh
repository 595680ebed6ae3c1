#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Forged answers and updates (wrong nonce, wrong source, replayed, wrong
# MAC) are dropped and counted, and change no stored endpoint, no record and
# no WireGuard endpoint.  A captured authenticated request, replayed to the
# reflector from another address or from the sender's own, is not answered
# and moves no record.
# kh-timeout: 240
# kh-parallel
. "$(dirname "$0")/../lib.sh"

KHPROBE=$KH_REPO/selftests/tools/khprobe.py
wg_pair 1 2
"$KHCTL" key generate >"$KH_TMP/key"
"$KHCTL" key generate >"$KH_TMP/other"
kh 1 key set wg0 "$KH_TMP/key" >/dev/null
kh 2 key set wg0 "$KH_TMP/key" >/dev/null
counters() { kh_status 1 '.counters | "\(.rx_answers) \(.rx_updates) \(.drop_unmatched) \(.drop_replay) \(.drop_auth)"'; }
reflections() { kh 1 reflections -j | jq -c 'map({reflector, endpoint})'; }
wg_ep() { n1 wg show wg0 endpoints | cut -f2; }

# A real answer, captured on the wire.
n1 "$KHPROBE" sniff veth0 10 2 >"$KH_TMP/answer" 2>"$KH_TMP/sniff" &
sniff=$!
wait_for "grep -q ready '$KH_TMP/sniff'" 30 || fail "sniffer did not start within 30 s"
kh 1 probe wg0 192.0.2.2:51821 >/dev/null || fail "the real probe failed"
wait "$sniff" || fail "no answer captured"
answer=$(cat "$KH_TMP/answer")
expect_eq "$(counters)" "1 0 0 0 0" "ns1 counters after one real answer (answers updates unmatched replay auth)"
refl=$(reflections)
ep=$(wg_ep)

# Replayed answer, then the same answer from another source.
n2 "$KHPROBE" raw 192.0.2.2 51821 192.0.2.1 51820 "$answer"
wait_for '[ "$(counters)" = "1 0 0 1 0" ]' 5 || fail "replay: counters $(counters)"
n2 "$KHPROBE" raw 192.0.2.3 51821 192.0.2.1 51820 "$answer"
wait_for '[ "$(counters)" = "1 0 1 1 0" ]' 5 || fail "wrong source: counters $(counters)"

# An answer with a nonce nobody sent, from the real reflector.
n2 "$KHPROBE" answer 192.0.2.2 51821 192.0.2.1 51820 \
	00112233445566778899aabbccddeeff 203.0.113.66 4444
wait_for '[ "$(counters)" = "1 0 2 1 0" ]' 5 || fail "unknown nonce: counters $(counters)"

# An outstanding probe's nonce, seen on the path, answered from elsewhere.
kh 2 reflect disable wg0 >/dev/null
n2 "$KHPROBE" sniff veth0 10 1 >"$KH_TMP/request" 2>"$KH_TMP/sniff" &
sniff=$!
wait_for "grep -q ready '$KH_TMP/sniff'" 30 || fail "sniffer did not start within 30 s"
kh 1 probe wg0 192.0.2.2:51821 --timeout 3000 >/dev/null 2>&1 &
probe=$!
wait "$sniff" || fail "no request captured"
nonce=$(cut -c17-48 "$KH_TMP/request")
n2 "$KHPROBE" answer 192.0.2.3 51821 192.0.2.1 51820 "$nonce" 203.0.113.66 4444
wait "$probe" && fail "a probe answered from the wrong source succeeded"
expect_eq "$(counters)" "1 0 3 1 0" "forged answer to an outstanding nonce from another source"

# Updates: a good one from the reflector, then a replay, a bad MAC, the
# wrong key.  Only the first is taken.
kh 2 reflect enable wg0 >/dev/null
kh 2 key set wg0 "$KH_TMP/key" >/dev/null
kh 1 probe wg0 192.0.2.2:51821 >/dev/null || fail "probe failed"
x=$(wg genkey | wg pubkey)
n2 "$KHPROBE" update 192.0.2.2 51821 192.0.2.1 51820 "$KH_TMP/key" 100 "$x" 203.0.113.9 9
wait_for '[ "$(counters)" = "2 1 3 1 0" ]' 5 || fail "good update: counters $(counters)"
rec=$(kh 1 peers list -j | jq -r --arg k "$x" '.[] | select(.public_key == $k) | .endpoint')
expect_eq "$rec" "203.0.113.9:9" "the record from the good update"
n2 "$KHPROBE" update 192.0.2.2 51821 192.0.2.1 51820 "$KH_TMP/key" 100 "$x" 203.0.113.6 6
wait_for '[ "$(counters)" = "2 1 3 2 0" ]' 5 || fail "replayed update: counters $(counters)"
n2 "$KHPROBE" update 192.0.2.2 51821 192.0.2.1 51820 "$KH_TMP/key" 101 "$x" 203.0.113.6 6 --badmac
wait_for '[ "$(counters)" = "2 1 3 2 1" ]' 5 || fail "bad MAC: counters $(counters)"
n2 "$KHPROBE" update 192.0.2.2 51821 192.0.2.1 51820 "$KH_TMP/other" 102 "$x" 203.0.113.6 6
wait_for '[ "$(counters)" = "2 1 3 2 2" ]' 5 || fail "wrong key: counters $(counters)"
n2 "$KHPROBE" update 192.0.2.3 51821 192.0.2.1 51820 "$KH_TMP/key" 103 "$x" 203.0.113.6 6
wait_for '[ "$(counters)" = "2 1 4 2 2" ]' 5 || fail "update from a stranger: counters $(counters)"

rec=$(kh 1 peers list -j | jq -r --arg k "$x" '.[] | select(.public_key == $k) | .endpoint')
expect_eq "$rec" "203.0.113.9:9" "the record after the forged updates"
expect_eq "$(reflections)" "$refl" "ns1's reflections after the forgeries"
expect_eq "$(wg_ep)" "$ep" "ns1's WireGuard endpoint after the forgeries"

# A forged answer with a junk MAC, from the right source, races in ahead
# of the real one (which ns2's link holds back for 8 s, within the 10 s an
# answer may take; only ns2's UDP from its port, so that the neighbour
# probes of a loaded VM are not held too): it is refused before it uses up
# the nonce, so the real answer that follows is taken and its endpoint, not
# the forged one, is what the probe reports.
c=$(kh_status 1 '.counters | "\(.rx_answers) \(.drop_auth) \(.drop_replay)"')
read -r answers auths replays <<<"$c"
n2 tc qdisc add dev veth0 root handle 1: prio bands 3
n2 tc qdisc add dev veth0 parent 1:3 handle 30: netem delay 8s
n2 tc filter add dev veth0 parent 1: protocol ip prio 1 u32 \
	match ip protocol 17 0xff match ip sport 51821 0xffff flowid 1:3
n2 "$KHPROBE" sniff veth0 10 1 >"$KH_TMP/request" 2>"$KH_TMP/sniff" &
sniff=$!
wait_for "grep -q ready '$KH_TMP/sniff'" 30 || fail "sniffer did not start within 30 s"
kh 1 probe wg0 192.0.2.2:51821 --timeout 9000 -j >"$KH_TMP/probe.out" 2>&1 &
probe=$!
wait "$sniff" || fail "no request captured"
request=$(cat "$KH_TMP/request")
nonce=$(cut -c17-48 <<<"$request")
# Sent in ns1 itself, so that ns2's delay does not hold it back too.
n1 "$KHPROBE" answer 192.0.2.2 51821 192.0.2.1 51820 "$nonce" 203.0.113.66 4444 --junkmac
wait "$probe" || fail "the real answer after a forged one was not taken: $(cat "$KH_TMP/probe.out")"
n2 tc qdisc del dev veth0 root
expect_eq "$(jq -r .endpoint "$KH_TMP/probe.out")" 192.0.2.1:51820 \
	"the endpoint the probe reports after a forged answer raced the real one"
[ "$(kh_status 1 .counters.drop_auth)" = $((auths + 1)) ] ||
	fail "forged answers refused for their MAC: $((auths + 1)) expected; counters $(kh_status 1 .counters | jq -c .), before: $c, request $request"

expect_eq "$(kh_status 1 .counters.rx_answers)" $((answers + 1)) "answers taken"
expect_eq "$(kh_status 1 .counters.drop_replay)" "$replays" "answers dropped as replays"

# A request with UDP checksum 0 (none, over IPv4) is answered, not dropped.
c=$(kh_status 1 '.counters | "\(.tx_answers) \(.drop_csum)"')
read -r sent csums <<<"$c"
n2 "$KHPROBE" raw 192.0.2.2 40000 192.0.2.1 51820 "$request" --nocsum
wait_for "[ \$(kh_status 1 .counters.tx_answers) -gt $sent ]" 5 ||
	fail "a request without a UDP checksum was not answered: $(kh_status 1 .counters)"
expect_eq "$(kh_status 1 .counters.drop_csum)" "$csums" "requests dropped for their checksum"

# An authenticated request of ns1's sync, captured on the reflector's link
# and replayed from another address, then from ns1's own: not answered,
# counted, and ns2's record of ns1 stays where ns1 is.
before_sync=$(date +%s%N)
n2 "$KHPROBE" sniff veth0 10 1 >"$KH_TMP/request" 2>"$KH_TMP/sniff" &
sniff=$!
wait_for "grep -q ready '$KH_TMP/sniff'" 30 || fail "sniffer did not start within 30 s"
kh 1 peers sync wg0 >"$KH_TMP/sync.out" 2>&1 || fail "ns1's sync failed: $(cat "$KH_TMP/sync.out")"
wait "$sniff" || fail "no request of ns1's sync captured"
request=$(cat "$KH_TMP/request")
k1=$(wg_pub 1 wg0)
record() { kh 2 peers list -j | jq -r --arg k "$k1" '.[] | select(.public_key == $k) | .endpoint'; }
expect_eq "$(record)" 192.0.2.1:51820 "ns2's record of ns1 after its sync"
c=$(kh_status 2 '.counters | "\(.tx_answers) \(.drop_replay)"')
read -r sent replays <<<"$c"
n1 "$KHPROBE" raw 192.0.2.3 4444 192.0.2.2 51821 "$request"
wait_for "[ \$(kh_status 2 .counters.drop_replay) -eq $((replays + 1)) ]" 5 ||
	fail "a request replayed from another address: $(kh_status 2 .counters)"
n1 "$KHPROBE" raw 192.0.2.1 51820 192.0.2.2 51821 "$request"
wait_for "[ \$(kh_status 2 .counters.drop_replay) -eq $((replays + 2)) ]" 5 ||
	fail "a request replayed from its sender's address: $(kh_status 2 .counters)"
expect_eq "$(record)" 192.0.2.1:51820 "ns2's record of ns1 after the replays"
expect_eq "$(kh_status 2 .counters.tx_answers)" "$sent" "answers to replayed requests"
# The sender's next request is newer: taken.
kh 1 peers sync wg0 >"$KH_TMP/sync.out" 2>&1 ||
	fail "ns1's sync after the replays failed: $(cat "$KH_TMP/sync.out")"
[ "$(kh_status 2 .counters.tx_answers)" -gt "$sent" ] ||
	fail "ns2 did not answer ns1's next request"
echo "replayed requests: not answered, no record moved"

# An update from ns2 numbered before ns2's authenticated answers to those
# syncs (as one captured before a reload of ns1's module would be): the
# answers said where ns2's updates begin, so it is not taken.
y=$(wg genkey | wg pubkey)
replays=$(kh_status 1 .counters.drop_replay)
n2 "$KHPROBE" update 192.0.2.2 51821 192.0.2.1 51820 "$KH_TMP/key" "$before_sync" "$y" 203.0.113.5 5
wait_for "[ \$(kh_status 1 .counters.drop_replay) -gt $replays ]" 5 ||
	fail "an update older than the reflector's last answer was not refused: $(kh_status 1 .counters)"
kh 1 peers list -j | jq -e --arg k "$y" 'all(.public_key != $k)' >/dev/null ||
	fail "an update older than the reflector's last answer left a record"
echo "an update older than the reflector's last answer: refused"
