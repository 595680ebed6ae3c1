// SPDX-License-Identifier: GPL-2.0
/*
 * The in-band relay.  When two peers cannot reach each other directly, each
 * asks a reflector (under the mesh key) to relay between them and points
 * WireGuard's endpoint of the other at the reflector's WireGuard port.  Here
 * the reflector forwards WireGuard's own packets, still encrypted, from that
 * port: it never sees the plaintext and needs no port of its own.
 *
 * A handshake initiation names its responder only through its mac1, a MAC
 * keyed by a hash of the responder's public key: one that matches a peer
 * the sender asked us to relay to is forwarded, and its sender index
 * remembered.  The response names that index (its receiver index) and
 * brings the responder's; cookie replies and data messages name the
 * receiver's index.  So a session is a receiver index plus the endpoint its
 * packets come from, and where they go.  Everything else on the port goes
 * to our own WireGuard, as before.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/udp.h>
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_queue.h>
#include "kh.h"

/* WireGuard's messages, as its messages.h lays them out. */
#define WG_INITIATION		1
#define WG_RESPONSE		2
#define WG_COOKIE		3
#define WG_DATA			4
#define WG_INITIATION_LEN	148
#define WG_RESPONSE_LEN		92
#define WG_COOKIE_LEN		64
#define WG_DATA_MIN_LEN		32
#define WG_MAC1_LEN		16
#define WG_MAC1_LABEL		"mac1----"
/* The bytes the mac1 covers: everything before it. */
#define WG_INITIATION_MAC1_OFF	116

/* A keypair lives at most REJECT_AFTER_TIME (180 s): its index no longer. */
#define SESSION_TTL_S		200

