// SPDX-License-Identifier: GPL-2.0
/*
 * One round of peers sync or netcheck, up to the answers: read the device
 * and watch its port, plan the reflectors (--reflector, else every peer
 * with an endpoint) and the batches of wants to ask each, send them all
 * at once from the WireGuard port, and take the answers as they come.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "sync.h"
#include "util.h"

/*
 * The module remembers 64 outstanding probes per namespace (KH_MAX_PENDING,
 * not in the UAPI) and forgets the oldest first: an answer to a forgotten
 * probe is dropped.  Stay well below, leaving room for others.
 */
#define MAX_INFLIGHT		32

#define NONE			((size_t)-1)

/* The nonce is random: its first bytes make a fine hash. */
static size_t nonce_hash(const uint8_t *nonce)
{
	uint64_t h;

	memcpy(&h, nonce, sizeof(h));
	return (size_t)h;
}

static void index_add(struct sync *s, size_t i)
{
	size_t h = nonce_hash(s->sent[i].nonce) & s->index_mask;

	while (s->index[h] >= 0)
		h = (h + 1) & s->index_mask;
	s->index[h] = (ssize_t)i;
}

static struct sent *index_find(struct sync *s, const uint8_t *nonce)
{
	size_t h = nonce_hash(nonce) & s->index_mask;

	for (; s->index[h] >= 0; h = (h + 1) & s->index_mask)
		if (!memcmp(s->sent[s->index[h]].nonce, nonce, KH_NONCE_LEN))
			return &s->sent[s->index[h]];
	return NULL;
}

static size_t wants_of(const struct sync *s, const struct reflector *r)
{
	if (s->netcheck)
		return 0;
	return s->dev->n_peers - (r->skip != NONE);
}

/* The reflectors given with --reflector. */
static void plan_given(struct sync *s)
{
	const struct wg_device *dev = s->dev;
	size_t i, j;

	for (i = 0; i < s->n_given; i++) {
		struct reflector *r = &s->refl[s->n_refl++];

		r->addr = s->given[i];
		r->skip = NONE;
		/* a peer is not asked where it is itself */
		for (j = 0; j < dev->n_peers; j++) {
			if (sockaddr_same(&dev->peers[j].endpoint, &r->addr)) {
				r->skip = j;
				break;
			}
		}
	}
}

/* Every peer with an endpoint, once per endpoint. */
static void plan_peers(struct sync *s)
{
	const struct wg_device *dev = s->dev;
	size_t i, j;

	for (i = 0; i < dev->n_peers; i++) {
		if (!endpoint_is_unicast(&dev->peers[i].endpoint))
			continue;
		/*
		 * Relayed peers have their reflector's endpoint: one
		 * reflector, asked about everyone (which peer is it?).
		 */
		for (j = 0; j < s->n_refl; j++)
			if (sockaddr_same(&s->refl[j].addr,
					  &dev->peers[i].endpoint))
				break;
		if (j < s->n_refl) {
			s->refl[j].skip = NONE;
			continue;
		}
		s->refl[s->n_refl].addr = dev->peers[i].endpoint;
		s->refl[s->n_refl++].skip = i;
	}
}

/* The tables for n batches: the batches, their queue, the sends. */
static int plan_tables(struct sync *s, size_t n)
{
	size_t cap;

	s->batch = calloc(n + 1, sizeof(*s->batch));
	s->queue = calloc(n + 1, sizeof(*s->queue));
	s->sent = calloc(n * PROBES + 1, sizeof(*s->sent));
	for (cap = 16; cap < 2 * n * PROBES; cap *= 2)
		;
	s->index = malloc(cap * sizeof(*s->index));
	if (!s->batch || !s->queue || !s->sent || !s->index)
		return -ENOMEM;
	memset(s->index, 0xff, cap * sizeof(*s->index));
	s->index_mask = cap - 1;
	return 0;
}

