# SPDX-License-Identifier: GPL-2.0
#
# Sourced after lib.sh and nat.sh: the NAT lab.  Two sites, each a host
# behind a home router (hr) behind a carrier router (cg), on the WAN of
# nat.sh with the reflector R:
#
#   a 192.0.2.2/26  -- hra (203.0.113.65) -- cga (203.0.113.1) --+
#                                                                 +-- wan -- R
#   b 192.0.2.66/26 -- hrb (100.64.0.66)  -- cgb (203.0.113.2) --+
#
# The two carriers differ inside, as carriers do: cga's side toward hra
# borrows its public address, cgb's has 100.64.0.1 of the shared range
# (RFC 6598), so a start TTL found from the routers' answers (hops.c) is
# found both ways.  Each site has two routers; the sites are three hops
# from R (hr, cg, the WAN router).
# Every address is routed, so a site without NAT is reachable at its host's
# own address.  natlab_kind SITE KIND loads one kind of NAT into a site's
# routers (replacing what was there) and flushes their connection tracking:
#
#   none     no NAT, no filter: the host's address is public
#   1to1     static 1:1 NAT: cg maps 203.0.113.N to the host, every port
#   adf      endpoint-independent mapping, address-dependent filtering: a
#            new packet from an address the host has sent to is let in
#   home     endpoint-independent mapping, address-and-port-dependent
#            filtering, new packets from the WAN to the router dropped
#   open     the same without that drop: the router's input accepts them
#   cgnat    double NAT: a home router behind a carrier NAT, both "home"
#   sym      endpoint-dependent mapping with random ports ("symmetric"),
#            address-and-port-dependent filtering, WAN input dropped
#
# IPv4 only.  Linux's masquerade keeps the source port when the mapping is
# unique, which is what makes it endpoint-independent here.

NATLAB_KINDS="none 1to1 adf home open cgnat sym"

# natlab_site SITE N: host SITE behind hrSITE and cgSITE, public 203.0.113.N.
natlab_site() {
	local h=$1 i=$2 lan gw host inner cg hr cgin

	case $h in
	a) lan=192.0.2.0/26 gw=192.0.2.1 host=192.0.2.2 ;;
	b) lan=192.0.2.64/26 gw=192.0.2.65 host=192.0.2.66 ;;
	*) fail "natlab_site: unknown site $h" ;;
	esac
	inner=$(natlab_inner "$h")
	cgin=203.0.113.$i
	[ "$h" = a ] || cgin=100.64.0.1
	cg=cg$h hr=hr$h
	nat_ns "$cg" "$hr" "$h"
	# WAN side: point to point, as nat_site.
	veth wan "n$i" "$cg" wan
	ip -n "$(ns_name wan)" route add "203.0.113.$i/32" dev "n$i"
	ip -n "$(ns_name wan)" route add "$inner/32" via "203.0.113.$i" dev "n$i"
	ip -n "$(ns_name wan)" route add "$lan" via "203.0.113.$i" dev "n$i"
	ip -n "$(ns_name "$cg")" addr add "203.0.113.$i/32" dev wan
	ip -n "$(ns_name "$cg")" route add 198.51.100.126/32 dev wan
	ip -n "$(ns_name "$cg")" route add default via 198.51.100.126 dev wan
	# Between the carrier and the home router, also point to point; the
	# carrier's side borrows its public address (a) or has a shared one (b).
	veth "$cg" lan "$hr" wan
	ip -n "$(ns_name "$cg")" addr add "$cgin/32" dev lan
	ip -n "$(ns_name "$cg")" route add "$inner/32" dev lan
	ip -n "$(ns_name "$cg")" route add "$lan" via "$inner" dev lan
	ip -n "$(ns_name "$hr")" addr add "$inner/32" dev wan
	ip -n "$(ns_name "$hr")" route add "$cgin/32" dev wan
	ip -n "$(ns_name "$hr")" route add default via "$cgin" dev wan
	# The LAN.
	veth "$hr" lan "$h" eth0
	ip -n "$(ns_name "$hr")" addr add "$gw/26" dev lan
	ip -n "$(ns_name "$h")" addr add "$host/26" dev eth0
	ip -n "$(ns_name "$h")" route add default via "$gw"
	ns "$cg" sysctl -qw net.ipv4.ip_forward=1
	ns "$hr" sysctl -qw net.ipv4.ip_forward=1
}

