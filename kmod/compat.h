/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every API difference between the kernels kh_reflect builds for (5.10 to
 * 7.3), each handled once.  Kbuild force-includes this file and tests the
 * headers for the COMPAT_* macros.  The module is written against the newest
 * API; an entry gives it to the older kernels.
 */
#ifndef _KH_COMPAT_H
#define _KH_COMPAT_H

#include <net/genetlink.h>
#include <net/udp_tunnel.h>
#include <crypto/blake2s.h>

/* 6.0: the check also tells tools which attribute is missing. */
#ifndef GENL_REQ_ATTR_CHECK
#define GENL_REQ_ATTR_CHECK(info, attr) (!(info)->attrs[attr])
#endif

/*
 * 6.7 and 6.1.y: a multicast group of its own flag for CAP_NET_ADMIN.
 * 5.10.y's backport of that check reads GENL_UNS_ADMIN_PERM there.
 */
#ifndef GENL_MCAST_CAP_NET_ADMIN
#define GENL_MCAST_CAP_NET_ADMIN GENL_UNS_ADMIN_PERM
#endif

/*
 * 6.2: split ops, where a command's do and dump are entries of their own,
 * each with its policy: kmod/netlink-gen.c is a table of them.  Before,
 * struct genl_ops has the members it sets (a policy per op from 5.10) and
 * takes the table as it is, as the family's ops, as long as no command has
 * both a do and a dump: it would be in the table twice, and the family would
 * not register.  The flags GENL_CMD_CAP_DO and _DUMP of each entry are UAPI
 * bits that the older cores report for an op anyway.
 */
#ifdef COMPAT_GENL_NO_SPLIT_OPS
#define genl_split_ops genl_ops
#define split_ops ops
#define n_split_ops n_ops
#endif

/*
 * After 6.1: a policy's range is const.  The generated policies' ranges are;
 * 5.10 and 6.1 only read them through a pointer that is not.
 */
#ifdef COMPAT_NLA_RANGE_NOT_CONST
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),			\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#endif

/* 6.17: the UDP tunnel xmit helpers take the IP control block's flags. */
#ifdef COMPAT_UDP_TUNNEL_NO_IPCB_FLAGS
#define udp_tunnel_xmit_skb(rt, sk, skb, src, dst, tos, ttl, df, sport,	\
			    dport, xnet, nocheck, ipcb_flags)		\
	((void)(ipcb_flags),						\
	 udp_tunnel_xmit_skb(rt, sk, skb, src, dst, tos, ttl, df, sport,	\
			     dport, xnet, nocheck))
#define udp_tunnel6_xmit_skb(dst, sk, skb, dev, saddr, daddr, prio, ttl, \
			     label, sport, dport, nocheck, ip6cb_flags)	\
	((void)(ip6cb_flags),						\
	 udp_tunnel6_xmit_skb(dst, sk, skb, dev, saddr, daddr, prio, ttl, \
			      label, sport, dport, nocheck))
#endif

/* 7.0: a UDP tunnel socket is set up from its struct sock. */
#ifdef COMPAT_SETUP_UDP_TUNNEL_SOCKET
#define setup_udp_tunnel_sock(net, sk, cfg)				\
	setup_udp_tunnel_sock(net, (sk)->sk_socket, cfg)
#endif

/*
 * 7.x (not in 6.12): lib/crypto's BLAKE2s takes key, message and digest,
 * each followed by its length, and its context is struct blake2s_ctx.
 */
#ifdef COMPAT_BLAKE2S_STATE
#define blake2s_ctx blake2s_state
#define blake2s(key, keylen, in, inlen, out, outlen)			\
	blake2s(out, in, key, outlen, inlen, keylen)
#endif

/*
 * No entry for IPv6 routing: 7.x has no ipv6_stub, and ip6_dst_lookup_flow()
 * is exported on every kernel here.
 */

#endif /* _KH_COMPAT_H */
