// SPDX-License-Identifier: GPL-2.0
/*
 * Reflection: answer probe requests with the address they came from, send
 * probes on request, and match the answers to the probes that were sent.
 */
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/string.h>
#include <crypto/algapi.h>
#include <net/ipv6.h>
#include "kh.h"
#include "probe.h"

static bool endpoint_eq(const struct kh_endpoint *a, const struct kh_endpoint *b)
{
	if (a->addr.sa_family != b->addr.sa_family)
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_port == b->addr4.sin_port &&
		       a->addr4.sin_addr.s_addr == b->addr4.sin_addr.s_addr;
	return a->addr6.sin6_port == b->addr6.sin6_port &&
	       ipv6_addr_equal(&a->addr6.sin6_addr, &b->addr6.sin6_addr);
}

static void answer(struct kh_net *kn, const struct kh_flow *flow,
		   const struct kh_probe_msg *req)
{
	struct kh_probe_msg ans = { .type = KH_PROBE_ANSWER };
	u8 buf[KH_PROBE_REQ_MIN_LEN];
	size_t len;

	memcpy(ans.nonce, req->nonce, KH_NONCE_LEN);
	if (flow->remote.addr.sa_family == AF_INET) {
		ans.observed.family = KH_PF_OBSERVED_V4;
		memcpy(ans.observed.addr, &flow->remote.addr4.sin_addr, 4);
		ans.observed.port = ntohs(flow->remote.addr4.sin_port);
	} else {
		ans.observed.family = KH_PF_OBSERVED_V6;
		memcpy(ans.observed.addr, &flow->remote.addr6.sin6_addr, 16);
		ans.observed.port = ntohs(flow->remote.addr6.sin6_port);
	}
	len = kh_probe_build(buf, sizeof(buf), &ans, 0);
	/* Never send more than we were sent. */
	if (!len || len > req->len) {
		kh_stat_inc(kn, KH_STAT_DROP_AMPLIFY);
		return;
	}
	if (kh_socket_send(kn, flow, buf, len))
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
	else
		kh_stat_inc(kn, KH_STAT_TX_ANSWERS);
}

/*
 * Replace the result for the same port and reflector, else take a free slot,
 * else the oldest.
 */
static void store_reflection(struct kh_net *kn, const struct kh_reflection *r)
{
	struct kh_reflection *slot = &kn->reflections[0];
	int i;

	for (i = 0; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_reflection *s = &kn->reflections[i];

		if (s->lport == r->lport &&
		    endpoint_eq(&s->reflector, &r->reflector)) {
			*s = *r;
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

static void got_answer(struct kh_net *kn, const struct kh_flow *flow,
		       const struct kh_probe_msg *ans)
{
	struct kh_reflection r = {
		.reflector = flow->remote,
		.lport = flow->lport,
	};
	u64 now = ktime_get_ns();
	struct kh_pending *p = NULL;
	int i;

	/* The scope only matters to send; it never takes part in matching. */
	if (r.reflector.addr.sa_family == AF_INET6)
		r.reflector.addr6.sin6_scope_id = 0;

	spin_lock_bh(&kn->probe_lock);
	for (i = 0; i < KH_MAX_PENDING; i++) {
		struct kh_pending *c = &kn->pending[i];

		if (c->used && !crypto_memneq(c->nonce, ans->nonce,
					      KH_NONCE_LEN)) {
			p = c;
			break;
		}
	}
	/* Blind spoofing must guess the nonce, the reflector and the port. */
	if (!p || p->lport != flow->lport ||
	    !endpoint_eq(&p->reflector, &r.reflector) ||
	    now - p->sent_ns > KH_PENDING_TIMEOUT_MS * NSEC_PER_MSEC) {
		spin_unlock_bh(&kn->probe_lock);
		kh_stat_inc(kn, KH_STAT_DROP_UNMATCHED);
		return;
	}
	p->used = false;
	r.rtt_us = (u32)min_t(u64, div_u64(now - p->sent_ns, NSEC_PER_USEC),
			      U32_MAX);
	r.received_ns = now;
	if (ans->observed.family == KH_PF_OBSERVED_V4) {
		r.endpoint.addr4.sin_family = AF_INET;
		memcpy(&r.endpoint.addr4.sin_addr, ans->observed.addr, 4);
		r.endpoint.addr4.sin_port = htons(ans->observed.port);
	} else {
		r.endpoint.addr6.sin6_family = AF_INET6;
		memcpy(&r.endpoint.addr6.sin6_addr, ans->observed.addr, 16);
		r.endpoint.addr6.sin6_port = htons(ans->observed.port);
	}
	store_reflection(kn, &r);
	spin_unlock_bh(&kn->probe_lock);

	kh_stat_inc(kn, KH_STAT_RX_ANSWERS);
	kh_netlink_reflection_event(kn, &r, ans->nonce);
}

void kh_reflect_rx(struct kh_net *kn, const struct kh_flow *flow,
		   const u8 *data, size_t len)
{
	struct kh_probe_msg msg;

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

	if (msg.type == KH_PROBE_REQUEST) {
		kh_stat_inc(kn, KH_STAT_RX_REQUESTS);
		answer(kn, flow, &msg);
	} else {
		got_answer(kn, flow, &msg);
	}
}

/*
 * Send a probe request from @lport to @reflector.  The nonce goes back to the
 * caller, so that it can tell its answer from others.
 */
int kh_reflect_probe(struct kh_net *kn, __be16 lport,
		     const struct kh_endpoint *reflector, u8 *nonce)
{
	struct kh_probe_msg req = { .type = KH_PROBE_REQUEST };
	struct kh_flow flow = { .remote = *reflector, .lport = lport };
	u8 buf[KH_PROBE_REQ_MIN_LEN];
	struct kh_pending *slot;
	u64 now = ktime_get_ns();
	size_t len;
	int i, ret;

	get_random_bytes(req.nonce, KH_NONCE_LEN);
	len = kh_probe_build(buf, sizeof(buf), &req, KH_PROBE_REQ_MIN_LEN);
	if (WARN_ON_ONCE(!len))
		return -EINVAL;

	/* Reuse a free or stale slot, else the oldest. */
	spin_lock_bh(&kn->probe_lock);
	slot = &kn->pending[0];
	for (i = 0; i < KH_MAX_PENDING; i++) {
		struct kh_pending *c = &kn->pending[i];

		if (!c->used ||
		    now - c->sent_ns > KH_PENDING_TIMEOUT_MS * NSEC_PER_MSEC) {
			slot = c;
			break;
		}
		if (c->sent_ns < slot->sent_ns)
			slot = c;
	}
	memcpy(slot->nonce, req.nonce, KH_NONCE_LEN);
	slot->reflector = *reflector;
	if (slot->reflector.addr.sa_family == AF_INET6)
		slot->reflector.addr6.sin6_scope_id = 0;
	slot->lport = lport;
	slot->sent_ns = now;
	slot->used = true;
	spin_unlock_bh(&kn->probe_lock);

	ret = kh_socket_send(kn, &flow, buf, len);
	if (ret) {
		kh_stat_inc(kn, KH_STAT_TX_ERRORS);
		return ret;
	}
	kh_stat_inc(kn, KH_STAT_TX_PROBES);
	memcpy(nonce, req.nonce, KH_NONCE_LEN);
	return 0;
}
