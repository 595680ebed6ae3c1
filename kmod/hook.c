// SPDX-License-Identifier: GPL-2.0
/*
 * Netfilter hooks on the watched WireGuard ports.  They sit in front of every
 * packet the namespace receives, so the path for anything that is not a
 * probe is a few loads and compares.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/slab.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_queue.h>
#include "kh.h"

/* The slot of @port, or -1. */
static int port_slot(const struct kh_net *kn, __be16 port)
{
	int i;

	/* Port 0 marks a free slot. */
	if (unlikely(!port))
		return -1;
	for (i = 0; i < KH_MAX_WATCHES; i++)
		if (READ_ONCE(kn->ports[i]) == port)
			return i;
	return -1;
}

/*
 * A UDP datagram to a watched port.  One that starts with the magic is
 * ours: check it whole, hand it over and consume it.  Any other is
 * WireGuard's, which the relay may forward or steal first (its verdict,
 * NF_ACCEPT when it leaves it to WireGuard).
 */
static unsigned int rx(struct kh_net *kn, struct sk_buff *skb,
		       unsigned int uoff, const struct nf_hook_state *state,
		       u8 pf)
{
	const struct udphdr *uh;
	struct kh_flow flow = {};
	unsigned int ulen;
	__be32 magic, *mp;

	mp = skb_header_pointer(skb, uoff + sizeof(*uh), sizeof(magic),
				&magic);
	if (!mp || *mp != htonl(KH_PROBE_MAGIC))
		return kh_relay_rx(kn, skb, uoff, state, pf);

	if (!pskb_may_pull(skb, uoff + sizeof(*uh)))
		goto malformed;
	uh = (const struct udphdr *)(skb->data + uoff);
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > skb->len - uoff ||
	    ulen - sizeof(*uh) > KH_PROBE_MAX_LEN ||
	    !pskb_may_pull(skb, uoff + ulen))
		goto malformed;
	/* A zero UDP checksum over IPv4 means none (RFC 768), as udp.c takes it. */
	if ((pf != NFPROTO_IPV4 || uh->check) &&
	    nf_checksum(skb, state->hook, uoff, IPPROTO_UDP, pf)) {
		kh_stat_inc(kn, KH_STAT_DROP_CSUM);
		return NF_DROP;
	}
	/* Answers only go back to the one host that asked. */
	if (skb->pkt_type != PACKET_HOST)
		goto malformed;

	uh = (const struct udphdr *)(skb->data + uoff);
	flow.lport = uh->dest;
	kh_skb_endpoint(skb, uh, true, &flow.remote);
	if (pf == NFPROTO_IPV4) {
		flow.local4.s_addr = ip_hdr(skb)->daddr;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		flow.remote.addr6.sin6_scope_id =
			ipv6_iface_scope_id(&ip6h->saddr, skb->skb_iif);
		flow.local6 = ip6h->daddr;
	}
	kh_reflect_rx(kn, &flow, (const u8 *)(uh + 1), ulen - sizeof(*uh));
	consume_skb(skb);
	return NF_STOLEN;

malformed:
	kh_stat_inc(kn, KH_STAT_DROP_MALFORMED);
	return NF_DROP;
}

/*
 * Where the UDP datagram @skb (its header @uh) comes from (@src) or goes to,
 * by its IP header.
 */
void kh_skb_endpoint(const struct sk_buff *skb, const struct udphdr *uh,
		     bool src, struct kh_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ip_hdr(skb)->version == 4) {
		const struct iphdr *iph = ip_hdr(skb);

		ep->addr4.sin_family = AF_INET;
		ep->addr4.sin_addr.s_addr = src ? iph->saddr : iph->daddr;
		ep->addr4.sin_port = src ? uh->source : uh->dest;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		ep->addr6.sin6_family = AF_INET6;
		ep->addr6.sin6_addr = src ? ip6h->saddr : ip6h->daddr;
		ep->addr6.sin6_port = src ? uh->source : uh->dest;
	}
}

/*
 * Is @port watched (0), the second port of a watched one (1), or neither
 * (-1)?  One pass over the slots: every UDP datagram the host receives
 * comes through here.
 */
