// SPDX-License-Identifier: GPL-2.0
/*
 * Reflection: answer probe requests with the address they came from, send
 * probes on request, match answers to the probes that were sent, and, under
 * the mesh key, trade peer endpoint records.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <net/ipv6.h>
#include "kh.h"
#include "probe.h"

#define MAX_PUSH	8	/* askers told of one change */
#define COOKIE_SECRET_S	120	/* a cookie is good for two to four minutes */

static void ep_to_addr(const struct kh_endpoint *ep, struct kh_probe_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ep->addr.sa_family == AF_INET) {
		a->family = KH_PF_OBSERVED_V4;
		memcpy(a->addr, &ep->addr4.sin_addr, 4);
		a->port = ntohs(ep->addr4.sin_port);
	} else {
		a->family = KH_PF_OBSERVED_V6;
		memcpy(a->addr, &ep->addr6.sin6_addr, 16);
		a->port = ntohs(ep->addr6.sin6_port);
	}
}

static void addr_to_ep(const struct kh_probe_addr *a, struct kh_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (a->family == KH_PF_OBSERVED_V4) {
		ep->addr4.sin_family = AF_INET;
		memcpy(&ep->addr4.sin_addr, a->addr, 4);
		ep->addr4.sin_port = htons(a->port);
	} else {
		ep->addr6.sin6_family = AF_INET6;
		memcpy(&ep->addr6.sin6_addr, a->addr, 16);
		ep->addr6.sin6_port = htons(a->port);
	}
}

void kh_reflect_put_mac(const struct kh_key *key, u8 *buf, size_t len)
{
	blake2s(key->key, KH_KEY_LEN, buf, len - KH_MAC_LEN,
		buf + len - KH_MAC_LEN, KH_MAC_LEN);
}

bool kh_reflect_mac_ok(const struct kh_key *key,
		       const struct kh_probe_msg *msg)
{
	u8 mac[KH_MAC_LEN];
	bool ok;

	if (!key || !msg->mac)
		return false;
	blake2s(key->key, KH_KEY_LEN, msg->buf, msg->len - KH_MAC_LEN, mac,
		KH_MAC_LEN);
	ok = !crypto_memneq(mac, msg->mac, KH_MAC_LEN);
	memzero_explicit(mac, sizeof(mac));
	return ok;
}

/*
 * Remember that @flow's sender wants @want, for a push when it changes, and
 * which endpoint of @want it was given (@given, or NULL).  A sender that
 * names its key (@who) has one slot per want wherever it asks from: a peer
 * whose mapping moved must not leave slots behind that take its pushes.
 */
static void remember_asker(struct kh_net *kn, const struct kh_flow *flow,
			   const u8 *who, const u8 *want,
			   const struct kh_endpoint *given)
{
	static const u8 nobody[KH_KEY_LEN];
	struct kh_asker *slot = NULL, *a;
	int i;

	if (!who)
		who = nobody;
	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_ASKERS; i++) {
		a = &kn->askers[i];
		if (a->lport == flow->lport &&
		    !memcmp(a->want, want, KH_KEY_LEN) &&
		    !memcmp(a->who, who, KH_KEY_LEN) &&
		    (who != nobody ||
		     kh_endpoint_eq(&a->asker, &flow->remote))) {
			slot = a;
			break;
		}
		if (!slot || !a->lport ||
		    (slot->lport && time_before(a->expires, slot->expires)))
			slot = a;
	}
	memcpy(slot->want, want, KH_KEY_LEN);
	memcpy(slot->who, who, KH_KEY_LEN);
	slot->asker = flow->remote;
	slot->lport = flow->lport;
	if (given)
		slot->given = *given;
	else
		memset(&slot->given, 0, sizeof(slot->given));
	slot->expires = jiffies + KH_ASKER_TTL_S * HZ;
	spin_unlock_bh(&kn->probe_lock);
}

/*
 * Was the peer at @peer, which asks on @lport, given @ep as the endpoint of
 * @key, while it still asks?  Then it holds its first packets toward @ep
 * (a safe start) and waits for @key's side to send first.
 */
static bool waiting_for(struct kh_net *kn, __be16 lport,
			const struct kh_endpoint *peer, const u8 *key,
			const struct kh_endpoint *ep)
{
	bool ret = false;
	int i;

	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_ASKERS; i++) {
		const struct kh_asker *a = &kn->askers[i];

		if (a->lport == lport && time_before(jiffies, a->expires) &&
		    kh_endpoint_eq(&a->asker, peer) &&
		    !memcmp(a->want, key, KH_KEY_LEN) &&
		    kh_endpoint_eq(&a->given, ep)) {
			ret = true;
			break;
		}
	}
	spin_unlock_bh(&kn->probe_lock);
	return ret;
}

