// SPDX-License-Identifier: GPL-2.0
/*
 * Safe starts.  A router whose WAN input accepts new packets makes a
 * connection tracking entry for the first packet a far peer sends to the
 * public port of the peer behind it; that peer's own mapping toward the far
 * peer then collides with the entry and moves to another port, which the
 * far side's NAT drops.  So the side that starts first holds: its packets
 * to the peer leave with a TTL that opens its own NAT and dies before the
 * far one, until the far side's first packet arrives (the far side was told
 * by the reflector that it may send) or the hold runs out.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/skbuff.h>
#include <net/ip.h>
#include "kh.h"

/* The slot for @lport, @to: the same, else a free or run-out one. */
static struct kh_start *find_slot(struct kh_net *kn, __be16 lport,
				  const struct kh_endpoint *to, bool any)
{
	struct kh_start *free_slot = NULL;
	int i;

	for (i = 0; i < KH_MAX_STARTS; i++) {
		struct kh_start *s = &kn->starts[i];

		if (s->lport == lport && kh_endpoint_eq(&s->to, to))
			return s;
		if (any && !free_slot &&
		    (!s->lport || time_after_eq(jiffies, s->until)))
			free_slot = s;
	}
	return free_slot;
}

static void release(struct kh_net *kn, struct kh_start *s)
{
	memset(s, 0, sizeof(*s));
	WRITE_ONCE(kn->nr_starts, kn->nr_starts - 1);
}

int kh_start_add(struct kh_net *kn, __be16 lport, const struct kh_endpoint *to,
		 u8 ttl, u32 hold_ms)
{
	struct kh_start *s;
	int ret = 0;

	spin_lock_bh(&kn->probe_lock);
	s = find_slot(kn, lport, to, true);
	if (!s) {
		ret = -ENOSPC;
	} else {
		if (!s->lport)
			WRITE_ONCE(kn->nr_starts, kn->nr_starts + 1);
		s->to = *to;
		if (s->to.addr.sa_family == AF_INET6)
			s->to.addr6.sin6_scope_id = 0;
		s->lport = lport;
		s->ttl = ttl;
		s->until = jiffies + msecs_to_jiffies(hold_ms);
	}
	spin_unlock_bh(&kn->probe_lock);
	return ret;
}

/*
 * A packet from @from arrived on @lport (or a birthday pair with it was
 * found): a start toward it is over.
 */
void kh_start_rx(struct kh_net *kn, __be16 lport,
		 const struct kh_endpoint *from)
{
	struct kh_start *s;

	spin_lock_bh(&kn->probe_lock);
	s = find_slot(kn, lport, from, false);
	if (s) {
		release(kn, s);
		kh_stat_inc(kn, KH_STAT_START_RELEASED);
	}
	spin_unlock_bh(&kn->probe_lock);
}

/* The TTL for a packet from @lport to @to: 0 if it goes as it is. */
static u8 start_ttl(struct kh_net *kn, __be16 lport,
		    const struct kh_endpoint *to)
{
	struct kh_start *s;
	u8 ttl = 0;

	spin_lock_bh(&kn->probe_lock);
	s = find_slot(kn, lport, to, false);
	if (s) {
		if (time_after_eq(jiffies, s->until))
			release(kn, s);
		else
			ttl = s->ttl;
	}
	spin_unlock_bh(&kn->probe_lock);
	return ttl;
}

/* A packet from @sport to @to leaves: clamp its TTL while a start holds. */
void kh_start_tx(struct kh_net *kn, struct sk_buff *skb, __be16 sport,
		 const struct kh_endpoint *to)
{
	unsigned int nhoff = skb_network_offset(skb);
	u8 ttl = start_ttl(kn, sport, to);

	if (!ttl)
		return;
	if (to->addr.sa_family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		if (iph->ttl <= ttl ||
		    skb_ensure_writable(skb, nhoff + sizeof(*iph)))
			return;
		iph = ip_hdr(skb);
		csum_replace2(&iph->check, htons(iph->ttl << 8),
			      htons(ttl << 8));
		iph->ttl = ttl;
	} else {
		if (ipv6_hdr(skb)->hop_limit <= ttl ||
		    skb_ensure_writable(skb, nhoff + sizeof(struct ipv6hdr)))
			return;
		ipv6_hdr(skb)->hop_limit = ttl;
	}
	kh_stat_inc(kn, KH_STAT_START_CLAMPED);
}

void kh_start_flush(struct kh_net *kn)
{
	spin_lock_bh(&kn->probe_lock);
	memset(kn->starts, 0, sizeof(kn->starts));
	WRITE_ONCE(kn->nr_starts, 0);
	spin_unlock_bh(&kn->probe_lock);
}
