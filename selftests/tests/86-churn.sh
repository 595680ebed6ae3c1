#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# insmod/rmmod 20 times while tunnel traffic and probes flow, and network
# namespaces that come and go while watched, with keys and records: no
# splat, no leak (guest.sh checks the kernel log, and rmmod at the end
# would complain of records left in the slab cache).
# kh-timeout: 240
. "$(dirname "$0")/../lib.sh"

wg_pair 1 2
wait_for "n1 ping -c 1 -W 1 198.51.100.2" 10 || fail "no tunnel"
n1 ping -i 0.05 -w 60 198.51.100.2 >/dev/null 2>&1 &
on_exit "kill $!"
( while :; do
	kh 1 reflect enable wg0
	kh 2 reflect enable wg0
	kh 2 probe wg0 192.0.2.1:51820 --timeout 300
  done ) >/dev/null 2>&1 &
on_exit "kill $!"

for i in $(seq 20); do
	kh_sleep 0.$((RANDOM % 3))
	rmmod kh_reflect || fail "rmmod number $i failed"
	insmod "$KMOD" || fail "insmod number $i failed"
done
echo "20 times rmmod and insmod under traffic and probes"

"$KHCTL" key generate >"$KH_TMP/key"
for i in $(seq 10); do
	wg_dev "c$i" wg0 51820
	kh "c$i" key set wg0 "$KH_TMP/key" >/dev/null
	kh "c$i" peers push wg0 >/dev/null
	ns "c$i" "$KH_REPO/selftests/tools/khnl.py" push 20 >/dev/null
	ip netns del "$(ns_name "c$i")"
done
echo "10 namespaces watched, keyed, with records, then deleted"
wait_for "n1 ping -c 1 -W 1 198.51.100.2" 10 || fail "tunnel broken after the churn"