void kh_reflect_init(struct kh_net *kn)
{
	spin_lock_init(&kn->cookie_lock);
	get_random_bytes(kn->cookie_secret, sizeof(kn->cookie_secret));
	kn->cookie_born = jiffies;
}

void kh_reflect_exit(struct kh_net *kn)
{
	int i;

	for (i = 0; i < KH_MAX_PENDING; i++) {
		kfree(kn->pending[i].req);
		kn->pending[i].req = NULL;
	}
	memzero_explicit(kn->cookie_secret, sizeof(kn->cookie_secret));
}

/* The cookie secrets, now and the one before, a new one when it is time. */
static void cookie_secrets(struct kh_net *kn, u8 out[2][KH_KEY_LEN])
{
	spin_lock_bh(&kn->cookie_lock);
	if (time_after_eq(jiffies, kn->cookie_born + COOKIE_SECRET_S * HZ)) {
		memcpy(kn->cookie_secret[1], kn->cookie_secret[0], KH_KEY_LEN);
		get_random_bytes(kn->cookie_secret[0], KH_KEY_LEN);
		kn->cookie_born = jiffies;
	}
	memcpy(out, kn->cookie_secret, sizeof(kn->cookie_secret));
	spin_unlock_bh(&kn->cookie_lock);
}

/* The cookie of @flow's sender under @secret: its address, its port, ours. */
static void cookie_of(const u8 *secret, const struct kh_flow *flow, u8 *out)
{
	struct kh_probe_addr a;
	u8 in[1 + 16 + 2 + 2];

	ep_to_addr(&flow->remote, &a);
	memset(in, 0, sizeof(in));
	in[0] = a.family;
	memcpy(in + 1, a.addr, sizeof(a.addr));
	in[17] = a.port >> 8;
	in[18] = a.port & 0xff;
	memcpy(in + 19, &flow->lport, 2);
	blake2s(secret, KH_KEY_LEN, in, sizeof(in), out, KH_COOKIE_LEN);
}

/*
 * Does @req carry the cookie of the address it came from?  @fresh gets the
 * one to give it now.
 */
static bool cookie_ok(struct kh_net *kn, const struct kh_flow *flow,
		      const struct kh_probe_msg *req, u8 *fresh)
{
	u8 secrets[2][KH_KEY_LEN], old[KH_COOKIE_LEN];
	bool ok = false;

	cookie_secrets(kn, secrets);
	cookie_of(secrets[0], flow, fresh);
	if (req->cookie) {
		ok = !crypto_memneq(fresh, req->cookie, KH_COOKIE_LEN);
		if (!ok) {
			cookie_of(secrets[1], flow, old);
			ok = !crypto_memneq(old, req->cookie, KH_COOKIE_LEN);
		}
	}
	memzero_explicit(secrets, sizeof(secrets));
	return ok;
}

/*
 * Under load: does @req carry the cookie of the address it came from?  Two
 * small hashes, before the MAC: an address proved within minutes.
 */
static bool proven(struct kh_net *kn, const struct kh_flow *flow,
		   const struct kh_probe_msg *req)
{
	u8 fresh[KH_COOKIE_LEN];

	return (req->flags & KH_PROBE_F_AUTH) && req->cookie &&
	       cookie_ok(kn, flow, req, fresh);
}

/* Under probe_lock: the slot of @reflector's cookie for @lport, or NULL. */
static struct kh_cookie *cookie_slot(struct kh_net *kn, __be16 lport,
				     const struct kh_endpoint *reflector,
				     bool take)
{
	struct kh_cookie *slot = NULL;
	int i;

	lockdep_assert_held(&kn->probe_lock);
	for (i = 0; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_cookie *c = &kn->cookies[i];

		if (c->lport == lport && kh_endpoint_eq(&c->reflector, reflector))
			return c;
		if (take && (!slot || !c->lport ||
			     (slot->lport && time_before(c->at, slot->at))))
			slot = c;
	}
	return slot;
}

/* Under probe_lock: keep the cookie @reflector gave us for @lport. */
static void keep_cookie(struct kh_net *kn, __be16 lport,
			const struct kh_endpoint *reflector, const u8 *cookie)
{
	struct kh_cookie *c = cookie_slot(kn, lport, reflector, true);

	c->reflector = *reflector;
	c->lport = lport;
	memcpy(c->cookie, cookie, KH_COOKIE_LEN);
	c->at = jiffies;
}

/*
 * The next KH_PF_SEQ of ours: wall-clock time, so that it keeps growing
 * across our reboots, and above the last one even if the clock steps back.
 */