static int watched(const struct kh_net *kn, __be16 port)
{
	int i, ret = -1;
	__be16 w;

	if (unlikely(!port))
		return -1;
	for (i = 0; i < KH_MAX_WATCHES; i++) {
		w = READ_ONCE(kn->ports[i]);
		if (w == port)
			return 0;	/* watched itself, even if next to one */
		if (w && kh_alt_port(w) == port)
			ret = 1;
	}
	return ret;
}

/*
 * Is @uh, to the second port of a watched one, a plain probe request?  It
 * is answered from there; anything else to that port is not ours.
 */
static bool alt_request(struct sk_buff *skb, unsigned int uoff,
			const struct udphdr *uh)
{
	u8 _hdr[5];
	const u8 *hdr;
	__be32 magic;

	hdr = skb_header_pointer(skb, uoff + sizeof(*uh), sizeof(_hdr), _hdr);
	if (!hdr)
		return false;
	memcpy(&magic, hdr, sizeof(magic));
	return magic == htonl(KH_PROBE_MAGIC) && hdr[4] == KH_PROBE_REQUEST;
}

/* A UDP datagram whose header is at @uoff arrives. */
static unsigned int hook_in(struct kh_net *kn, struct sk_buff *skb,
			    unsigned int uoff,
			    const struct nf_hook_state *state, u8 pf)
{
	struct kh_endpoint from;
	struct udphdr _uh;
	const struct udphdr *uh;

	uh = skb_header_pointer(skb, uoff, sizeof(_uh), &_uh);
	if (!uh)
		return NF_ACCEPT;
	/* Before the port check: it may be for a birthday pair's socket. */
	if (unlikely(READ_ONCE(kn->nr_binds))) {
		if (kh_bday_in(kn, skb, uoff, pf, uh)) {
			uh = skb_header_pointer(skb, uoff, sizeof(_uh), &_uh);
			if (!uh)
				return NF_ACCEPT;
		}
	}
	switch (watched(kn, uh->dest)) {
	case 0:
		break;
	case 1:
		return alt_request(skb, uoff, uh) ?
		       rx(kn, skb, uoff, state, pf) : NF_ACCEPT;
	default:
		return NF_ACCEPT;
	}
	if (unlikely(READ_ONCE(kn->nr_starts))) {
		kh_skb_endpoint(skb, uh, true, &from);
		kh_start_rx(kn, uh->dest, &from);
	}
	return rx(kn, skb, uoff, state, pf);
}