/* Reflector i's batches, queued in the order they go out. */
static void plan_batches(struct sync *s, size_t i)
{
	size_t w = wants_of(s, &s->refl[i]), first = 0;

	s->refl[i].b_first = s->n_batch;
	/* with nothing to ask, a probe still tells how we are seen */
	do {
		struct batch *b = &s->batch[s->n_batch];

		b->refl = i;
		b->first = first;
		b->n = w - first < KH_MAX_WANT ? w - first : KH_MAX_WANT;
		first += b->n;
		s->queue[s->n_batch] = s->n_batch;
		s->n_batch++;
	} while (first < w);
	/* netcheck under the mesh key: the other-port answer too */
	if (s->netcheck && s->has_key) {
		s->batch[s->n_batch].refl = i;
		s->batch[s->n_batch].alt = true;
		s->queue[s->n_batch] = s->n_batch;
		s->n_batch++;
		s->refl[i].alt_asked = true;
	}
	/*
	 * Its second port, plainly: seen there from another port, our NAT
	 * maps each destination apart, which one reflector tells so.
	 */
	s->batch[s->n_batch].refl = i;
	s->batch[s->n_batch].second = true;
	s->queue[s->n_batch] = s->n_batch;
	s->n_batch++;
	s->refl[i].b_n = s->n_batch - s->refl[i].b_first;
}

/*
 * The reflectors, each asked about every other peer in batches of
 * KH_MAX_WANT, and the tables to track the probes.
 */
static int plan(struct sync *s)
{
	size_t i, n;
	int ret;

	s->refl = calloc(s->n_given ? s->n_given : s->dev->n_peers + 1,
			 sizeof(*s->refl));
	if (!s->refl)
		return -ENOMEM;
	if (s->n_given)
		plan_given(s);
	else
		plan_peers(s);

	for (i = 0, n = 0; i < s->n_refl; i++)
		n += wants_of(s, &s->refl[i]) / KH_MAX_WANT + 2 + s->netcheck;
	ret = plan_tables(s, n);
	if (ret)
		return ret;
	for (i = 0; i < s->n_refl; i++)
		plan_batches(s, i);
	s->q_len = s->n_batch;
	return 0;
}

static void batch_done(struct sync *s, struct batch *b)
{
	int i;

	if (b->done)
		return;
	b->done = true;
	s->n_done++;
	for (i = 0; i < b->sends; i++) {
		struct sent *t = &s->sent[b->sent[i]];

		if (t->in_flight) {
			t->in_flight = false;
			s->in_flight--;
		}
	}
}

/* Errors that stop the round; any other is that reflector's alone. */
bool round_fatal(int err)
{
	return err == -ENOENT || err == -ENOKEY || err == -ENOMEM;
}

/* A reflector's second port: the next one (65535's is 1), as the module's. */
static void second_port(const struct sockaddr_storage *addr,
			struct sockaddr_storage *out)
{
	in_port_t *p;

	*out = *addr;
	p = out->ss_family == AF_INET ?
	    &((struct sockaddr_in *)out)->sin_port :
	    &((struct sockaddr_in6 *)out)->sin6_port;
	*p = htons(ntohs(*p) % 65535 + 1);
}

static int send_batch(struct sync *s, size_t bi, uint64_t now)
{
	uint8_t wants[KH_MAX_WANT][KH_KEY_LEN];
	struct batch *b = &s->batch[bi];
	struct reflector *r = &s->refl[b->refl];
	struct sent *t = &s->sent[s->n_sent];
	size_t i, j;
	int ret;

	for (i = 0; i < b->n; i++) {
		j = b->first + i;
		if (r->skip != NONE && j >= r->skip)
			j++;
		memcpy(wants[i], s->dev->peers[j].public_key, KH_KEY_LEN);
	}
	if (b->second) {
		struct sockaddr_storage second;

		second_port(&r->addr, &second);
		ret = kh_probe_keys(&s->nl, s->dev->listen_port, &second,
				    NULL, NULL, 0, t->nonce);
	} else if (b->alt)
		ret = kh_probe_alt(&s->nl, s->dev->listen_port, &r->addr,
				   s->dev->public_key, t->nonce);
	else
		ret = kh_probe_keys(&s->nl, s->dev->listen_port, &r->addr,
				    s->dev->has_public_key ?
				    s->dev->public_key : NULL,
				    wants, b->n, t->nonce);
	if (ret) {
		if (round_fatal(ret))
			return ret;
		/* no route and the like: this reflector is out, not the round */
		r->err = ret;
		for (i = 0; i < r->b_n; i++)
			batch_done(s, &s->batch[r->b_first + i]);
		return 0;
	}
	t->batch = bi;
	t->at_us = now;
	t->in_flight = true;
	s->in_flight++;
	index_add(s, s->n_sent);
	b->sent[b->sends++] = s->n_sent++;
	return 0;
}