u64 kh_reflect_next_seq(struct kh_net *kn)
{
	u64 now = ktime_get_real_ns(), last = atomic64_read(&kn->seq);

	for (;;) {
		u64 next = max(now, last + 1), seen;

		seen = atomic64_cmpxchg(&kn->seq, last, next);
		if (seen == last)
			return next;
		last = seen;
	}
}

/*
 * The sender of an authenticated request is where it came from.  False:
 * the request is a replay (its sequence no newer than one taken from that
 * key), and nothing of it may be used.
 */
static bool observe(struct kh_net *kn, const struct kh_flow *flow,
		    const struct kh_probe_msg *req)
{
	struct kh_record rec = {
		.endpoint = flow->remote,
		.lport = flow->lport,
		.source = KH_SOURCE_OBSERVED,
		.flags = req->nat & KH_RECORD_F_NAT,
		.confirmed = jiffies,
		.req_seq = req->seq,
	};

	memcpy(rec.key, req->pubkey, KH_KEY_LEN);
	if (rec.endpoint.addr.sa_family == AF_INET6)
		rec.endpoint.addr6.sin6_scope_id = 0;
	rec.nr_cands = req->nr_cands;
	memcpy(rec.cands, req->cands, sizeof(rec.cands));
	return kh_records_update(kn, &rec, 0) != -EALREADY;
}

/* Has a request of @req's sender as new as @req been taken already? */
static bool replayed(struct kh_net *kn, const struct kh_probe_msg *req)
{
	struct kh_record rec;

	return kh_records_get(kn, req->pubkey, &rec) && req->seq <= rec.req_seq;
}

/* The most one record takes in an answer: the record, its NAT, WAITING. */
#define KH_RECORD_ROOM	(3 * KH_PF_HDR_LEN + KH_PF_RECORD_V6_LEN + 1)

/*
 * @rec, its NAT and its candidates, each candidate only while @keep bytes
 * stay free after it (for the records still to come in the answer).
 */
static void put_record(struct kh_probe_writer *w, const struct kh_record *rec,
		       size_t keep)
{
	u8 nat = rec->flags & KH_RECORD_F_NAT;
	struct kh_probe_addr a;
	unsigned int i;

	ep_to_addr(&rec->endpoint, &a);
	kh_probe_put_record(w, rec->key, &a,
			    jiffies_to_msecs(jiffies - rec->confirmed) / 1000);
	if (nat)
		kh_probe_put(w, KH_PF_NAT, &nat, 1);
	for (i = 0; i < rec->nr_cands && i < KH_MAX_CANDS; i++) {
		size_t need = KH_PF_HDR_LEN + 2 +
			      kh_probe_addr_len(rec->cands[i].family);

		if (kh_probe_room(w) < need + keep)
			break;
		kh_probe_put_cand(w, &rec->cands[i]);
	}
}

/*
 * Answer a request.  With @key (the request's MAC verified) the answer is
 * authenticated and carries the records asked for; without, it is never
 * larger than the request.  A replayed request gets nothing; one from an
 * address its sender has not proved (no cookie for it) gets a cookie and
 * KH_PF_RETRY, and changes nothing.
 */
