# SPDX-License-Identifier: GPL-2.0
#
# Sourced after lib.sh: the NAT topology of DESIGN.md, built in namespaces.
#
#   A 192.0.2.2   --lan-- NAT1 (WAN 203.0.113.1)  --+
#                                                   +-- wan router --- R 198.51.100.1
#   B 192.0.2.66  --lan-- NAT2 (WAN 203.0.113.2)  --+
#
# IPv6 alike: LANs 2001:db8:a::/64 and 2001:db8:b::/64, NAT WANs
# 2001:db8:ffff::1 and ::2, R 2001:db8:ff00::1.  The NATs are home routers:
# masquerade out of the WAN, forward only established/related in, and drop
# new packets from the WAN to the router itself.  Tunnel addresses:
# R 198.51.100.129, A .130, B .131 (/25), every WireGuard port 51820.
#
#   nat_world                 wan router and R
#   nat_site X NATNS N        NAT router NATNS with public .N, host X behind it
#                             (X=a: LAN 192.0.2.0/26; X=b: 192.0.2.64/26)
#   nat_wg_r / nat_wg_host X  WireGuard on R / on X (peer R with R's endpoint;
#                             no keepalive, so nothing is sent until asked)
#   nat_wg_link X Y           X and Y know each other as peers, no endpoint
#   nat_show_syncs HOST... [-- NS...]  for a failure: sync logs, endpoints, counters
#   nat_watch HOST... [-- ARGS...]     "khctl peers sync wg0 --watch -j ARGS" in each

# Namespaces: r, wan, nat1, nat2, a, b.
NAT_R4=198.51.100.1
NAT_R6=2001:db8:ff00::1

# Namespaces without IPv6 duplicate address detection, so that addresses
# work at once.
nat_ns() {
	local n

	for n in "$@"; do
		ns "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
}

nat_world() {
	nat_ns wan r
	veth wan r0 r eth0
	ip -n "$(ns_name wan)" addr add 198.51.100.126/25 dev r0
	ip -n "$(ns_name wan)" addr add 2001:db8:ff00::254/64 dev r0 nodad
	ip -n "$(ns_name r)" addr add "$NAT_R4/25" dev eth0
	ip -n "$(ns_name r)" addr add "$NAT_R6/64" dev eth0 nodad
	ip -n "$(ns_name r)" route add default via 198.51.100.126
	ip -n "$(ns_name r)" -6 route add default via 2001:db8:ff00::254
	ns wan sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# nat_site HOST NATNS N: the NAT's WAN gets 203.0.113.N and 2001:db8:ffff::N.
nat_site() {
	local h=$1 n=$2 i=$3 lan4 gw4 host4 lan6

	case $h in
	a) gw4=192.0.2.1 host4=192.0.2.2 lan6=2001:db8:a ;;
	b) gw4=192.0.2.65 host4=192.0.2.66 lan6=2001:db8:b ;;
	*) fail "nat_site: unknown host $h" ;;
	esac
	lan4=26
	nat_ns "$n" "$h"
	# The WAN link is point to point: the router's side answers for
	# 198.51.100.126 and fe80::254.
	veth wan "n$i" "$n" wan
	ip -n "$(ns_name wan)" route add "203.0.113.$i/32" dev "n$i"
	ip -n "$(ns_name wan)" -6 addr add fe80::254/64 dev "n$i" nodad
	ip -n "$(ns_name wan)" -6 route add "2001:db8:ffff::$i/128" dev "n$i"
	ip -n "$(ns_name "$n")" addr add "203.0.113.$i/32" dev wan
	ip -n "$(ns_name "$n")" route add 198.51.100.126/32 dev wan
	ip -n "$(ns_name "$n")" route add default via 198.51.100.126 dev wan
	ip -n "$(ns_name "$n")" addr add "2001:db8:ffff::$i/128" dev wan nodad
	ip -n "$(ns_name "$n")" -6 route add default via fe80::254 dev wan

	veth "$n" lan "$h" eth0
	ip -n "$(ns_name "$n")" addr add "$gw4/$lan4" dev lan
	ip -n "$(ns_name "$n")" addr add "$lan6::1/64" dev lan nodad
	ip -n "$(ns_name "$h")" addr add "$host4/$lan4" dev eth0
	ip -n "$(ns_name "$h")" addr add "$lan6::2/64" dev eth0 nodad
	ip -n "$(ns_name "$h")" route add default via "$gw4"
	ip -n "$(ns_name "$h")" -6 route add default via "$lan6::1"
	ns "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	nat_home_rules "$n"
}

# nat_home_rules NATNS: a home router's rules, its WAN device "wan".
nat_home_rules() {
	ns "$1" nft -f - <<-NFT
	table inet nat {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "wan" masquerade
		}
	}
	table inet filter {
		chain forward {
			type filter hook forward priority filter; policy accept;
			iifname "wan" ct state established,related accept
			iifname "wan" drop
		}
		chain input {
			type filter hook input priority filter; policy accept;
			iifname "wan" ct state new drop
		}
	}
	NFT
}