static int on_probe_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_reflection ev;
	struct reflector *r;
	struct sent *t;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family ||
	    kh_msg_cmd(msg) != KH_CMD_REFLECTION)
		return 0;
	/* other probes in this netns, or garbage: neither is ours */
	if (kh_parse_reflection(msg, &ev) || !ev.has_nonce)
		return 0;
	t = index_find(s, ev.nonce);
	if (!t)
		return 0;
	batch_done(s, &s->batch[t->batch]);
	r = &s->refl[s->batch[t->batch].refl];
	if (s->batch[t->batch].alt) {
		r->alt_answered = true;
		return 0;
	}
	if (s->batch[t->batch].second) {
		if (!r->second_answered)
			r->second_seen = ev.endpoint;
		r->second_answered = true;
		return 0;
	}
	r->auth |= ev.auth;
	if (r->answered)
		return 0;
	r->answered = true;
	r->seen_as = ev.endpoint;
	r->rtt_us = ev.has_rtt ? ev.rtt_us : (uint32_t)(now_us() - t->at_us);
	return 0;
}

/* Sends older than a resend interval no longer count as waiting. */
static void expire_sent(struct sync *s, uint64_t now)
{
	while (s->next_expiry < s->n_sent &&
	       s->sent[s->next_expiry].at_us + s->interval_us <= now) {
		struct sent *t = &s->sent[s->next_expiry++];

		if (t->in_flight) {
			t->in_flight = false;
			s->in_flight--;
		}
	}
}

/* Send the batches that are due, as many as MAX_INFLIGHT lets. */
static int send_due(struct sync *s, uint64_t now, uint64_t deadline)
{
	int ret;

	while (s->q_len && s->in_flight < MAX_INFLIGHT && now < deadline) {
		size_t bi = s->queue[s->q_head];
		struct batch *b = &s->batch[bi];

		if (!b->done && b->next_us > now)
			break;
		s->q_head = (s->q_head + 1) % s->n_batch;
		s->q_len--;
		if (b->done)
			continue;
		ret = send_batch(s, bi, now);
		if (ret)
			return ret;
		if (!b->done && b->sends < PROBES) {
			b->next_us = now + s->interval_us;
			s->queue[(s->q_head + s->q_len) % s->n_batch] = bi;
			s->q_len++;
		}
	}
	return 0;
}

/* When something is next due: a batch, a slot freed, or the deadline. */
static uint64_t next_wake(const struct sync *s, uint64_t deadline)
{
	uint64_t wake = deadline;

	if (s->q_len && s->in_flight < MAX_INFLIGHT &&
	    s->batch[s->queue[s->q_head]].next_us < wake)
		wake = s->batch[s->queue[s->q_head]].next_us;
	if (s->in_flight >= MAX_INFLIGHT &&
	    s->sent[s->next_expiry].at_us + s->interval_us < wake)
		wake = s->sent[s->next_expiry].at_us + s->interval_us;
	return wake;
}

/*
 * All reflectors at once: every batch goes out at the start, unanswered
 * ones again after a third and two thirds of the timeout, at most
 * MAX_INFLIGHT waiting at any time; then wait for the answers until the
 * timeout.  Batches are queued by the time they are due, which the order
 * of sending keeps sorted.
 */
