// SPDX-License-Identifier: GPL-2.0
/*
 * The relay, for a path with no direct way: choose the reflector, ask it
 * until it says the peer asked too, and make it WireGuard's endpoint.
 */
#include <string.h>

#include "sync.h"
#include "util.h"

/* pa gets no direct path: relay it, if a reflector can.  1 if one can. */
int to_relay(struct sync *s, struct path *pa)
{
	char key[KEY_B64_LEN + 1];

	pa->chosen_relay = path_pick_relay(s->refl, s->n_refl,
					   &pa->rec.endpoint);
	path_step(pa, PATH_EV_NO_DIRECT);
	if (pa->chosen_relay < 0) {
		key_to_base64(key, s->dev->peers[pa->peer].public_key);
		kh_err("%s: %s: no direct path, and no reflector to relay through",
		       s->name, key);
		return 0;
	}
	return 1;
}

/* Ask r to relay pa's peer; the nonce is kept to match the answer. */
static int ask_relay(struct sync *s, struct path *pa,
		     const struct reflector *r)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	char key[KEY_B64_LEN + 1];
	int ret;

	ret = kh_probe_relay(&s->nl, s->dev->listen_port, &r->addr,
			     s->dev->public_key, p->public_key, false,
			     pa->nonce[pa->sends % PATH_PROBES]);
	if (ret) {
		key_to_base64(key, p->public_key);
		khnl_perror(&s->nl, ret, "%s: asking for a relay to %s",
			    s->name, key);
		return ret;
	}
	pa->sends++;
	return 0;
}

/*
 * The paths to relay ask their reflector every quarter of relay_after_ms
 * until it answers that the peer asked too: a relay needs both, and the
 * two sides' checks seldom end at the same moment.  Those relayed through
 * it already only renew their grant.
 */
void wait_relays(struct sync *s)
{
	uint64_t start = now_us(), now, next = start, step, deadline;
	size_t i, left;

	step = (uint64_t)s->relay_after_ms * 1000 / 4;
	deadline = start + (uint64_t)s->relay_after_ms * 1000;
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];

		/* from now on a path's nonces are its relay requests' */
		pa->sends = 0;
		path_step(pa, PATH_EV_ASK_RELAY);
		/* the relay stands: renew it, nothing to wait for */
		if (pa->state == PATH_RELAY_READY)
			ask_relay(s, pa, &s->refl[pa->chosen_relay]);
	}
	while (!s->stop) {
		now = now_us();
		left = 0;
		for (i = 0; i < s->n_paths; i++)
			left += s->paths[i].state == PATH_ASKING_RELAY;
		if (!left || now >= deadline)
			break;
		if (now >= next) {
			for (i = 0; i < s->n_paths; i++) {
				struct path *pa = &s->paths[i];

				if (pa->state == PATH_ASKING_RELAY)
					ask_relay(s, pa,
						  &s->refl[pa->chosen_relay]);
			}
			next += step;
		}
		if (take_events(s, next < deadline ? next : deadline, now))
			break;
	}
}

/* pa's relay is ready: WireGuard's endpoint becomes the reflector's. */
void go_relayed(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	const struct reflector *r = &s->refl[pa->chosen_relay];
	char key[KEY_B64_LEN + 1], ep[ENDPOINT_STRLEN];
	struct change ch = { 0 };
	int ret;

	key_to_base64(key, p->public_key);
	if (pa->state != PATH_RELAY_READY) {
		format_endpoint(&r->addr, ep, sizeof(ep));
		kh_err("%s: %s: no direct path, and no relay through %s yet: the peer has not asked it",
		       s->name, key, ep);
		return;
	}
	if (sockaddr_same(&p->endpoint, &r->addr))
		return;
	if (apply_restart(p->last_handshake_ms, realtime_ms(),
			  p->n_allowedips))
		ret = wg_restart_peer(&s->nl, s->dev->ifindex, p, &r->addr);
	else
		ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
				      &r->addr);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: relaying %s", s->name, key);
		return;
	}
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = r->addr;
	ch.via = r->addr;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_RELAYED;
	p->endpoint = r->addr;
	say_change(s, &ch, in_round);
}