static void answer(struct kh_net *kn, const struct kh_flow *flow,
		   const struct kh_probe_msg *req, const struct kh_key *key)
{
	u8 small[KH_PROBE_REQ_MIN_LEN], *buf = small;
	size_t len, off = 0, cap = sizeof(small);
	u8 type, vlen, cookie[KH_COOKIE_LEN], left = req->nr_want;
	struct kh_probe_writer w;
	struct kh_probe_addr obs;
	bool retry = false;
	const u8 *val;
	int ret;

	/*
	 * Under the key a request says who sent it and when: without both
	 * it is answered as a plain probe; a replay is not answered at all.
	 */
	if (key && (!req->pubkey || !req->has_seq)) {
		kh_stat_inc(kn, KH_STAT_DROP_AUTH);
		key = NULL;
	}
	if (key && replayed(kn, req)) {
		kh_stat_inc(kn, KH_STAT_DROP_REPLAY);
		return;
	}
	if (key)
		retry = !cookie_ok(kn, flow, req, cookie);
	/* Taken on another CPU meanwhile: a replay too. */
	if (key && !retry && !observe(kn, flow, req)) {
		kh_stat_inc(kn, KH_STAT_DROP_REPLAY);
		return;
	}
	/* Only an authenticated answer may grow: keep softirq stack small. */
	if (key) {
		cap = KH_PROBE_MAX_LEN;
		buf = kmalloc(cap, GFP_ATOMIC);
		if (!buf) {
			kh_stat_inc(kn, KH_STAT_TX_ERRORS);
			return;
		}
	}
	kh_probe_start(&w, buf, cap, KH_PROBE_ANSWER,
		       key ? KH_PROBE_F_AUTH : 0, req->nonce);
	ep_to_addr(&flow->remote, &obs);
	kh_probe_put_observed(&w, &obs);
	/* A relay only for a sender that says who it is, under the key. */
	if ((req->relay || req->relay_end) && !key)
		kh_stat_inc(kn, KH_STAT_RELAY_REFUSED);
	if (key)
		kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	if (retry)
		kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	/* Where our updates to the asker begin: nothing older is taken. */
	if (key && !retry)
		kh_probe_put_seq(&w, kh_reflect_next_seq(kn));
	if (key && !retry) {
		if (req->relay_end)
			kh_relay_end(kn, flow->lport, req->pubkey,
				     req->relay_end);
		if (req->relay &&
		    kh_relay_grant(kn, flow, req->pubkey, req->relay))
			kh_probe_put(&w, KH_PF_RELAY, req->relay, KH_KEY_LEN);
		while (kh_probe_next_field(req, &off, &type, &val, &vlen)) {
			struct kh_record rec;

			if (type != KH_PF_WANT)
				continue;
			left--;
			if (!kh_records_get(kn, val, &rec)) {
				remember_asker(kn, flow, req->pubkey, val, NULL);
				continue;
			}
			remember_asker(kn, flow, req->pubkey, val,
				       &rec.endpoint);
			/* candidates only where every record still fits */
			put_record(&w, &rec,
				   KH_PF_HDR_LEN + left * KH_RECORD_ROOM);
			if (waiting_for(kn, flow->lport, &rec.endpoint,
					req->pubkey, &flow->remote))
				kh_probe_put(&w, KH_PF_WAITING, NULL, 0);
		}
	}
	len = kh_probe_finish(&w, 0);
	/* A retry goes to an address not proved yet: no larger either. */
	if (!len || ((!key || retry) && len > req->len)) {
		kh_stat_inc(kn, KH_STAT_DROP_AMPLIFY);
		goto out;
	}
	if (key)
		kh_reflect_put_mac(key, buf, len);
	if (key && req->alt_port) {
		/* From another port: does the asker's NAT let it in? */
		struct kh_flow alt = *flow;

		alt.lport = kh_alt_answer_port(flow->lport);
		ret = kh_socket_send(kn, &alt, buf, len);
	} else {
		ret = kh_socket_send(kn, flow, buf, len);
	}
	if (ret)
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
	else
		kh_stat_inc(kn, retry ? KH_STAT_TX_RETRIES :
				 KH_STAT_TX_ANSWERS);
out:
	if (buf != small)
		kfree(buf);
}

/*
 * Records from an authenticated answer or update of @flow's reflector; a
 * KH_PF_WAITING or KH_PF_NAT right after a record flags it, and the
 * KH_PF_CAND_* after it are its peer's own addresses.
 */
static void learn(struct kh_net *kn, const struct kh_flow *flow,
		  const struct kh_probe_msg *msg)
{
	struct kh_record rec;
	bool have = false;
	const u8 *val;
	size_t off = 0;
	u8 type, vlen;

	while (kh_probe_next_field(msg, &off, &type, &val, &vlen)) {
		struct kh_probe_record pr;

		if (type == KH_PF_WAITING && have) {
			rec.flags |= KH_RECORD_F_WAITING;
			continue;
		}
		if (type == KH_PF_NAT && have) {
			rec.flags |= val[0] & KH_RECORD_F_NAT;
			continue;
		}
		if ((type == KH_PF_CAND_V4 || type == KH_PF_CAND_V6) && have) {
			if (rec.nr_cands < KH_MAX_CANDS)
				kh_probe_decode_cand(type, val,
						     &rec.cands[rec.nr_cands++]);
			continue;
		}
		if (type != KH_PF_RECORD_V4 && type != KH_PF_RECORD_V6)
			continue;
		if (have)
			kh_records_update(kn, &rec, 0);
		kh_probe_decode_record(type, val, &pr);
		memset(&rec, 0, sizeof(rec));
		rec.reflector = flow->remote;
		rec.lport = flow->lport;
		rec.source = KH_SOURCE_LEARNED;
		memcpy(rec.key, pr.key, KH_KEY_LEN);
		addr_to_ep(&pr.addr, &rec.endpoint);
		rec.confirmed = jiffies -
			msecs_to_jiffies(min_t(u32, pr.age_s,
					       KH_REC_MAX_TTL_S) * 1000);
		have = true;
	}
	if (have)
		kh_records_update(kn, &rec, 0);
}

/*
 * Replace the result for the same port and reflector, else take a free slot,
 * else the oldest.  The last update sequence taken stays; a new slot begins
 * at @r's, the sequence of the answer: an update older than the answer,
 * captured before a reload or before the slot went to another reflector, is
 * not taken.
 */