# nat_uplink2: a second uplink for A, eth1 behind NAT3 (203.0.113.3), a
# home router too, with a default route of higher metric than eth0's
# (IPv4 only): when eth0 goes down, A's packets leave through NAT3.
nat_uplink2() {
	nat_ns nat3
	veth wan n3 nat3 wan
	ip -n "$(ns_name wan)" route add 203.0.113.3/32 dev n3
	ip -n "$(ns_name nat3)" addr add 203.0.113.3/32 dev wan
	ip -n "$(ns_name nat3)" route add 198.51.100.126/32 dev wan
	ip -n "$(ns_name nat3)" route add default via 198.51.100.126 dev wan
	veth nat3 lan a eth1
	ip -n "$(ns_name nat3)" addr add 192.0.2.129/26 dev lan
	ip -n "$(ns_name a)" addr add 192.0.2.130/26 dev eth1
	ip -n "$(ns_name a)" route add default via 192.0.2.129 metric 100
	ns nat3 sysctl -qw net.ipv4.ip_forward=1
	nat_home_rules nat3
}

nat_wg_r() {
	wg_dev r wg0 51820 198.51.100.129/25
}

# nat_wg_host X: X's wg0 with R as its one peer with an endpoint.
nat_wg_host() {
	local h=$1 addr

	case $h in
	a) addr=198.51.100.130 ;;
	b) addr=198.51.100.131 ;;
	esac
	wg_dev "$h" wg0 51820 "$addr/25"
	wg_peer "$h" wg0 r wg0 198.51.100.129/32 "$NAT_R4:51820"
	wg_peer r wg0 "$h" wg0 "$addr/32"
}

# nat_watch HOST... [-- ARGS...]: "khctl peers sync wg0 --watch -j ARGS..."
# in each HOST, in the background, its output in $KH_TMP/HOST.log (what
# nat_show_syncs shows); whatever runs in the namespaces ends at exit.
nat_watch() {
	local hosts=() n

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		hosts+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	for n in "${hosts[@]}"; do
		ns "$n" "$KHCTL" peers sync wg0 --watch -j "$@" >"$KH_TMP/$n.log" 2>&1 &
	done
}

# nat_show_syncs HOST... [-- NS...]: for a failure, each HOST's sync log
# ($KH_TMP/HOST.log, its last lines) and WireGuard endpoints, then each
# NS's module counters.
nat_show_syncs() {
	local n hosts=1

	for n in "$@"; do
		if [ "$n" = -- ]; then
			hosts=0
		elif [ "$hosts" = 1 ]; then
			echo "-- $n's sync"; tail -n 20 "$KH_TMP/$n.log"
			echo "-- $n"; ns "$n" wg show wg0 endpoints
		else
			echo "-- $n: counters"; kh "$n" status -j | jq -c '.counters'
		fi
	done
}

# nat_wg_link A B: A and B are each other's peers, endpoints unknown.
nat_wg_link() {
	wg_peer a wg0 b wg0 198.51.100.131/32
	wg_peer b wg0 a wg0 198.51.100.130/32
}

# nat_reflect_pair: R, and A behind NAT1, both watching their WireGuard
# port; no mesh key.
nat_reflect_pair() {
	nat_world
	nat_site a nat1 1
	nat_wg_r
	nat_wg_host a
	kh r reflect enable wg0 >/dev/null
	kh a reflect enable wg0 >/dev/null
}

# nat_mesh: the whole picture with a mesh key on R, A and B, every port
# watched; A and B know each other as peers, without endpoints.
nat_mesh() {
	nat_world
	nat_site a nat1 1
	nat_site b nat2 2
	nat_mesh_wg
}

# nat_mesh_wg: once R, A and B are placed, WireGuard on each with one mesh
# key, and A and B peers of each other without endpoints.
nat_mesh_wg() {
	local n

	nat_wg_r
	nat_wg_host a
	nat_wg_host b
	nat_wg_link
	"$KHCTL" key generate >"$KH_TMP/mesh.key"
	for n in r a b; do
		kh "$n" key set wg0 "$KH_TMP/mesh.key" >/dev/null
	done
}

# nat_reset ROUTER...: the mesh as nat_mesh_wg left it: no records, no
# process in A or B, A and B peers again without endpoints, and no
# connection tracking on the NAT routers named.
nat_reset() {
	local n

	for n in a b; do ns_kill_all "$(ns_name "$n")"; done
	for n in a b r; do kh "$n" peers flush >/dev/null; done
	ns a wg set wg0 peer "$(wg_pub b wg0)" remove
	ns b wg set wg0 peer "$(wg_pub a wg0)" remove
	nat_wg_link
	for n in "$@"; do
		ns "$n" conntrack -F >/dev/null 2>&1 || true
	done
}

# nat_wg_endpoint X PEER: X's WireGuard endpoint for PEER (a, b or r).
nat_wg_endpoint() {
	ns "$1" wg show wg0 endpoints |
		awk -v k="$(wg_pub "$2" wg0)" '$1 == k { print $2 }'
}

# nat_direct_counter: count what the WAN forwards between NAT1 and NAT2.
nat_direct_counter() {
	ns wan nft -f - <<-NFT
	table inet direct {
		chain forward {
			type filter hook forward priority filter; policy accept;
			ip saddr 203.0.113.1 ip daddr 203.0.113.2 counter
			ip saddr 203.0.113.2 ip daddr 203.0.113.1 counter
		}
	}
	NFT
}

# nat_direct_packets: packets forwarded so far between NAT1 and NAT2.
nat_direct_packets() {
	ns wan nft -j list table inet direct |
		jq '[.nftables[].rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}
