// SPDX-License-Identifier: GPL-2.0
/*
 * A path found direct: set it in WireGuard (back from a relay, or from
 * the peer's own probe), get a handshake going, and wait until WireGuard
 * shows it works; one that does not goes to the relay.
 */
#include <string.h>

#include "device.h"
#include "sync.h"
#include "util.h"

#define CONFIRM_POLL_MS		200	/* how often WireGuard is read */

/* pa answered: if it was relayed, back to its own endpoint. */
void go_direct(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	const struct reflector *r = &s->refl[pa->current_relay];
	uint8_t nonce[KH_NONCE_LEN];
	struct change ch = { 0 };
	int ret;

	ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
			      &pa->rec.endpoint);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: setting a direct endpoint",
			    s->name);
		return;
	}
	/* stray relayed packets would move WireGuard's endpoint back */
	kh_probe_relay(&s->nl, s->dev->listen_port, &r->addr,
		       s->dev->public_key, p->public_key, true, nonce);
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = pa->rec.endpoint;
	ch.via = pa->rec.reflector;
	ch.source = pa->rec.source;
	ch.path = pa->best > 0 ? APPLY_PATH_LAN : APPLY_PATH_DIRECT;
	p->endpoint = pa->rec.endpoint;
	say_change(s, &ch, in_round);
}

/*
 * pa answered after we held its start: the hold is over, but WireGuard's
 * first initiation died at the start TTL, and with traffic waiting it
 * tries again only 5 s later.  A peer that has still never shaken hands is
 * created again (nothing lives to lose): the next packet initiates at once.
 */
void kick(struct sync *s, const struct path *pa,
	  const struct wg_device *now_dev)
{
	const struct wg_peer *q;

	if (!pa->held || !now_dev)
		return;
	q = wg_find_peer(now_dev, s->dev->peers[pa->peer].public_key);
	if (!q || q->last_handshake_ms ||
	    !sockaddr_same(&q->endpoint, &pa->rec.endpoint) ||
	    q->n_allowedips > WG_RESTART_MAX_ALLOWEDIPS)
		return;
	wg_restart_peer(&s->nl, s->dev->ifindex, q, &q->endpoint);
}

/* pa's own probe came from rec's endpoint: set it (a relay ends). */
void heard_from(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	uint8_t nonce[KH_NONCE_LEN];
	int64_t now = realtime_ms();
	struct change ch;

	if (pa->current_relay >= 0)
		kh_probe_relay(&s->nl, s->dev->listen_port,
			       &s->refl[pa->current_relay].addr,
			       s->dev->public_key, p->public_key, true, nonce);
	/* a relayed peer has a fresh handshake: set it whatever apply says */
	if (pa->current_relay >= 0)
		p->last_handshake_ms = 0;
	if (apply_record(&s->nl, s->dev, p, &pa->rec, now, false,
			 start_ttl_for(s, p, &pa->rec, now), &ch) > 0) {
		/*
		 * Its probe came from one of its own addresses, not the
		 * one the reflector saw (target 0): its LAN.
		 */
		if (kh_record_is_cand(&pa->rec, &ch.new_ep) &&
		    !sockaddr_same(&ch.new_ep, &pa->target[0]))
			ch.path = APPLY_PATH_LAN;
		say_change(s, &ch, in_round);
	}
}

/*
 * pa's peer answered at one of its own addresses (pa->best, a candidate):
 * that is the path, ahead of what the reflector saw.  A relayed peer goes
 * there by go_direct(); another is set here.
 */
void use_cand(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	struct change ch = { 0 };
	int ret;

	pa->rec.endpoint = pa->target[pa->best];
	if (pa->current_relay >= 0 ||
	    sockaddr_same(&p->endpoint, &pa->rec.endpoint))
		return;
	ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
			      &pa->rec.endpoint);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: setting a LAN endpoint", s->name);
		return;
	}
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = pa->rec.endpoint;
	ch.via = pa->rec.reflector;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_LAN;
	p->endpoint = pa->rec.endpoint;
	say_change(s, &ch, in_round);
}

/*
 * pa's path is set direct (to @ep) as of @since_ms: it counts once
 * WireGuard shows it works, so make WireGuard start a handshake now, as
 * traffic would (an idle peer would otherwise never try).  @q is the peer
 * as read before the path was set.
 */
void expect_wg(struct sync *s, struct path *pa,
	       const struct sockaddr_storage *ep, int64_t since_ms,
	       const struct wg_peer *q)
{
	const struct wg_peer *p = &s->dev->peers[pa->peer];
	char key[KEY_B64_LEN + 1];
	int ret;

	path_step(pa, PATH_EV_SET_DIRECT);
	pa->direct = *ep;
	pa->since_ms = since_ms;
	pa->rx_bytes = q ? q->rx_bytes : p->rx_bytes;
	ret = wg_nudge_peer(&s->nl, s->dev->ifindex, q ? q : p);
	if (ret) {
		key_to_base64(key, p->public_key);
		khnl_perror(&s->nl, ret, "%s: starting a handshake with %s",
			    s->name, key);
	}
}

/* WireGuard's own word on pa's direct path (apply_direct_works()). */
static bool wg_says_works(const struct sync *s, const struct path *pa,
			  const struct wg_peer *q)
{
	bool at_relay = !sockaddr_same(&q->endpoint, &pa->direct) &&
			reflector_at(s, &q->endpoint) >= 0;

	return apply_direct_works(pa->since_ms, q->last_handshake_ms,
				  q->rx_bytes > pa->rx_bytes, at_relay);
}

/*
 * Read WireGuard once: the paths it shows working are confirmed.  True
 * while one is still within APPLY_CONFIRM_MS; false when none is, or
 * WireGuard could not be read.
 */
static bool confirm_some(struct sync *s)
{
	struct wg_device *dev;
	size_t i, left = 0;
	int64_t wall;

	if (open_device(&s->nl, s->name, DEV_NEED_PORT, &dev))
		return false;
	wall = realtime_ms();
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		const struct wg_peer *q;

		if (pa->state != PATH_CONFIRMING)
			continue;
		q = peer_in(s, dev, pa);
		if (!q || wg_says_works(s, pa, q))
			path_step(pa, PATH_EV_CONFIRMED);
		else if (wall - pa->since_ms < APPLY_CONFIRM_MS)
			left++;
	}
	wg_device_free(dev);
	return left;
}

/*
 * Wait, reading events meanwhile, until WireGuard shows that each path set
 * direct works, or APPLY_CONFIRM_MS after it was set.  One that does not
 * goes to the relay, whatever stopped it.  Returns how many do.
 */
size_t confirm_paths(struct sync *s)
{
	char key[KEY_B64_LEN + 1];
	size_t i, n_relay = 0;
	uint64_t now;

	while (!s->stop) {
		now = now_us();
		if (!confirm_some(s) ||
		    take_events(s, now + CONFIRM_POLL_MS * 1000, now))
			break;
	}
	for (i = 0; i < s->n_paths && !s->stop; i++) {
		struct path *pa = &s->paths[i];

		if (pa->state != PATH_CONFIRMING)
			continue;
		key_to_base64(key, s->dev->peers[pa->peer].public_key);
		kh_err("%s: %s: no WireGuard handshake over the direct path within %u ms",
		       s->name, key, APPLY_CONFIRM_MS);
		/* not that endpoint again soon: no loop through it */
		path_failed(s, s->dev->peers[pa->peer].public_key, &pa->direct,
			    pa->best > 0 ? PATH_BAD_CAND_MS :
					   PATH_BAD_DIRECT_MS);
		n_relay += to_relay(s, pa);
	}
	return n_relay;
}