static void store_reflection(struct kh_net *kn, const struct kh_reflection *r)
{
	struct kh_reflection *slot = &kn->reflections[0];
	int i;

	for (i = 0; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_reflection *s = &kn->reflections[i];

		if (s->lport == r->lport &&
		    kh_endpoint_eq(&s->reflector, &r->reflector)) {
			u64 seq = s->update_seq;

			*s = *r;
			s->update_seq = max(seq, r->update_seq);
			return;
		}
	}
	for (i = 0; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_reflection *s = &kn->reflections[i];

		if (!s->lport) {
			slot = s;
			break;
		}
		if (s->received_ns < slot->received_ns)
			slot = s;
	}
	*slot = *r;
}

/*
 * The answer to a request for an answer from another port comes from the
 * reflector's address and not from its port: a reflector that ignored the
 * request (no mesh key there) does not pass for one whose packet got in.
 */
static bool alt_from(const struct kh_endpoint *reflector,
		     const struct kh_endpoint *from)
{
	return kh_addr_eq(reflector, from) &&
	       !kh_endpoint_eq(reflector, from);
}

/*
 * The outstanding request @ans answers, under probe_lock: 0 and *@out, or
 * the counter to count @ans in (not sent from where the request went, a
 * replay, too late).
 */
static int match_pending(struct kh_net *kn, const struct kh_flow *flow,
			 const struct kh_endpoint *from,
			 const struct kh_probe_msg *ans, u64 now,
			 struct kh_pending **out)
{
	struct kh_pending *p = NULL;
	int i;

	lockdep_assert_held(&kn->probe_lock);
	for (i = 0; i < KH_MAX_PENDING; i++) {
		struct kh_pending *c = &kn->pending[i];

		if (c->state != KH_PENDING_FREE &&
		    !crypto_memneq(c->nonce, ans->nonce, KH_NONCE_LEN)) {
			p = c;
			break;
		}
	}
	/* Blind spoofing must guess the nonce, the reflector and the port. */
	if (!p || p->lport != flow->lport ||
	    !(p->alt ? alt_from(&p->reflector, from) :
		       kh_endpoint_eq(&p->reflector, from)))
		return KH_STAT_DROP_UNMATCHED;
	/* Answered already: a replay, however late it comes. */
	if (p->state == KH_PENDING_ANSWERED)
		return KH_STAT_DROP_REPLAY;
	if (now - p->sent_ns > KH_PENDING_TIMEOUT_MS * NSEC_PER_MSEC)
		return KH_STAT_DROP_UNMATCHED;
	*out = p;
	return 0;
}

/*
 * Send the authenticated request @old again to @reflector from @lport, with
 * @cookie and a new sequence.  Under rcu_read_lock().
 */
static void send_again(struct kh_net *kn, __be16 lport,
		       const struct kh_endpoint *reflector, const u8 *old,
		       size_t old_len, const u8 *cookie)
{
	struct kh_flow flow = { .remote = *reflector, .lport = lport };
	const struct kh_key *key = kh_hook_key(kn, lport);
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	size_t off = 0, len;
	u8 *buf, type, vlen;
	const u8 *val;

	if (!key || kh_probe_parse(old, old_len, &m) != KH_PROBE_OK)
		return;
	buf = kmalloc(KH_PROBE_MAX_LEN, GFP_ATOMIC);
	if (!buf) {
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
		return;
	}
	kh_probe_start(&w, buf, KH_PROBE_MAX_LEN, KH_PROBE_REQUEST,
		       KH_PROBE_F_AUTH, m.nonce);
	while (kh_probe_next_field(&m, &off, &type, &val, &vlen)) {
		if (type == KH_PF_PAD || type == KH_PF_MAC ||
		    type == KH_PF_SEQ || type == KH_PF_COOKIE)
			continue;
		kh_probe_put(&w, type, val, vlen);
	}
	kh_probe_put_seq(&w, kh_reflect_next_seq(kn));
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	if (len) {
		kh_reflect_put_mac(key, buf, len);
		if (kh_socket_send(kn, &flow, buf, len))
			kh_stat_inc(kn, KH_STAT_TX_ERRORS);
		else
			kh_stat_inc(kn, KH_STAT_TX_PROBES);
	}
	kfree(buf);
}

