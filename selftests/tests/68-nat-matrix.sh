#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The NAT matrix: A and B behind every pair of NAT kinds of the lab
# (natlab.sh), in both orders where the order matters (a router that
# accepts new WAN packets, "open", is the collision case).  The first side
# runs "khctl peers sync --watch", the second syncs once; then A pings B
# through the tunnel.  Prints one row per run: the pair, who synced first,
# the path, the method, the time from the second sync to the first ping
# answered (a pair gets 10 s: WireGuard retries a handshake after 5 s), and
# a 512 KiB iperf3 transfer over the path in Mbit/s; asserts the expected
# path of each pair: direct; birthday (direct through the pair that birthday
# probing found) for a symmetric NAT against an endpoint-independent one that
# filters by port; relayed through R for two symmetric NATs.  One reflector,
# as a user has: a symmetric side finds out that it is one from R's two
# ports.  The suite
# runs a subset; "make matrix" runs every pair (KH_MATRIX=full).
# KH_MATRIX_RUNS=N (make matrix-repeat) runs the rows N times and says, per
# row, how many runs left their expected path: a flaky row shows there.
# kh-timeout: 900
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../nat.sh"
. "$(dirname "$0")/../natlab.sh"

# expect KIND_A KIND_B: the path this pair must take.
expect() {
	case "$1 $2" in
	"sym home" | "home sym" | "sym open" | "open sym" | "sym cgnat" | \
	"cgnat sym")
		echo birthday ;;
	"sym sym") echo relayed ;;
	*) echo direct ;;
	esac
}

# run KIND_A KIND_B FIRST: one row; sets $row_path.
run() {
	local ka=$1 kb=$2 first=$3 second=b mbit=- path

	[ "$first" = a ] || second=a
	natlab_pair "$ka" "$kb" "$first"
	path=$NATLAB_PATH
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
		mbit=$(natlab_iperf 512K) ||
			fail "$ka/$kb ($first first): iperf3 over the $path path failed"
	fi
	natlab_pair_end
	# Which side held, which sent first, as each khctl reported.
	method=$(cat "$KH_TMP/watch.log" "$KH_TMP/sync.log" |
		jq -r '(.changes[]?, select(.event? == "change")) | .start // empty' 2>/dev/null |
		sort -u | paste -sd+)
	row_path=$path
	printf '%-6s %-6s %-5s %-8s %-11s %-6s %s\n' "$ka" "$kb" "$first" \
		"$path" "${method:-plain}" "$NATLAB_MS" "$mbit" >>"$KH_TMP/table"
}

# The rows: "KIND_A KIND_B FIRST".  KH_MATRIX=full (make matrix): every
# pair of kinds, both orders where one side is "open"; else a set that fits
# the suite's time: the collision pairs in both orders, and the symmetric
# NAT against a NAT without port filtering (direct), with it (birthday),
# and against itself (relayed).
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
runs=${KH_MATRIX_RUNS:-1}
[[ $runs =~ ^[1-9][0-9]*$ ]] || fail "KH_MATRIX_RUNS must be a positive number, not '$runs'"
bad=()
declare -A off=()
mapfile -t all_rows < <(rows)
printf '%-6s %-6s %-5s %-8s %-11s %-6s %s\n' A B first path start ms Mbit/s \
	>"$KH_TMP/table"
for ((i = 1; i <= runs; i++)); do
	[ "$runs" = 1 ] || echo "== run $i of $runs" >>"$KH_TMP/table"
	for row in "${all_rows[@]}"; do
		read -r ka kb first <<<"$row"
		run "$ka" "$kb" "$first"
		want=$(expect "$ka" "$kb")
		[ "$row_path" = "$want" ] && continue
		bad+=("$ka/$kb ($first first): $row_path, expected $want")
		off[$row]=$(( ${off[$row]:-0} + 1 ))
	done
done
cat "$KH_TMP/table"
if [ "$runs" -gt 1 ]; then
	echo "runs off their expected path, of $runs per row:"
	for row in "${all_rows[@]}"; do
		printf '  %-22s %s of %s\n' "$row" "${off[$row]:-0}" "$runs"
	done
	echo "all rows: ${#bad[@]} of $(( runs * ${#all_rows[@]} )) runs off their path"
fi
[ ${#bad[@]} -eq 0 ] || fail "pairs off their expected path: $(printf '%s; ' "${bad[@]}")"
echo "every pair on its expected path"
