#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmarks, inside the VM (selftests/bench.sh boots it; the suite
# runs it with --quick so that it cannot rot).  Each figure is the median of
# ROUNDS alternating rounds with min and max, beside its baseline from the
# same run.  Prints a Markdown table on stdout; progress goes to stderr.
#
#   bench-guest.sh [--quick] LOADGEN
. "$(dirname "$0")/lib.sh"
# its figures are waits: wait_for keeps trying every 0.2 s
KH_WAIT_SLOW=0.2
. "$(dirname "$0")/nat.sh"
. "$(dirname "$0")/natlab.sh"

quick=0
[ "${1:-}" = --quick ] && { quick=1; shift; }
LOADGEN=${1:?usage: bench-guest.sh [--quick] LOADGEN}
KHNL=$KH_REPO/selftests/tools/khnl.py
if [ "$quick" = 1 ]; then
	ROUNDS=1 IPERF_S=1 REFLECT_S=1 SYNC_INTERVAL=4 RECORDS=2000
	COLLISIONS="home open a" TRIALS=1 NAT_IPERF=256K BDAY_TRIALS=1
	# the run without the safe start only waits for the relay
	START_TTLS=found
else
	ROUNDS=5 IPERF_S=5 REFLECT_S=3 SYNC_INTERVAL=25 RECORDS=100000
	COLLISIONS="home open a,home open b,open cgnat a,open cgnat b"
	TRIALS=10 NAT_IPERF=4M BDAY_TRIALS=20 START_TTLS="found 0"
fi
GENERATORS=$(nproc)
log() { echo "bench: $*" >&2; }
loaded() { grep -q '^kh_reflect ' /proc/modules; }

# stats V...: "median min max" of the numbers given
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%g %g %g\n", m, v[1], v[NR] }'
}
fmt() { read -r m lo hi <<<"$1"; printf '%s [%s-%s]' "$m" "$lo" "$hi"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b ? "%.3f" : "-"), a / b }'; }
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# 1. Tunnel overhead: TCP over WireGuard, module watching vs not loaded.
bench_tunnel() {
	local with=() without=() r bps

	wg_pair 1 2
	wait_for "n1 ping -c 1 -W 1 198.51.100.2" 10 || fail "no tunnel"
	# A round not counted: under emulation the first run also pays for
	# translating the code it runs.
	n2 iperf3 -s -1 -D -I "$KH_TMP/iperf.pid" >/dev/null
	wait_for "grep -q :5201 <<<\"\$(n2 ss -ltn)\"" 5 || fail "iperf3 server"
	n1 iperf3 -c 198.51.100.2 -t 1 >/dev/null
	for r in $(seq "$ROUNDS"); do
		for mode in with without; do
			if [ "$mode" = with ]; then
				loaded || insmod "$KMOD"
				kh 1 reflect enable wg0 >/dev/null
				kh 2 reflect enable wg0 >/dev/null
			else
				! loaded || rmmod kh_reflect
			fi
			n2 iperf3 -s -1 -D -I "$KH_TMP/iperf.pid" >/dev/null
			wait_for "grep -q :5201 <<<\"\$(n2 ss -ltn)\"" 5 || fail "iperf3 server"
			bps=$(n1 iperf3 -c 198.51.100.2 -t "$IPERF_S" -J |
				jq '.end.sum_received.bits_per_second / 1e6')
			if [ "$mode" = with ]; then with+=("$bps"); else without+=("$bps"); fi
			log "tunnel round $r $mode: $bps Mbit/s"
		done
	done
	loaded || insmod "$KMOD"
	local sw sn
	sw=$(stats "${with[@]}") sn=$(stats "${without[@]}")
	row "TCP over WireGuard, Mbit/s (module watching vs not loaded)" \
		"$(fmt "$sw")" "$(fmt "$sn")" "$(ratio "${sw%% *}" "${sn%% *}")" ">= 0.995"
	ns_delete_all
}