/* An index as it stands in the message: only ever compared. */
static __le32 get_index(const u8 *p)
{
	__le32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

void kh_relay_init(struct kh_net *kn)
{
	spin_lock_init(&kn->relay_lock);
	kn->relay_rate = KH_RELAY_DEFAULT_RATE;
}

static bool grant_live(const struct kh_relay_grant *g)
{
	return g->lport && time_before(jiffies, g->expires);
}

static void grant_free(struct kh_net *kn, struct kh_relay_grant *g)
{
	memzero_explicit(g, sizeof(*g));
	WRITE_ONCE(kn->nr_grants, kn->nr_grants - 1);
}

static struct kh_relay_grant *grant_find(struct kh_net *kn, __be16 lport,
					 const u8 *who, const u8 *peer)
{
	int i;

	for (i = 0; i < KH_MAX_GRANTS; i++) {
		struct kh_relay_grant *g = &kn->grants[i];

		if (g->lport == lport && !memcmp(g->who, who, KH_KEY_LEN) &&
		    !memcmp(g->peer, peer, KH_KEY_LEN))
			return g;
	}
	return NULL;
}

/*
 * @who, at @flow's remote end, asks for a relay to @peer: granted (for
 * KH_RELAY_GRANT_S, renewed by asking again) when we hold a record of
 * @peer.  Live grants are never pushed out: with every slot taken the
 * request is refused.  True when the relay is ready: @peer asked too.
 */
bool kh_relay_grant(struct kh_net *kn, const struct kh_flow *flow,
		    const u8 *who, const u8 *peer)
{
	struct kh_relay_grant *g, *d, *free_slot = NULL;
	struct blake2s_ctx st;
	u8 mac1_key[KH_KEY_LEN];
	struct kh_record rec;
	bool ready = false;
	int i;

	if (!memcmp(who, peer, KH_KEY_LEN) || !kh_records_get(kn, peer, &rec)) {
		kh_stat_inc(kn, KH_STAT_RELAY_REFUSED);
		return false;
	}
	/* WireGuard's cookie.c: BLAKE2s-256("mac1----" || public key). */
	blake2s_init(&st, KH_KEY_LEN);
	blake2s_update(&st, WG_MAC1_LABEL, sizeof(WG_MAC1_LABEL) - 1);
	blake2s_update(&st, peer, KH_KEY_LEN);
	blake2s_final(&st, mac1_key);

	spin_lock_bh(&kn->relay_lock);
	g = grant_find(kn, flow->lport, who, peer);
	for (i = 0; !g && i < KH_MAX_GRANTS && !free_slot; i++) {
		struct kh_relay_grant *c = &kn->grants[i];

		if (!c->lport)
			free_slot = c;
		else if (!grant_live(c))
			free_slot = c;
	}
	if (!g && free_slot) {
		g = free_slot;
		if (!g->lport)
			WRITE_ONCE(kn->nr_grants, kn->nr_grants + 1);
		memset(g, 0, sizeof(*g));
		memcpy(g->who, who, KH_KEY_LEN);
		memcpy(g->peer, peer, KH_KEY_LEN);
		memcpy(g->mac1_key, mac1_key, KH_KEY_LEN);
		g->lport = flow->lport;
		g->tokens = kn->relay_rate;
		g->refill_ns = ktime_get_ns();
	}
	if (g) {
		/* Where it asks from is where its packets come from. */
		g->from = flow->remote;
		if (g->from.addr.sa_family == AF_INET6)
			g->from.addr6.sin6_scope_id = 0;
		g->expires = jiffies + KH_RELAY_GRANT_S * HZ;
		d = grant_find(kn, flow->lport, peer, who);
		ready = d && grant_live(d);
	}
	spin_unlock_bh(&kn->relay_lock);
	memzero_explicit(mac1_key, sizeof(mac1_key));
	kh_stat_inc(kn, g ? KH_STAT_RELAY_GRANTED : KH_STAT_RELAY_REFUSED);
	return ready;
}

/*
 * Grants that ran out, freed at most once a second: while any is left,
 * every packet on a watched port pays for the relay's lookups.
 */
static void reap(struct kh_net *kn)
{
	int i;

	if (time_before(jiffies, kn->relay_reap))
		return;
	kn->relay_reap = jiffies + HZ;
	for (i = 0; i < KH_MAX_GRANTS; i++)
		if (kn->grants[i].lport && !grant_live(&kn->grants[i]))
			grant_free(kn, &kn->grants[i]);
}

/* Stop relaying between @who and @peer, both ways. */
void kh_relay_end(struct kh_net *kn, __be16 lport, const u8 *who,
		  const u8 *peer)
{
	struct kh_relay_grant *g;

	spin_lock_bh(&kn->relay_lock);
	g = grant_find(kn, lport, who, peer);
	if (g)
		grant_free(kn, g);
	g = grant_find(kn, lport, peer, who);
	if (g)
		grant_free(kn, g);
	spin_unlock_bh(&kn->relay_lock);
}

/* @key's record is gone: so is every relay to or from its peer. */
void kh_relay_forget(struct kh_net *kn, const u8 *key)
{
	int i;

	spin_lock_bh(&kn->relay_lock);
	for (i = 0; i < KH_MAX_GRANTS; i++) {
		struct kh_relay_grant *g = &kn->grants[i];

		if (g->lport && (!memcmp(g->who, key, KH_KEY_LEN) ||
				 !memcmp(g->peer, key, KH_KEY_LEN)))
			grant_free(kn, g);
	}
	spin_unlock_bh(&kn->relay_lock);
}

void kh_relay_flush(struct kh_net *kn)
{
	spin_lock_bh(&kn->relay_lock);
	memzero_explicit(kn->grants, sizeof(kn->grants));
	memset(kn->sessions, 0, sizeof(kn->sessions));
	WRITE_ONCE(kn->nr_grants, 0);
	spin_unlock_bh(&kn->relay_lock);
}

u32 kh_relay_rate(struct kh_net *kn)
{
	return READ_ONCE(kn->relay_rate);
}

void kh_relay_set_rate(struct kh_net *kn, u32 rate)
{
	spin_lock_bh(&kn->relay_lock);
	kn->relay_rate = rate;
	spin_unlock_bh(&kn->relay_lock);
}

/* May @g's peer send @len more bytes?  A bucket of one second's worth. */
static bool charge(struct kh_net *kn, struct kh_relay_grant *g, u32 len)
{
	u64 now = ktime_get_ns(), gap = now - g->refill_ns, add;

	/* A second refills it whole; less, in proportion (no overflow). */
	add = gap >= NSEC_PER_SEC ? kn->relay_rate :
	      div_u64(gap * kn->relay_rate, NSEC_PER_SEC);
	if (add) {
		g->tokens = min_t(u64, g->tokens + add, kn->relay_rate);
		g->refill_ns = now;
	}
	if (g->tokens < len)
		return false;
	g->tokens -= len;
	return true;
}

static void session_add(struct kh_net *kn, __le32 index, __be16 lport,
			const struct kh_endpoint *from,
			const struct kh_endpoint *to, int src, int dst)
{
	struct kh_relay_session *slot = &kn->sessions[0];
	int i;

	for (i = 0; i < KH_MAX_RELAY_SESSIONS; i++) {
		struct kh_relay_session *s = &kn->sessions[i];

		if (!s->lport || time_after_eq(jiffies, s->expires)) {
			slot = s;
			break;
		}
		if (time_before(s->expires, slot->expires))
			slot = s;
	}
	slot->index = index;
	slot->lport = lport;
	slot->from = *from;
	slot->to = *to;
	slot->src = src;
	slot->dst = dst;
	slot->expires = jiffies + SESSION_TTL_S * HZ;
}

/* The live session for packets to @index from @from, or NULL. */
static struct kh_relay_session *session_find(struct kh_net *kn, __le32 index,
					     __be16 lport,
					     const struct kh_endpoint *from)
{
	int i;

	for (i = 0; i < KH_MAX_RELAY_SESSIONS; i++) {
		struct kh_relay_session *s = &kn->sessions[i];

		if (s->index == index && s->lport == lport &&
		    time_before(jiffies, s->expires) &&
		    kh_endpoint_eq(&s->from, from))
			return s;
	}
	return NULL;
}

/* Both grants of a session still stand for the endpoints it joins. */
static bool session_granted(struct kh_net *kn,
			    const struct kh_relay_session *s)
{
	const struct kh_relay_grant *src = &kn->grants[s->src];
	const struct kh_relay_grant *dst = &kn->grants[s->dst];

	return grant_live(src) && grant_live(dst) &&
	       kh_endpoint_eq(&src->from, &s->from) &&
	       kh_endpoint_eq(&dst->from, &s->to);
}

/*
 * An initiation from @from: to a peer that @from's sender asked us to
 * relay to?  Then where to, and the session for the answer.  -1: not one
 * to relay (our own WireGuard's), else a KH_STAT_ to count it under, or 0.
 */
static int relay_initiation(struct kh_net *kn, const u8 *msg, __be16 lport,
			    const struct kh_endpoint *from,
			    struct kh_endpoint *to)
{
	u8 mac1[WG_MAC1_LEN];
	int i;

	for (i = 0; i < KH_MAX_GRANTS; i++) {
		struct kh_relay_grant *g = &kn->grants[i];
		struct kh_relay_grant *d;

		if (g->lport != lport || !grant_live(g) ||
		    !kh_endpoint_eq(&g->from, from))
			continue;
		blake2s(g->mac1_key, KH_KEY_LEN, msg, WG_INITIATION_MAC1_OFF,
			mac1, WG_MAC1_LEN);
		if (crypto_memneq(mac1, msg + WG_INITIATION_MAC1_OFF,
				  WG_MAC1_LEN))
			continue;
		/* For that peer: has it asked for us too? */
		d = grant_find(kn, lport, g->peer, g->who);
		if (!d || !grant_live(d))
			return KH_STAT_RELAY_NO_PEER;
		if (!charge(kn, g, WG_INITIATION_LEN))
			return KH_STAT_RELAY_LIMITED;
		*to = d->from;
		/* The response comes from d's peer to the sender's index. */
		session_add(kn, get_index(msg + 4), lport, to, from,
			    d - kn->grants, i);
		return 0;
	}
	return -1;
}

/*
 * A response, cookie reply or data message from @from to @index: relayed
 * along its session, if it has one.  Same returns as relay_initiation().
 */
static int relay_session(struct kh_net *kn, const u8 *msg, u32 len,
			 __le32 index, __be16 lport,
			 const struct kh_endpoint *from, struct kh_endpoint *to)
{
	struct kh_relay_session *s = session_find(kn, index, lport, from);

	if (!s)
		return -1;
	if (!session_granted(kn, s)) {
		/* The relay was ended or ran out: so is the session. */
		memset(s, 0, sizeof(*s));
		return -1;
	}
	if (!charge(kn, &kn->grants[s->src], len))
		return KH_STAT_RELAY_LIMITED;
	*to = s->to;
	/* A response sets up the index for the other way. */
	if (msg[0] == WG_RESPONSE)
		session_add(kn, get_index(msg + 4), lport, to, from, s->dst,
			    s->src);
	return 0;
}

/*
 * A packet for the watched port that is not a probe.  NF_ACCEPT leaves it to
 * WireGuard; a relayed one is sent on from the same port and stolen.
 */
unsigned int kh_relay_rx(struct kh_net *kn, struct sk_buff *skb,
			 unsigned int uoff, const struct nf_hook_state *state,
			 u8 pf)
{
	u8 buf[WG_INITIATION_LEN];
	const struct udphdr *uh;
	struct kh_flow out = {};
	struct kh_endpoint from;
	const u8 *msg;
	u32 len, ulen;
	int verdict;

	if (likely(!READ_ONCE(kn->nr_grants)))
		return NF_ACCEPT;
	if (!pskb_may_pull(skb, uoff + sizeof(*uh)))
		return NF_ACCEPT;
	uh = (const struct udphdr *)(skb->data + uoff);
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) + 4 || ulen > skb->len - uoff)
		return NF_ACCEPT;
	len = ulen - sizeof(*uh);
	msg = skb_header_pointer(skb, uoff + sizeof(*uh),
				 min_t(u32, len, sizeof(buf)), buf);
	if (!msg || msg[1] || msg[2] || msg[3])
		return NF_ACCEPT;
	switch (msg[0]) {
	case WG_INITIATION:
		if (len != WG_INITIATION_LEN)
			return NF_ACCEPT;
		break;
	case WG_RESPONSE:
		if (len != WG_RESPONSE_LEN)
			return NF_ACCEPT;
		break;
	case WG_COOKIE:
		if (len != WG_COOKIE_LEN)
			return NF_ACCEPT;
		break;
	case WG_DATA:
		if (len < WG_DATA_MIN_LEN)
			return NF_ACCEPT;
		break;
	default:
		return NF_ACCEPT;
	}

	out.lport = uh->dest;
	kh_skb_endpoint(skb, uh, true, &from);

	spin_lock_bh(&kn->relay_lock);
	if (msg[0] == WG_INITIATION)
		verdict = relay_initiation(kn, msg, out.lport, &from,
					   &out.remote);
	else
		/* The receiver index: after the sender's in a response. */
		verdict = relay_session(kn, msg, len,
					get_index(msg + (msg[0] == WG_RESPONSE ?
							 8 : 4)),
					out.lport, &from, &out.remote);
	if (verdict < 0)
		reap(kn);
	spin_unlock_bh(&kn->relay_lock);
	if (verdict < 0)
		return NF_ACCEPT;
	if (verdict) {
		kh_stat_inc(kn, verdict);
		return NF_DROP;
	}

	if (nf_checksum(skb, state->hook, uoff, IPPROTO_UDP, pf)) {
		kh_stat_inc(kn, KH_STAT_DROP_CSUM);
		return NF_DROP;
	}
	if (!pskb_may_pull(skb, uoff + ulen)) {
		kh_stat_inc(kn, KH_STAT_DROP_MALFORMED);
		return NF_DROP;
	}
	/* From the address it came to, when the way on is the same family. */
	if (pf == NFPROTO_IPV4 && out.remote.addr.sa_family == AF_INET)
		out.local4.s_addr = ip_hdr(skb)->daddr;
	else if (pf == NFPROTO_IPV6 && out.remote.addr.sa_family == AF_INET6)
		out.local6 = ipv6_hdr(skb)->daddr;
	if (kh_socket_send(kn, &out, skb->data + uoff + sizeof(*uh), len)) {
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
	} else {
		kh_stat_inc(kn, KH_STAT_RELAY_PACKETS);
		this_cpu_add(kn->stats->v[KH_STAT_RELAY_BYTES], len);
	}
	consume_skb(skb);
	return NF_STOLEN;
}
