#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A WireGuard device whose listen port changes after "reflect enable":
# status says the watch is stale, and the next enable moves the watch (and
# its mesh key) to the new port, which then answers probes.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

wg_pair 1 2
kh 1 reflect enable wg0 >/dev/null
"$KHCTL" key generate >"$KH_TMP/key"
kh 1 key set wg0 "$KH_TMP/key" >/dev/null
kh 2 reflect enable wg0 >/dev/null

n1 wg set wg0 listen-port 51900
w=$(kh_status 1 '.watching[0] | "\(.port) \(.device_port) \(.has_key)"')
expect_eq "$w" "51820 51900 true" "ns1 watch after the port change (port device_port has_key)"
grep -q "device now listens on 51900" <<<"$(kh 1 status)" ||
	fail "status does not say the device moved: $(kh 1 status)"

kh 1 reflect enable wg0 >/dev/null
w=$(kh_status 1 '[.watching[] | "\(.port) \(.device_port) \(.has_key)"] | join(",")')
expect_eq "$w" "51900 51900 true" "ns1 watches after enabling again"
out=$(kh 2 probe wg0 192.0.2.1:51900) || fail "probe to the new port failed"
expect_eq "$out" "192.0.2.2:51821" "ns2 as seen by ns1 on its new port"