static void got_answer(struct kh_net *kn, const struct kh_flow *flow,
		       const struct kh_probe_msg *ans)
{
	struct kh_endpoint again_to;
	__be16 again_from = 0;
	u8 *req = NULL;
	u16 req_len = 0;
	struct kh_reflection r = {
		.reflector = flow->remote,
		.lport = flow->lport,
	};
	u64 now = ktime_get_ns();
	struct kh_pending *p;
	const u8 *relay = NULL;
	bool auth = false;
	int verdict;

	/* The scope only matters to send; it never takes part in matching. */
	if (r.reflector.addr.sa_family == AF_INET6)
		r.reflector.addr6.sin6_scope_id = 0;

	/* The cheap checks first, then the MAC, then the nonce is used up. */
	spin_lock_bh(&kn->probe_lock);
	verdict = match_pending(kn, flow, &r.reflector, ans, now, &p);
	spin_unlock_bh(&kn->probe_lock);
	if (verdict) {
		kh_stat_inc(kn, verdict);
		return;
	}
	/*
	 * A forged answer with a bad MAC must not use up the nonce, or the
	 * real answer that follows would be dropped as a replay.
	 */
	if (ans->flags & KH_PROBE_F_AUTH) {
		auth = kh_reflect_mac_ok(kh_hook_key(kn, flow->lport), ans);
		if (!auth) {
			kh_stat_inc(kn, KH_STAT_DROP_AUTH);
			return;
		}
	}

	spin_lock_bh(&kn->probe_lock);
	/* Taken meanwhile by the same answer on another CPU: a replay. */
	verdict = match_pending(kn, flow, &r.reflector, ans, now, &p);
	if (verdict) {
		spin_unlock_bh(&kn->probe_lock);
		kh_stat_inc(kn, verdict);
		return;
	}
	if (auth && ans->cookie)
		keep_cookie(kn, p->lport, &p->reflector, ans->cookie);
	/*
	 * Not taken: our address was not proved to the reflector.  Once
	 * more with the cookie it gave, and the request stays outstanding.
	 */
	if (ans->retry) {
		if (!p->retried) {
			req = p->req;
			req_len = p->req_len;
			p->req = NULL;
			p->retried = true;
			again_to = p->reflector;
			again_from = p->lport;
		}
		spin_unlock_bh(&kn->probe_lock);
		if (req)
			send_again(kn, again_from, &again_to, req, req_len,
				   ans->cookie);
		else
			kh_stat_inc(kn, KH_STAT_DROP_UNMATCHED);
		kfree(req);
		return;
	}
	p->state = KH_PENDING_ANSWERED;
	req = p->req;
	p->req = NULL;
	r.rtt_us = (u32)min_t(u64, div_u64(now - p->sent_ns, NSEC_PER_USEC),
			      U32_MAX);
	r.received_ns = now;
	if (auth && ans->has_seq)
		r.update_seq = ans->seq;
	addr_to_ep(&ans->observed, &r.endpoint);
	store_reflection(kn, &r);
	spin_unlock_bh(&kn->probe_lock);
	kfree(req);

	kh_stat_inc(kn, KH_STAT_RX_ANSWERS);
	if (auth) {
		learn(kn, flow, ans);
		relay = ans->relay;
	}
	kh_netlink_reflection_event(kn, &r, ans->nonce, auth, relay);
}

/*
 * Updates come only from a reflector we recently heard from on that port,
 * each with a higher sequence number than the last: 0 if @msg may be taken,
 * else the counter to count it in.
 */
static int check_update(struct kh_net *kn, const struct kh_flow *flow,
			const struct kh_probe_msg *msg)
{
	int verdict = KH_STAT_DROP_UNMATCHED;
	u64 now = ktime_get_ns();
	int i;

	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_reflection *r = &kn->reflections[i];

		if (r->lport != flow->lport ||
		    !kh_endpoint_eq(&r->reflector, &flow->remote) ||
		    now - r->received_ns >= KH_ASKER_TTL_S * NSEC_PER_SEC)
			continue;
		if (msg->seq <= r->update_seq) {
			verdict = KH_STAT_DROP_REPLAY;
		} else {
			r->update_seq = msg->seq;
			verdict = 0;
		}
		break;
	}
	spin_unlock_bh(&kn->probe_lock);
	return verdict;
}

static void got_update(struct kh_net *kn, const struct kh_flow *flow,
		       const struct kh_probe_msg *msg)
{
	int verdict;

	if (!kh_reflect_mac_ok(kh_hook_key(kn, flow->lport), msg)) {
		kh_stat_inc(kn, KH_STAT_DROP_AUTH);
		return;
	}
	verdict = check_update(kn, flow, msg);
	if (verdict) {
		kh_stat_inc(kn, verdict);
		return;
	}
	kh_stat_inc(kn, KH_STAT_RX_UPDATES);
	learn(kn, flow, msg);
}