# Busy CPU time of the whole VM, in clock ticks (user nice system irq
# softirq steal).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# load kh|stun PORT: one generator per CPU, in parallel, so that no single
# generator thread is the bottleneck (the module answers in softirq, in the
# sender's context).  Prints "answers/s CPU-us-per-answer", the CPU being
# the whole VM's, generators included.
load() {
	local mode=$1 port=$2 i pids=() b0 b1

	b0=$(busy_ticks)
	for i in $(seq "$GENERATORS"); do
		n2 "$LOADGEN" "$mode" 192.0.2.1 "$port" "$REFLECT_S" 64 >"$KH_TMP/load.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	b1=$(busy_ticks)
	cat "$KH_TMP"/load.* | awk -v t=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" '
		{ a += $1; if ($2 > s) s = $2 }
		END { printf "%d %.2f\n", s ? a / s : 0, a ? t / hz * 1e6 / a : 0 }'
	rm -f "$KH_TMP"/load.*
}

# 2. Reflection rate: kh_reflect vs coturn (STUN only), same load.
bench_reflect() {
	local kh_rate=() st_rate=() kh_cpu=() st_cpu=() r a c pid

	wg_pair 1 2
	kh 1 reflect enable wg0 >/dev/null
	kh 1 config rate 10000000 burst 10000000 total-rate 10000000 >/dev/null
	n1 turnserver -n --stun-only --no-cli --no-tls --no-dtls --no-auth \
		-L 192.0.2.1 -p 3478 --no-stdout-log --log-file "$KH_TMP/coturn.log" \
		--pidfile "$KH_TMP/coturn.pid" >/dev/null 2>&1 &
	pid=$!
	wait_for "grep -q :3478 <<<\"\$(n1 ss -lun)\"" 30 || {
		cat "$KH_TMP/coturn.log" >&2
		fail "coturn did not start"
	}
	# Not counted: both answer before the rounds start (coturn's threads
	# may lag its socket; under emulation the first round translates code).
	wait_for "[ \"\$(n2 '$LOADGEN' kh 192.0.2.1 51820 1 4 | cut -d' ' -f1)\" -gt 0 ]" 30 ||
		fail "kh_reflect does not answer"
	wait_for "[ \"\$(n2 '$LOADGEN' stun 192.0.2.1 3478 1 4 | cut -d' ' -f1)\" -gt 0 ]" 30 || {
		cat "$KH_TMP/coturn.log" >&2
		fail "coturn does not answer"
	}
	for r in $(seq "$ROUNDS"); do
		read -r a c <<<"$(load kh 51820)"
		kh_rate+=("$a") kh_cpu+=("$c")
		read -r a c <<<"$(load stun 3478)"
		st_rate+=("$a") st_cpu+=("$c")
		log "reflect round $r: kh ${kh_rate[-1]}/s ${kh_cpu[-1]}us, coturn ${st_rate[-1]}/s ${st_cpu[-1]}us"
	done
	kill "$pid" 2>/dev/null || true
	local kr sr kc sc
	kr=$(stats "${kh_rate[@]}") sr=$(stats "${st_rate[@]}")
	kc=$(stats "${kh_cpu[@]}") sc=$(stats "${st_cpu[@]}")
	[ "${kr%% *}" != 0 ] || fail "kh_reflect answered nothing"
	[ "${sr%% *}" != 0 ] || fail "coturn answered nothing"
	row "Reflection answers/s, $GENERATORS generators (kh_reflect vs coturn STUN)" "$(fmt "$kr")" \
		"$(fmt "$sr")" "$(ratio "${kr%% *}" "${sr%% *}")" ">= 5"
	row "CPU per answer, us, whole VM with the generator (kh_reflect vs coturn)" "$(fmt "$kc")" \
		"$(fmt "$sc")" "$(ratio "${kc%% *}" "${sc%% *}")" "-"
	ns_delete_all
}

