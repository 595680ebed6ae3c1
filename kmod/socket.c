// SPDX-License-Identifier: GPL-2.0
/*
 * Sending probes and answers with the WireGuard listen port as source port,
 * so that they take the very NAT mapping WireGuard's own packets take.
 */
#include <linux/net.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/udp_tunnel.h>
#include "kh.h"

/*
 * The sockets are never bound: nothing is ever received on them, they only
 * give the IP layer a socket of this namespace to send from.
 */
int kh_socket_init(struct kh_net *kn)
{
	int ret;

	ret = sock_create_kern(kn->net, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
			       &kn->sock4);
	if (ret)
		return ret;
	if (ipv6_mod_enabled() &&
	    sock_create_kern(kn->net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			     &kn->sock6))
		kn->sock6 = NULL;
	return 0;
}

void kh_socket_exit(struct kh_net *kn)
{
	if (kn->sock6)
		sock_release(kn->sock6);
	sock_release(kn->sock4);
}

static struct sk_buff *alloc_payload(const void *data, size_t len)
{
	unsigned int head = MAX_HEADER + sizeof(struct ipv6hdr) +
			    sizeof(struct udphdr);
	struct sk_buff *skb;

	skb = alloc_skb(head + len, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, head);
	skb_put_data(skb, data, len);
	return skb;
}

static int send4(struct kh_net *kn, const struct kh_flow *flow,
		 struct sk_buff *skb)
{
	struct flowi4 fl = {
		.saddr = flow->local4.s_addr,
		.daddr = flow->remote.addr4.sin_addr.s_addr,
		.fl4_sport = flow->lport,
		.fl4_dport = flow->remote.addr4.sin_port,
		.flowi4_mark = skb->mark,
		.flowi4_proto = IPPROTO_UDP,
	};
	struct sock *sk = kn->sock4->sk;
	struct rtable *rt;

	rt = ip_route_output_flow(kn->net, &fl, sk);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt);
	}
	udp_tunnel_xmit_skb(rt, sk, skb, fl.saddr, fl.daddr, 0,
			    flow->ttl ?: ip4_dst_hoplimit(&rt->dst), 0, fl.fl4_sport,
			    fl.fl4_dport, false, false, 0);
	return 0;
}

static int send6(struct kh_net *kn, const struct kh_flow *flow,
		 struct sk_buff *skb)
{
	struct flowi6 fl = {
		.saddr = flow->local6,
		.daddr = flow->remote.addr6.sin6_addr,
		.fl6_sport = flow->lport,
		.fl6_dport = flow->remote.addr6.sin6_port,
		.flowi6_oif = flow->remote.addr6.sin6_scope_id,
		.flowi6_mark = skb->mark,
		.flowi6_proto = IPPROTO_UDP,
	};
	struct dst_entry *dst;
	struct sock *sk;

	if (!kn->sock6) {
		kfree_skb(skb);
		return -EAFNOSUPPORT;
	}
	sk = kn->sock6->sk;
	dst = ip6_dst_lookup_flow(kn->net, sk, &fl, NULL);
	if (IS_ERR(dst)) {
		kfree_skb(skb);
		return PTR_ERR(dst);
	}
	/* Its return value differs between kernels and means nothing here. */
	udp_tunnel6_xmit_skb(dst, sk, skb, NULL, &fl.saddr, &fl.daddr, 0,
			     flow->ttl ?: ip6_dst_hoplimit(dst), 0, fl.fl6_sport,
			     fl.fl6_dport, false, 0);
	return 0;
}

/* Send @data from @flow->lport (and local address, if set) to the remote. */
int kh_socket_send(struct kh_net *kn, const struct kh_flow *flow,
		   const void *data, size_t len)
{
	struct sk_buff *skb;
	int ret;

	skb = alloc_payload(data, len);
	if (!skb)
		return -ENOMEM;
	/* in the route lookup and on the packet, as WireGuard's socket.c */
	skb->mark = flow->mark ?: kh_hook_mark(kn, flow->lport);
	local_bh_disable();
	if (flow->remote.addr.sa_family == AF_INET)
		ret = send4(kn, flow, skb);
	else
		ret = send6(kn, flow, skb);
	local_bh_enable();
	return ret;
}