/* Called from the hook, under rcu_read_lock(). */
void kh_reflect_rx(struct kh_net *kn, const struct kh_flow *flow,
		   const u8 *data, size_t len)
{
	const struct kh_key *key = NULL;
	struct kh_probe_msg msg;
	bool busy;

	switch (kh_probe_parse(data, len, &msg)) {
	case KH_PROBE_OK:
		break;
	case KH_PROBE_UNKNOWN_TYPE:
		kh_stat_inc(kn, KH_STAT_DROP_UNKNOWN_TYPE);
		return;
	default:
		kh_stat_inc(kn, KH_STAT_DROP_MALFORMED);
		return;
	}

	switch (msg.type) {
	case KH_PROBE_REQUEST:
		kh_stat_inc(kn, KH_STAT_RX_REQUESTS);
		/*
		 * Before the MAC: a flood must not buy BLAKE2s rounds.  Under
		 * load a proved address still gets through (a cookie costs
		 * two small hashes, the MAC one per 64 bytes).
		 */
		if (!kh_ratelimit_allow(kn, &flow->remote, &busy) &&
		    !(busy && proven(kn, flow, &msg))) {
			kh_stat_inc(kn, KH_STAT_DROP_RATELIMIT);
			break;
		}
		if (msg.flags & KH_PROBE_F_AUTH) {
			key = kh_hook_key(kn, flow->lport);
			if (!kh_reflect_mac_ok(key, &msg)) {
				kh_stat_inc(kn, KH_STAT_DROP_AUTH);
				key = NULL;
			}
		}
		answer(kn, flow, &msg, key);
		break;
	case KH_PROBE_ANSWER:
		got_answer(kn, flow, &msg);
		break;
	case KH_PROBE_UPDATE:
		got_update(kn, flow, &msg);
		break;
	case KH_PROBE_BIRTHDAY:
	case KH_PROBE_BIRTHDAY_ACK:
		kh_bday_rx(kn, flow, &msg);
		break;
	}
}

/*
 * Send a probe request from @lport to @reflector.  With @pubkey and a mesh
 * key on the port it is authenticated and asks for the @nr_wants keys that
 * stand back to back in @wants.  The nonce goes back to the caller, so that
 * it can tell its answer from others.
 */
int kh_reflect_probe(struct kh_net *kn, __be16 lport,
		     const struct kh_endpoint *reflector,
		     const struct kh_probe_ask *ask, u8 *nonce)
{
	struct kh_flow flow = { .remote = *reflector, .lport = lport };
	u8 *buf, *copy = NULL, nat, cookie[KH_COOKIE_LEN], nr_cands = 0;
	struct kh_probe_addr cands[KH_MAX_CANDS];
	struct kh_probe_writer w;
	struct kh_pending *slot;
	u64 now = ktime_get_ns();
	const struct kh_key *key;
	struct kh_cookie *c;
	bool has_cookie;
	unsigned int i;
	size_t len;
	int ret;

	buf = kmalloc(KH_PROBE_MAX_LEN, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (ask->pubkey)
		nr_cands = kh_cands_local(kn, lport, cands);
	get_random_bytes(nonce, KH_NONCE_LEN);
	spin_lock_bh(&kn->probe_lock);
	c = cookie_slot(kn, lport, reflector, false);
	has_cookie = c;
	if (c)
		memcpy(cookie, c->cookie, KH_COOKIE_LEN);
	spin_unlock_bh(&kn->probe_lock);

	rcu_read_lock();
	key = ask->pubkey ? kh_hook_key(kn, lport) : NULL;
	if ((ask->nr_wants || ask->alt || ask->relay || ask->relay_end) &&
	    !key) {
		rcu_read_unlock();
		kfree(buf);
		return -ENOKEY;
	}
	kh_probe_start(&w, buf, KH_PROBE_MAX_LEN, KH_PROBE_REQUEST,
		       key ? KH_PROBE_F_AUTH : 0, nonce);
	if (key) {
		kh_probe_put(&w, KH_PF_PUBKEY, ask->pubkey, KH_KEY_LEN);
		kh_probe_put_seq(&w, kh_reflect_next_seq(kn));
		if (has_cookie)
			kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
		for (i = 0; i < ask->nr_wants; i++)
			kh_probe_put(&w, KH_PF_WANT,
				     ask->wants + i * KH_KEY_LEN, KH_KEY_LEN);
		if (ask->alt)
			kh_probe_put(&w, KH_PF_ALT_PORT, NULL, 0);
		if (ask->relay)
			kh_probe_put(&w, KH_PF_RELAY, ask->relay, KH_KEY_LEN);
		if (ask->relay_end)
			kh_probe_put(&w, KH_PF_RELAY_END, ask->relay_end,
				     KH_KEY_LEN);
		nat = kh_hook_nat(kn, lport);
		if (nat)
			kh_probe_put(&w, KH_PF_NAT, &nat, 1);
		for (i = 0; i < nr_cands; i++)
			kh_probe_put_cand(&w, &cands[i]);
	}
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	if (len && key)
		kh_reflect_put_mac(key, buf, len);
	rcu_read_unlock();
	if (WARN_ON_ONCE(!len)) {
		kfree(buf);
		return -EINVAL;
	}
	/* Kept to send again if the reflector asks for a cookie. */
	if (key) {
		copy = kmemdup(buf, len, GFP_KERNEL);
		if (!copy) {
			kfree(buf);
			return -ENOMEM;
		}
	}

	/*
	 * A free slot, else the oldest: answered slots stay as long as they
	 * can, so that a replayed answer is known for one.
	 */
	spin_lock_bh(&kn->probe_lock);
	slot = &kn->pending[0];
	for (i = 0; i < KH_MAX_PENDING; i++) {
		struct kh_pending *c = &kn->pending[i];

		if (c->state == KH_PENDING_FREE) {
			slot = c;
			break;
		}
		if (c->sent_ns < slot->sent_ns)
			slot = c;
	}
	memcpy(slot->nonce, nonce, KH_NONCE_LEN);
	slot->reflector = *reflector;
	if (slot->reflector.addr.sa_family == AF_INET6)
		slot->reflector.addr6.sin6_scope_id = 0;
	slot->lport = lport;
	slot->alt = ask->alt;
	slot->retried = false;
	slot->sent_ns = now;
	slot->state = KH_PENDING_SENT;
	swap(slot->req, copy);
	slot->req_len = len;
	spin_unlock_bh(&kn->probe_lock);
	kfree(copy);

	ret = kh_socket_send(kn, &flow, buf, len);
	kfree(buf);
	if (ret) {
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
		return ret;
	}
	kh_stat_inc(kn, KH_STAT_TX_PROBES);
	return 0;
}

/* The records are gone: so is what the askers were given of them. */
void kh_reflect_forget_given(struct kh_net *kn)
{
	int i;

	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_ASKERS; i++)
		memset(&kn->askers[i].given, 0, sizeof(kn->askers[i].given));
	spin_unlock_bh(&kn->probe_lock);
}