# 3. Time to direct path, 50 ms one way on every WAN link: from B's sync
# to A's first handshake with B; A with sync --watch vs a periodic sync.
# The topology is built once; each round starts from scratch: no records
# anywhere, no conntrack entries on the NATs, A and B without each other's
# endpoint and with no handshake.
direct_reset() {
	# Whatever the last round left running in A or B (its sync, its ping)
	# goes too.
	nat_reset nat1 nat2
}

# direct_round push|poll: milliseconds, or -1 if no handshake came
direct_round() {
	local mode=$1 b_pub pids=() t0 t1 deadline hs ms=-1

	b_pub=$(wg_pub b wg0)
	direct_reset
	# Traffic waiting for B: the first packet after the endpoint is set
	# starts the handshake.
	ns a ping -i 0.05 -W 1 198.51.100.131 >/dev/null 2>&1 &
	pids+=($!)
	if [ "$mode" = push ]; then
		ns a "$KHCTL" peers sync wg0 --watch --interval 300 >/dev/null 2>&1 &
	else
		ns a bash -c "while :; do '$KHCTL' peers sync wg0; sleep $SYNC_INTERVAL; done" \
			>/dev/null 2>&1 &
	fi
	pids+=($!)
	# B syncs at a random moment of A's period.
	sleep "$((1 + RANDOM % SYNC_INTERVAL)).$((RANDOM % 10))"
	t0=${EPOCHREALTIME/./}
	kh b peers sync wg0 >/dev/null 2>&1 || true
	deadline=$((EPOCHSECONDS + SYNC_INTERVAL + 30))
	while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
		hs=$(ns a wg show wg0 latest-handshakes | awk -v k="$b_pub" '$1 == k { print $2 }')
		if [ -n "$hs" ] && [ "$hs" != 0 ]; then
			t1=${EPOCHREALTIME/./}
			ms=$(( (t1 - t0) / 1000 ))
			break
		fi
		sleep 0.02
	done
	# ns runs in a subshell: these are the subshells; direct_reset kills
	# what they started.
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	echo "$ms"
}

bench_direct() {
	local push=() poll=() r ms l

	nat_mesh
	for l in r0 n1 n2; do ns wan tc qdisc add dev "$l" root netem delay 50ms; done
	for r in $(seq "$ROUNDS"); do
		for mode in push poll; do
			ms=$(direct_round "$mode")
			[ "$ms" -ge 0 ] || fail "direct round $r $mode: no handshake"
			if [ "$mode" = push ]; then push+=("$ms"); else poll+=("$ms"); fi
			log "direct round $r $mode: $ms ms"
		done
	done
	local sp so
	sp=$(stats "${push[@]}") so=$(stats "${poll[@]}")
	row "Time to direct path, ms, 50 ms one way (sync --watch push vs periodic ${SYNC_INTERVAL}s sync)" \
		"$(fmt "$sp")" "$(fmt "$so")" "$(ratio "${sp%% *}" "${so%% *}")" \
		"push: one round trip + one handshake (~200 ms + processing)"
	ns_delete_all
}

# An uplink switch: A with two uplinks (nat_uplink2), A and B running
# "peers sync --watch" with the default interval; each round moves A's
# default route to the other uplink (the old link goes down) and times the
# first ping through the new path (B has A at the new public endpoint).
# The baseline is the interval, when the next round would come without
# the network events.
uplink_to() {
	local up=$1 down=$2 gw=$3 metric=$4

	ip -n "$(ns_name a)" link set "$up" up
	ip -n "$(ns_name a)" route replace default via "$gw" dev "$up" metric "$metric"
	ip -n "$(ns_name a)" link set "$down" down
}