static unsigned int kh_hook4(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	if (ip_hdr(skb)->protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	return hook_in(priv, skb, skb_network_offset(skb) + ip_hdrlen(skb),
		       state, NFPROTO_IPV4);
}

/* Probes never carry extension headers; what does is left to WireGuard. */
static unsigned int kh_hook6(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	if (ipv6_hdr(skb)->nexthdr != IPPROTO_UDP)
		return NF_ACCEPT;
	return hook_in(priv, skb,
		       skb_network_offset(skb) + sizeof(struct ipv6hdr),
		       state, NFPROTO_IPV6);
}

/* A UDP datagram whose header is at @uoff leaves. */
static unsigned int hook_out(struct kh_net *kn, struct sk_buff *skb,
			     unsigned int uoff, u8 pf)
{
	struct kh_endpoint to;
	struct udphdr _uh;
	const struct udphdr *uh;

	uh = skb_header_pointer(skb, uoff, sizeof(_uh), &_uh);
	if (!uh || port_slot(kn, uh->source) < 0)
		return NF_ACCEPT;
	if (READ_ONCE(kn->nr_starts)) {
		kh_skb_endpoint(skb, uh, false, &to);
		kh_start_tx(kn, skb, uh->source, &to);
		/* It may have made the header writable, moving it. */
		uh = skb_header_pointer(skb, uoff, sizeof(_uh), &_uh);
		if (!uh)
			return NF_ACCEPT;
	}
	if (READ_ONCE(kn->nr_binds))
		kh_bday_out(kn, skb, uoff, pf, uh);
	return NF_ACCEPT;
}

/*
 * Outgoing: only while a safe start holds or a birthday pair is found does
 * a UDP packet from a watched port cost more than a load.
 */
static unsigned int kh_out4(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct kh_net *kn = priv;

	if (likely(!READ_ONCE(kn->nr_starts) && !READ_ONCE(kn->nr_binds)) ||
	    ip_hdr(skb)->protocol != IPPROTO_UDP)
		return NF_ACCEPT;
	return hook_out(kn, skb, skb_network_offset(skb) + ip_hdrlen(skb),
			NFPROTO_IPV4);
}

static unsigned int kh_out6(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct kh_net *kn = priv;

	if (likely(!READ_ONCE(kn->nr_starts) && !READ_ONCE(kn->nr_binds)) ||
	    ipv6_hdr(skb)->nexthdr != IPPROTO_UDP)
		return NF_ACCEPT;
	return hook_out(kn, skb,
			skb_network_offset(skb) + sizeof(struct ipv6hdr),
			NFPROTO_IPV6);
}

void kh_hook_init(struct kh_net *kn)
{
	/* After the filter table, so that the host's firewall still rules. */
	kn->hook_ops[0] = (struct nf_hook_ops) {
		.hook = kh_hook4,
		.priv = kn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP_PRI_FILTER + 1,
	};
	kn->hook_ops[1] = (struct nf_hook_ops) {
		.hook = kh_hook6,
		.priv = kn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = NF_IP6_PRI_FILTER + 1,
	};
	/*
	 * Before connection tracking: a birthday rewrite's port is the one
	 * it tracks, as it does on the way in (after it, in LOCAL_IN).
	 */
	kn->hook_ops[2] = (struct nf_hook_ops) {
		.hook = kh_out4,
		.priv = kn,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_CONNTRACK - 1,
	};
	kn->hook_ops[3] = (struct nf_hook_ops) {
		.hook = kh_out6,
		.priv = kn,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_CONNTRACK - 1,
	};
}

static int nr_watches(const struct kh_net *kn)
{
	int i, n = 0;

	for (i = 0; i < KH_MAX_WATCHES; i++)
		n += !!kn->watches[i].port;
	return n;
}

/*
 * Watch @port for @ifindex.  A watch of the same interface under an older
 * port moves to the new one and keeps its mesh key: the listen port of a
 * WireGuard device may change, the mesh it belongs to does not.
 */
int kh_hook_watch(struct kh_net *kn, __be16 port, int ifindex,
		  const char *ifname, u32 fwmark)
{
	struct kh_watch *w = NULL, *same_if = NULL, *free_slot = NULL;
	int i, ret = 0;

	mutex_lock(&kn->lock);
	for (i = 0; i < KH_MAX_WATCHES; i++) {
		struct kh_watch *c = &kn->watches[i];

		if (c->port == port)
			w = c;
		else if (c->port && c->ifindex == ifindex && !same_if)
			same_if = c;
		else if (!c->port && !free_slot)
			free_slot = c;
	}
	w = w ?: same_if ?: free_slot;
	if (!w) {
		ret = -ENOSPC;
		goto out;
	}
	if (!kn->hooked) {
		ret = kh_ratelimit_prepare(kn);
		if (ret)
			goto out;
		ret = nf_register_net_hooks(kn->net, kn->hook_ops,
					    ARRAY_SIZE(kn->hook_ops));
		if (ret)
			goto out;
		kn->hooked = true;
	}
	w->port = port;
	w->ifindex = ifindex;
	strscpy(w->ifname, ifname ?: "", sizeof(w->ifname));
	WRITE_ONCE(kn->marks[w - kn->watches], fwmark);
	WRITE_ONCE(kn->ports[w - kn->watches], port);
out:
	mutex_unlock(&kn->lock);
	return ret;
}

static void key_free_rcu(struct rcu_head *rcu)
{
	kfree_sensitive(container_of(rcu, struct kh_key, rcu));
}

static void replace_key(struct kh_net *kn, int slot, struct kh_key *key)
{
	struct kh_key *old;

	old = rcu_replace_pointer(kn->keys[slot], key,
				  lockdep_is_held(&kn->lock));
	if (old)
		call_rcu(&old->rcu, key_free_rcu);
}

int kh_hook_unwatch(struct kh_net *kn, __be16 port)
{
	int i, ret = -ENOENT;

	mutex_lock(&kn->lock);
	for (i = 0; i < KH_MAX_WATCHES; i++) {
		if (kn->watches[i].port != port)
			continue;
		memset(&kn->watches[i], 0, sizeof(kn->watches[i]));
		WRITE_ONCE(kn->ports[i], 0);
		WRITE_ONCE(kn->nat[i], 0);
		WRITE_ONCE(kn->marks[i], 0);
		replace_key(kn, i, NULL);
		ret = 0;
		break;
	}
	/* Its sessions need its key and port: they go with it. */
	if (!ret)
		kh_bday_flush(kn, port);
	if (!ret && kn->hooked && !nr_watches(kn)) {
		nf_unregister_net_hooks(kn->net, kn->hook_ops,
					ARRAY_SIZE(kn->hook_ops));
		kn->hooked = false;
		/* Nothing watched, nothing held: a later watch starts clean. */
		kh_start_flush(kn);
		kh_relay_flush(kn);
	}
	mutex_unlock(&kn->lock);
	return ret;
}

/* A zero key removes the port's key.  The old one is wiped when freed. */
int kh_hook_set_key(struct kh_net *kn, __be16 port, const u8 *key)
{
	struct kh_key *k = NULL;
	int slot;

	if (memchr_inv(key, 0, KH_KEY_LEN)) {
		k = kmalloc(sizeof(*k), GFP_KERNEL);
		if (!k)
			return -ENOMEM;
		memcpy(k->key, key, KH_KEY_LEN);
	}
	mutex_lock(&kn->lock);
	slot = port_slot(kn, port);
	if (slot >= 0)
		replace_key(kn, slot, k);
	mutex_unlock(&kn->lock);
	if (slot < 0) {
		kfree_sensitive(k);
		return -ENOENT;
	}
	return 0;
}

bool kh_hook_is_watched(struct kh_net *kn, __be16 port)
{
	return port_slot(kn, port) >= 0;
}

bool kh_hook_has_key(struct kh_net *kn, __be16 port)
{
	int slot = port_slot(kn, port);

	return slot >= 0 && rcu_access_pointer(kn->keys[slot]);
}

void kh_hook_set_nat(struct kh_net *kn, __be16 port, u8 nat)
{
	int slot;

	mutex_lock(&kn->lock);
	slot = port_slot(kn, port);
	if (slot >= 0)
		WRITE_ONCE(kn->nat[slot], nat & KH_RECORD_F_NAT);
	mutex_unlock(&kn->lock);
}

u8 kh_hook_nat(struct kh_net *kn, __be16 port)
{
	int slot = port_slot(kn, port);

	return slot >= 0 ? READ_ONCE(kn->nat[slot]) : 0;
}

/*
 * The fwmark of @port's WireGuard device: what the module sends from the
 * port carries it, as WireGuard's own packets do, so that a policy that
 * routes unmarked packets into the tunnel (wg-quick's full tunnel) lets
 * ours out beside WireGuard's.
 */
u32 kh_hook_mark(struct kh_net *kn, __be16 port)
{
	int slot = port_slot(kn, port);

	return slot >= 0 ? READ_ONCE(kn->marks[slot]) : 0;
}

/* The WireGuard device of @port, 0 if not watched; may sleep. */
int kh_hook_ifindex(struct kh_net *kn, __be16 port)
{
	int slot, ifindex = 0;

	mutex_lock(&kn->lock);
	slot = port_slot(kn, port);
	if (slot >= 0)
		ifindex = kn->watches[slot].ifindex;
	mutex_unlock(&kn->lock);
	return ifindex;
}

/* The mesh key of @port; under rcu_read_lock(). */
const struct kh_key *kh_hook_key(struct kh_net *kn, __be16 port)
{
	int slot = port_slot(kn, port);

	return slot < 0 ? NULL : rcu_dereference(kn->keys[slot]);
}

void kh_hook_exit(struct kh_net *kn)
{
	int i;

	if (kn->hooked)
		nf_unregister_net_hooks(kn->net, kn->hook_ops,
					ARRAY_SIZE(kn->hook_ops));
	kn->hooked = false;
	mutex_lock(&kn->lock);
	for (i = 0; i < KH_MAX_WATCHES; i++)
		replace_key(kn, i, NULL);
	mutex_unlock(&kn->lock);
}