/* The asker at @to, if it still asks for @rec->key, was pushed @rec. */
static void mark_given(struct kh_net *kn, const struct kh_flow *to,
		       const struct kh_record *rec)
{
	int i;

	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_ASKERS; i++) {
		struct kh_asker *a = &kn->askers[i];

		if (a->lport == to->lport &&
		    kh_endpoint_eq(&a->asker, &to->remote) &&
		    !memcmp(a->want, rec->key, KH_KEY_LEN))
			a->given = rec->endpoint;
	}
	spin_unlock_bh(&kn->probe_lock);
}

/* Tell those who asked for @rec->key where it is now. */
void kh_reflect_push(struct kh_net *kn, const struct kh_record *rec)
{
	struct kh_flow to[MAX_PUSH];
	struct kh_probe_writer w;
	u8 buf[KH_PROBE_PUSH_MAX_LEN];
	u8 nonce[KH_NONCE_LEN];
	int i, n = 0;

	BUILD_BUG_ON(KH_PROBE_PUSH_MAX_LEN > KH_PROBE_MAX_LEN);
	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_ASKERS && n < MAX_PUSH; i++) {
		struct kh_asker *a = &kn->askers[i];

		if (!a->lport || time_after(jiffies, a->expires) ||
		    memcmp(a->want, rec->key, KH_KEY_LEN) ||
		    kh_endpoint_eq(&a->asker, &rec->endpoint))
			continue;
		/* All of it: a stray local address or TTL would be used. */
		to[n] = (struct kh_flow){
			.remote = a->asker,
			.lport = a->lport,
		};
		n++;
	}
	spin_unlock_bh(&kn->probe_lock);

	for (i = 0; i < n; i++) {
		const struct kh_key *key;
		size_t len;

		get_random_bytes(nonce, sizeof(nonce));
		kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_UPDATE,
			       KH_PROBE_F_AUTH, nonce);
		kh_probe_put_seq(&w, kh_reflect_next_seq(kn));
		/*
		 * Never KH_PF_WAITING: whoever gets a push holds, and the
		 * answer to the request that caused it says so to the other.
		 */
		put_record(&w, rec, 0);
		len = kh_probe_finish(&w, 0);
		rcu_read_lock();
		key = kh_hook_key(kn, to[i].lport);
		if (key && len)
			kh_reflect_put_mac(key, buf, len);
		rcu_read_unlock();
		if (!key || !len)
			continue;
		if (kh_socket_send(kn, &to[i], buf, len)) {
			kh_stat_inc(kn, KH_STAT_TX_ERRORS);
			continue;
		}
		kh_stat_inc(kn, KH_STAT_TX_UPDATES);
		mark_given(kn, &to[i], rec);
	}
}