bench_uplink() {
	local r t0 ms=() want n pids=()

	nat_mesh
	nat_uplink2
	for n in a b; do
		ns "$n" "$KHCTL" peers sync wg0 --watch -j >"$KH_TMP/up-$n.log" 2>&1 &
		pids+=($!)
	done
	wait_for "[ \"\$(nat_wg_endpoint b a)\" = 203.0.113.1:51820 ] && ns a ping -c 1 -W 1 198.51.100.131" 30 ||
		fail "uplink: A and B not direct"
	for r in $(seq "$ROUNDS"); do
		t0=${EPOCHREALTIME/./}
		if [ $((r % 2)) = 1 ]; then
			uplink_to eth1 eth0 192.0.2.129 100
			want=203.0.113.3:51820
		else
			uplink_to eth0 eth1 192.0.2.1 0
			want=203.0.113.1:51820
		fi
		wait_for "[ \"\$(nat_wg_endpoint b a)\" = $want ] && ns a ping -c 1 -W 1 198.51.100.131" 60 ||
			fail "uplink round $r: not direct through $want within 60 s"
		ms+=($(( (${EPOCHREALTIME/./} - t0) / 1000 )))
		log "uplink round $r: direct through $want after ${ms[-1]} ms"
	done
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null || true
	row "Uplink switch to the first ping through the new path, ms (sync --watch following the network vs its next round)" \
		"$(fmt "$(stats "${ms[@]}")")" "25000" \
		"$(ratio "$(stats "${ms[@]}" | cut -d' ' -f1)" 25000)" "< 3000"
	ns_delete_all
}

# The kernel's unreclaimable slab, kB, once it stops moving: a namespace
# that an earlier benchmark deleted is torn down in the background, and
# its frees would otherwise land inside a measurement (2000 records of a
# quick run are only 250 kB).  Records are unreclaimable; dentries and
# inodes, the other noise, are not.
slab_settled() {
	local a b i

	b=$(awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo)
	for i in $(seq 20); do
		sleep 0.5
		a=$b
		b=$(awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo)
		[ $((a - b)) -gt 32 ] || [ $((b - a)) -gt 32 ] || break
	done
	echo "$b"
}