# natlab_rules KIND HOST PUBLIC: the nft ruleset of one router, whose WAN
# device is "wan".
natlab_rules() {
	local kind=$1 host=$2 pub=$3

	echo "table inet lab {"
	case $kind in
	none) ;;
	1to1)
		cat <<-NFT
		chain pre {
			type nat hook prerouting priority dstnat;
			iifname "wan" ip daddr $pub dnat ip to $host
		}
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "wan" ip saddr $host snat ip to $pub
		}
		NFT
		;;
	adf)
		cat <<-NFT
		set contacted {
			type ipv4_addr; flags dynamic, timeout; timeout 120s;
		}
		chain pre {
			type nat hook prerouting priority dstnat;
			iifname "wan" ip saddr @contacted dnat ip to $host
		}
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "wan" masquerade
		}
		chain forward {
			type filter hook forward priority filter; policy accept;
			oifname "wan" update @contacted { ip daddr }
			iifname "wan" ct state established,related accept
			iifname "wan" ct status dnat accept
			iifname "wan" drop
		}
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state new drop
		}
		NFT
		;;
	home | open | sym)
		cat <<-NFT
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "wan" masquerade$([ "$kind" = sym ] && echo " random")
		}
		chain forward {
			type filter hook forward priority filter; policy accept;
			iifname "wan" ct state established,related accept
			iifname "wan" drop
		}
		NFT
		[ "$kind" = open ] || cat <<-NFT
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state new drop
		}
		NFT
		;;
	*) fail "natlab: unknown kind $kind" ;;
	esac
	echo "}"
}

# natlab_inner SITE: the home router's WAN address.
natlab_inner() {
	case $1 in
	a) echo 203.0.113.65 ;;
	b) echo 100.64.0.66 ;;
	esac
}

# natlab_kind SITE KIND
natlab_kind() {
	local h=$1 kind=$2 n i host inner hr_kind=none cg_kind=$2

	case $h in
	a) i=1 host=192.0.2.2 ;;
	b) i=2 host=192.0.2.66 ;;
	esac
	inner=$(natlab_inner "$h")
	if [ "$kind" = cgnat ]; then
		hr_kind=home cg_kind=home
	fi
	for n in "cg$h" "hr$h"; do
		ns "$n" nft delete table inet lab 2>/dev/null || true
	done
	natlab_rules "$hr_kind" "$host" "$inner" | ns "hr$h" nft -f - ||
		fail "natlab: loading $hr_kind into hr$h"
	# Behind a home router, the carrier sees the home router's address.
	[ "$hr_kind" = none ] || host=$inner
	natlab_rules "$cg_kind" "$host" "203.0.113.$i" | ns "cg$h" nft -f - ||
		fail "natlab: loading $cg_kind into cg$h"
	for n in "cg$h" "hr$h"; do
		ns "$n" conntrack -F >/dev/null 2>&1 || true
	done
}

# natlab_world: R, both sites (no NAT yet), WireGuard everywhere with a mesh
# key, A and B peers of each other without endpoints.
natlab_world() {
	nat_world
	natlab_site a 1
	natlab_site b 2
	nat_mesh_wg
}

# natlab_r2 PEER...: a second reflector R2 at 198.51.100.2 (tunnel
# 198.51.100.140), on a link of its own to the WAN router, watching its
# port; each PEER (a, b) has it as a peer with its endpoint.
natlab_r2() {
	local h addr

	nat_ns r2
	veth wan r20 r2 eth0
	ip -n "$(ns_name wan)" addr add 198.51.100.126/32 dev r20
	ip -n "$(ns_name wan)" route add 198.51.100.2/32 dev r20
	ip -n "$(ns_name r2)" addr add 198.51.100.2/32 dev eth0
	ip -n "$(ns_name r2)" route add 198.51.100.126/32 dev eth0
	ip -n "$(ns_name r2)" route add default via 198.51.100.126 dev eth0
	wg_dev r2 wg0 51820 198.51.100.140/25
	for h in "$@"; do
		case $h in
		a) addr=198.51.100.130 ;;
		b) addr=198.51.100.131 ;;
		esac
		wg_peer "$h" wg0 r2 wg0 198.51.100.140/32 198.51.100.2:51820
		wg_peer r2 wg0 "$h" wg0 "$addr/32"
	done
	kh r2 reflect enable wg0 >/dev/null
}