static int probe_all(struct sync *s)
{
	uint64_t start = now_us(), now, deadline;
	bool readable;
	int ret;

	s->interval_us = (uint64_t)s->timeout_ms * 1000 / PROBES;
	deadline = start + (uint64_t)s->timeout_ms * 1000;
	for (size_t i = 0; i < s->n_batch; i++)
		s->batch[i].next_us = start;

	while (!s->stop) {
		now = now_us();
		expire_sent(s, now);
		ret = send_due(s, now, deadline);
		if (ret)
			return ret;
		if (s->n_done == s->n_batch || now >= deadline)
			return 0;
		ret = wait_fds(s, next_wake(s, deadline), now, &readable);
		if (ret)
			return ret;
		if (!readable)
			continue;
		ret = khnl_events_read(s->ev, on_probe_event, s);
		/* an overrun may have eaten answers; resends may still come */
		if (ret && ret != -ENOBUFS) {
			khnl_perror(NULL, ret, "reading events");
			return ret;
		}
	}
	return 0;
}

/*
 * Read DEV and watch its port if need be; take what the port says of its
 * NAT (an earlier sync or netcheck told it): a verdict this run cannot
 * tell keeps that.  0 or -errno (printed).
 */
static int open_round(struct sync *s)
{
	bool has_key, newly;
	struct kh_watch w;
	int ret;

	ret = open_device(&s->nl, s->name,
			  DEV_NEED_PORT | (s->netcheck ? 0 : DEV_NEED_KEY),
			  &s->dev);
	if (ret)
		return ret;
	ret = ensure_watched(&s->nl, s->dev, s->name, &has_key, &newly);
	if (ret)
		return ret;
	if (newly && !s->json)
		printf("watching %s port %u\n", s->name, s->dev->listen_port);
	s->has_key = has_key && s->dev->has_public_key;
	if (s->nat < 0 && !find_watch(&s->nl, s->dev->listen_port, &w))
		s->nat = w.nat;
	if (!has_key && !s->netcheck) {
		kh_err("no mesh key on %s: khctl key set %s FILE", s->name,
		       s->name);
		return -ENOKEY;
	}
	return 0;
}

/*
 * A round's probing.  0: over (or stopped: s->stop), the answers in
 * s->refl; -errno: it could not start (printed); ROUND_SILENT or
 * ROUND_FAILED (printed).
 */
int round_probe(struct sync *s)
{
	int ret;

	free_round(s);
	wg_device_free(s->dev);
	s->dev = NULL;
	ret = open_round(s);
	if (ret)
		return ret;
	ret = plan(s);
	if (ret) {
		kh_err("%s", strerror(-ret));
		return ret;
	}
	if (!s->n_refl) {
		kh_err("no reflector: no peer of %s has an endpoint; name one with --reflector ADDR:PORT",
		       s->name);
		return ROUND_SILENT;
	}
	ret = probe_all(s);
	if (!ret)
		return 0;
	if (ret == -ENOENT)
		kh_err("%s port %u is not watched any more",
		       s->name, s->dev->listen_port);
	else if (ret == -ENOKEY)
		kh_err("no mesh key on %s any more: khctl key set %s FILE",
		       s->name, s->name);
	else
		khnl_perror(&s->nl, ret, "probing from %s", s->name);
	return ROUND_FAILED;
}

/* How many reflectors answered this round. */
size_t round_answered(const struct sync *s)
{
	size_t i, answered = 0;

	for (i = 0; i < s->n_refl; i++)
		answered += s->refl[i].answered;
	return answered;
}

/* The reflector of this round at addr, or -1. */
ssize_t reflector_at(const struct sync *s,
		     const struct sockaddr_storage *addr)
{
	size_t i;

	for (i = 0; i < s->n_refl; i++)
		if (sockaddr_same(&s->refl[i].addr, addr))
			return (ssize_t)i;
	return -1;
}