# 4. Table scale: RECORDS records set and dumped; slab per record.
bench_table() {
	local set_ms=() list_ms=() per=() r t0 t1 t2 s0 s1

	ns_add 1
	kh 1 config max-records 1048576 >/dev/null
	for r in $(seq "$ROUNDS"); do
		s0=$(slab_settled)
		t0=$EPOCHREALTIME
		ns 1 "$KHNL" bulk "$RECORDS" || fail "setting $RECORDS records"
		t1=$EPOCHREALTIME
		kh 1 peers list -j >/dev/null
		t2=$EPOCHREALTIME
		s1=$(slab_settled)
		set_ms+=($(( (${t1/./} - ${t0/./}) / 1000 )))
		list_ms+=($(( (${t2/./} - ${t1/./}) / 1000 )))
		per+=("$(awk -v a="$s0" -v b="$s1" -v n="$RECORDS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')")
		log "table round $r: set ${set_ms[-1]} ms, list ${list_ms[-1]} ms, ${per[-1]} B/record"
		kh 1 peers flush
	done
	row "Dump $RECORDS records with khctl peers list -j, ms" "$(fmt "$(stats "${list_ms[@]}")")" \
		"-" "-" "< 500"
	row "Kernel memory per record, bytes (unreclaimable slab delta)" "$(fmt "$(stats "${per[@]}")")" \
		"-" "-" "<= 128"
	ns_delete_all
}

# 5. The NAT lab (natlab.sh).  Each collision pair (a router that lets
# new WAN packets in, "open", against one whose NAT filters by port) TRIALS
# times in each order: how often the path comes up, with the safe start (its
# TTL found, as by default) vs without (--start-ttl 0).  Then TCP through the relay (symmetric NAT on
# both sides) vs over a direct path (no NAT), and birthday probing.
bench_nat() {
	local pairs pair runs=0 with=0 without=0 r ttl relayed=() direct=()

	natlab_world
	# A second reflector: a symmetric NAT finds out that it is one.
	natlab_r2 a b
	kh r2 key set wg0 "$KH_TMP/mesh.key" >/dev/null
	IFS=, read -ra pairs <<<"$COLLISIONS"
	for pair in "${pairs[@]}"; do
		for r in $(seq "$TRIALS"); do
			for ttl in $START_TTLS; do
				natlab_pair $pair "${ttl#found}"
				natlab_pair_end
				log "nat $pair first, start ttl $ttl, run $r: $NATLAB_PATH ($NATLAB_MS ms)"
				[ "$NATLAB_PATH" = direct ] || continue
				if [ "$ttl" = found ]; then
					with=$((with + 1))
				else
					without=$((without + 1))
				fi
			done
			runs=$((runs + 1))
		done
	done
	if [ "$START_TTLS" = found ]; then
		row "Collision pairs direct, of $runs runs each (${COLLISIONS//,/; } first; safe start, none not run)" \
			"$with" "-" "-" "$runs"
	else
		row "Collision pairs direct, of $runs runs each (${COLLISIONS//,/; } first; safe start vs none)" \
			"$with" "$without" "$(ratio "$with" "$without")" "$runs"
	fi
	for r in $(seq "$ROUNDS"); do
		natlab_pair sym sym a
		[ "$NATLAB_PATH" = relayed ] || fail "sym/sym: $NATLAB_PATH, not relayed"
		relayed+=("$(natlab_iperf "$NAT_IPERF")")
		natlab_pair_end
		natlab_pair none none a
		[ "$NATLAB_PATH" = direct ] || fail "none/none: $NATLAB_PATH, not direct"
		direct+=("$(natlab_iperf "$NAT_IPERF")")
		natlab_pair_end
		log "nat round $r: relayed ${relayed[-1]}, direct ${direct[-1]} Mbit/s"
	done
	local sr sd
	sr=$(stats "${relayed[@]}") sd=$(stats "${direct[@]}")
	row "Relayed TCP over WireGuard in the NAT lab, Mbit/s, $NAT_IPERF per round (through R vs direct)" \
		"$(fmt "$sr")" "$(fmt "$sd")" "$(ratio "${sr%% *}" "${sd%% *}")" \
		"relay-rate caps a peer at 4 MiB/s (33.5 Mbit/s)"
	bench_start_ttl
	bench_birthday
	ns_delete_all
}

# What a wrong start TTL costs: B behind a home router and a carrier NAT
# holds (it runs --watch), A behind a home router sends first.  The TTL
# found (3) against one too short (2), which dies at B's carrier NAT: the
# hold then ends after its 2 s bound and the start is a simultaneous one.
bench_start_ttl() {
	local r ttl found=() short=() dfound=0 dshort=0

	for r in $(seq "$TRIALS"); do
		for ttl in found 2; do
			natlab_pair home cgnat b "${ttl#found}"
			natlab_pair_end
			log "start ttl $ttl, home/cgnat b holds, run $r: $NATLAB_PATH ($NATLAB_MS ms)"
			[ "$NATLAB_PATH" = direct ] || continue
			if [ "$ttl" = found ]; then
				dfound=$((dfound + 1)) found+=("$NATLAB_MS")
			else
				dshort=$((dshort + 1)) short+=("$NATLAB_MS")
			fi
		done
	done
	row "Safe start behind a carrier NAT (home/cgnat, B holds): direct of $TRIALS runs (start TTL found vs 2, too short)" \
		"$dfound" "$dshort" "-" "$TRIALS both"
	[ ${#found[@]} -gt 0 ] && [ ${#short[@]} -gt 0 ] &&
		row "Safe start behind a carrier NAT: second sync to first ping, ms (TTL found vs too short: the 2 s bound)" \
			"$(fmt "$(stats "${found[@]}")")" "$(fmt "$(stats "${short[@]}")")" \
			"$(ratio "$(stats "${found[@]}" | cut -d' ' -f1)" "$(stats "${short[@]}" | cut -d' ' -f1)")" "-"
	return 0
}

# 6. Birthday probing: A behind a symmetric NAT, B behind a home router,
# BDAY_TRIALS times, with birthday probing vs without (--birthday 0: the
# relay).  How often the pair comes up direct, how long the first ping
# takes, and what the sessions used.
bench_birthday() {
	local r mode found=0 relayed=0 tb=() tr=() probes=() took=()

	for r in $(seq "$BDAY_TRIALS"); do
		for mode in with without; do
			if [ "$mode" = with ]; then
				NATLAB_SYNC_ARGS= natlab_pair sym home a
			else
				NATLAB_SYNC_ARGS="--birthday 0" natlab_pair sym home a
			fi
			log "birthday run $r $mode: $NATLAB_PATH ($NATLAB_MS ms)"
			if [ "$mode" = with ]; then
				if [ "$NATLAB_PATH" = birthday ]; then
					found=$((found + 1))
					tb+=("$NATLAB_MS")
					probes+=("$(kh b status -j | jq '.birthday[0].probes_sent')")
					took+=("$(kh b status -j | jq '.birthday[0].took_ms')")
				fi
			elif [ "$NATLAB_PATH" = relayed ]; then
				relayed=$((relayed + 1))
				tr+=("$NATLAB_MS")
			fi
			natlab_pair_end
		done
	done
	row "Birthday probing, sym/home: pairs direct of $BDAY_TRIALS runs (birthday vs --birthday 0, relayed: $relayed)" \
		"$found" "0" "-" "~99.9% (256 ports, 2000 probes)"
	[ ${#tb[@]} -gt 0 ] && [ ${#tr[@]} -gt 0 ] &&
		row "Birthday probing, sym/home: second sync to first ping, ms (birthday pair vs relayed)" \
			"$(fmt "$(stats "${tb[@]}")")" "$(fmt "$(stats "${tr[@]}")")" \
			"$(ratio "$(stats "${tb[@]}" | cut -d' ' -f1)" "$(stats "${tr[@]}" | cut -d' ' -f1)")" "-"
	[ ${#probes[@]} -gt 0 ] &&
		row "Birthday probing: probes sent until found, and ms the session took" \
			"$(fmt "$(stats "${probes[@]}")")" "$(fmt "$(stats "${took[@]}")") ms" "-" "<= 2000 probes, 100/s"
	return 0
}

# Birthday probing alone (KH_BENCH=birthday), in a lab of its own.
bench_birthday_alone() {
	natlab_world
	natlab_r2 a b
	kh r2 key set wg0 "$KH_TMP/mesh.key" >/dev/null
	bench_birthday
	ns_delete_all
}

# KH_BENCH: which benchmarks, by name; all of them by default (the NAT
# lab's include birthday probing).  The tunnel benchmark loads the module
# for those after it; without it, it is loaded here (after WireGuard,
# which brings the UDP tunnel modules it needs).
modprobe wireguard && { loaded || insmod "$KMOD"; }
for part in ${KH_BENCH:-tunnel reflect direct uplink table nat}; do
	case $part in
	tunnel) bench_tunnel ;;
	reflect) bench_reflect ;;
	direct) bench_direct ;;
	uplink) bench_uplink ;;
	table) bench_table ;;
	nat) bench_nat ;;
	birthday) bench_birthday_alone ;;
	*) fail "unknown benchmark '$part' (tunnel reflect direct uplink table nat birthday)" ;;
	esac
done

echo "| Benchmark | ours: median [min-max] | baseline: median [min-max] | ratio | target |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
echo
echo "$ROUNDS alternating rounds each$( [ "$quick" = 1 ] && echo ' (--quick: figures are not meaningful)')."