# natlab_reset: as after the lab was built, NAT kinds aside.
natlab_reset() {
	nat_reset hra cga hrb cgb
	if [ -e "/run/netns/$(ns_name r2)" ]; then
		kh r2 peers flush >/dev/null
	fi
}

# natlab_pair KIND_A KIND_B FIRST [START_TTL]: one run of the lab, from
# scratch (natlab_reset): A behind KIND_A, B behind KIND_B; FIRST (a or b)
# runs "khctl peers sync --watch", the other syncs once, then A pings B
# for up to NATLAB_WAIT_S (default 10) seconds.  START_TTL: given to both
# syncs as --start-ttl (0: no safe start); by default none, as a user
# runs it: sync finds it.  Sets
# NATLAB_PATH (direct; birthday when a side reported the pair that
# birthday probing found; relayed through R or R2; none), NATLAB_MS (from the
# second sync to the first ping answered, or -) and NATLAB_PID (the
# --watch process, for natlab_pair_end); NATLAB_SYNC_ARGS go to both
# syncs (unquoted: words); both sides' output is in
# $KH_TMP/watch.log and $KH_TMP/sync.log.
natlab_pair() {
	local ka=$1 kb=$2 first=$3 second=b t0 t1 ttl=()

	[ -z "${4:-}" ] || ttl=(--start-ttl "$4")
	[ "$first" = a ] || second=a
	natlab_kind a "$ka"
	natlab_kind b "$kb"
	natlab_reset
	NATLAB_PATH=none NATLAB_MS=-
	ns "$first" "$KHCTL" peers sync wg0 --watch --interval 300 -j \
		"${ttl[@]}" $NATLAB_SYNC_ARGS >"$KH_TMP/watch.log" 2>&1 &
	NATLAB_PID=$!
	# The first side's round is over when R holds its record.
	wait_for "kh r peers show wg0 $(wg_pub "$first" wg0) >/dev/null 2>&1" 10 ||
		fail "$ka/$kb: $first's first sync round did not reach R"
	t0=${EPOCHREALTIME/./}
	kh "$second" peers sync wg0 -j "${ttl[@]}" $NATLAB_SYNC_ARGS \
		>"$KH_TMP/sync.log" 2>&1 ||
		fail "$ka/$kb: $second's sync failed: $(cat "$KH_TMP/sync.log")"
	if ns a ping -c 1 -i 0.2 -w "${NATLAB_WAIT_S:-10}" -W 1 198.51.100.131 \
		>/dev/null 2>&1; then
		t1=${EPOCHREALTIME/./}
		NATLAB_MS=$(( (t1 - t0) / 1000 ))
		NATLAB_PATH=direct
		case $(nat_wg_endpoint a b) in
		"$NAT_R4:51820" | 198.51.100.2:51820) NATLAB_PATH=relayed ;;
		*)
			! grep -q '"path":"birthday"' "$KH_TMP/watch.log" \
				"$KH_TMP/sync.log" || NATLAB_PATH=birthday
			;;
		esac
	fi
}

# natlab_pair_end: stop the --watch side of the last natlab_pair.
natlab_pair_end() {
	kill "$NATLAB_PID" 2>/dev/null || true
	wait "$NATLAB_PID" 2>/dev/null || true
}

# natlab_iperf BYTES: TCP from A to B through the tunnel; prints Mbit/s.
natlab_iperf() {
	ns b iperf3 -s -1 -D -I "$KH_TMP/iperf.pid" >/dev/null
	wait_for "grep -q :5201 <<<\"\$(ns b ss -ltn)\"" 5 || fail "no iperf3 server in B"
	ns a iperf3 -c 198.51.100.131 -n "$1" -J |
		jq '.end.sum_received.bits_per_second / 1e6 * 10 | floor / 10'
}
