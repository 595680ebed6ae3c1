#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The NAT matrix: A and B behind every pair of NAT kinds of the lab
# (natlab.sh), in both orders where the order matters (a router that
# accepts new WAN packets, "open", is the collision case).  The first side
# runs "khctl peers sync --watch", the second syncs once; then A pings B
# through the tunnel.  Prints one row per run: the pair, who synced first,
# the path, the method, the time from the second sync to the first ping
# answered; asserts the expected path of each pair: direct, or relayed
# through R where no direct path is practical (a symmetric NAT against one
# that filters by port; birthday probing is not built).  The suite runs a
# subset; "make matrix" runs every pair (KH_MATRIX=full).
# kh-timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

# How long a pair may take to pass its first ping before it counts as
# "none".  WireGuard retries a handshake after 5 s.
WAIT_S=10

# expect KIND_A KIND_B: the path this pair must take.
expect() {
	case "$1 $2" in
	"sym home" | "home sym" | "sym open" | "open sym" | "sym cgnat" | \
	"cgnat sym" | "sym sym")
		echo relayed ;;
	*) echo direct ;;
	esac
}

# The safe start's TTL must pass the site's own routers and die at the
# next: every site of the lab has two (hr and cg), then the WAN router.
START_TTL=3

# run KIND_A KIND_B FIRST: one row; sets $row_path.
run() {
	local ka=$1 kb=$2 first=$3 second pid t0 t1 ms=- path=none

	second=b
	[ "$first" = a ] || second=a
	natlab_kind a "$ka"
	natlab_kind b "$kb"
	natlab_reset
	ns "$first" "$KHCTL" peers sync wg0 --watch --interval 300 -j \
		--start-ttl "$START_TTL" >"$KH_TMP/watch.log" 2>&1 &
	pid=$!
	# The first side's round is over when R holds its record.
	wait_for "kh r peers show wg0 $(wg_pub "$first" wg0) >/dev/null 2>&1" 10 ||
		fail "$ka/$kb: $first's first sync round did not reach R"
	t0=${EPOCHREALTIME/./}
	kh "$second" peers sync wg0 -j --start-ttl "$START_TTL" \
		>"$KH_TMP/sync.log" 2>&1 ||
		fail "$ka/$kb: $second's sync failed: $(cat "$KH_TMP/sync.log")"
	if ns a ping -c 1 -i 0.2 -w "$WAIT_S" -W 1 198.51.100.131 >/dev/null 2>&1; then
		t1=${EPOCHREALTIME/./}
		ms=$(( (t1 - t0) / 1000 ))
		path=direct
		[ "$(nat_wg_endpoint a b)" != "$NAT_R4:51820" ] || path=relayed
	fi
	# Off its expected path: what each side did and what the NATs hold.
	if [ "$path" != "$(expect "$ka" "$kb")" ]; then
		echo "== $ka/$kb, $first first: $path"
		echo "-- $second's sync"; cat "$KH_TMP/sync.log"
		echo "-- $first's watch"; cat "$KH_TMP/watch.log"
		echo "-- R's records"; kh r peers list
		for n in a b; do
			echo "-- $n"
			ns "$n" wg show wg0 endpoints
			kh "$n" status -j | jq -c '.counters'
		done
		for n in cga cgb; do echo "-- $n"; ns "$n" conntrack -L 2>/dev/null; done
	fi
	if [ "$path" != none ]; then
		ns b ping -c 3 -i 0.2 -W 1 198.51.100.130 >/dev/null ||
			fail "$ka/$kb ($first first): A reaches B but B loses pings to A"
	fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# Which side held, which sent first, as each khctl reported.
	method=$(cat "$KH_TMP/watch.log" "$KH_TMP/sync.log" |
		jq -r '(.changes[]?, select(.event? == "change")) | .start // empty' 2>/dev/null |
		sort -u | paste -sd+)
	row_path=$path
	printf '%-6s %-6s %-5s %-7s %-11s %s\n' "$ka" "$kb" "$first" "$path" \
		"${method:-plain}" "$ms" >>"$KH_TMP/table"
}

# The rows: "KIND_A KIND_B FIRST".  KH_MATRIX=full (make matrix): every
# pair of kinds, both orders where one side is "open"; else a set that fits
# the suite's time: the collision pairs in both orders, and the symmetric
# NAT against a NAT without port filtering (direct) and with it (none).
rows() {
	local kinds i j ka kb

	if [ "${KH_MATRIX:-quick}" != full ]; then
		printf '%s\n' "home open a" "home open b" "open cgnat a" \
			"open open a" "none open b" "1to1 sym a" "home sym a" \
			"sym sym a"
		return
	fi
	kinds=(${KH_MATRIX_KINDS:-$NATLAB_KINDS})
	for ((i = 0; i < ${#kinds[@]}; i++)); do
		for ((j = i; j < ${#kinds[@]}; j++)); do
			ka=${kinds[i]} kb=${kinds[j]}
			echo "$ka $kb a"
			# Order matters where one router accepts new WAN packets.
			if [ "$ka" != "$kb" ] && [[ "$ka $kb" == *open* ]]; then
				echo "$ka $kb b"
			fi
		done
	done
}

natlab_world
bad=()
printf '%-6s %-6s %-5s %-7s %-11s %s\n' A B first path start ms >"$KH_TMP/table"
while read -r ka kb first; do
	run "$ka" "$kb" "$first"
	want=$(expect "$ka" "$kb")
	[ "$row_path" = "$want" ] ||
		bad+=("$ka/$kb ($first first): $row_path, expected $want")
done < <(rows)
cat "$KH_TMP/table"
[ ${#bad[@]} -eq 0 ] || fail "pairs off their expected path: $(printf '%s; ' "${bad[@]}")"
echo "every pair on its expected path"
