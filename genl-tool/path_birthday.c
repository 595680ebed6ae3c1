// SPDX-License-Identifier: GPL-2.0
/*
 * Birthday probing for a path with no direct answer, when exactly one
 * side's NAT mapping varies by destination: start the module's sessions,
 * wait for their pairs, and set each pair found in WireGuard.
 */
#include <string.h>

#include "sync.h"
#include "util.h"

#define BDAY_POLL_MS		100	/* how often sessions are looked at */

/*
 * Birthday probing for pa (ours varies as this round found, the peer's as
 * its record says): the mode, or 0 when not for this path.
 */
uint8_t bday_mode(struct sync *s, struct path *pa)
{
	const struct wg_peer *p = &s->dev->peers[pa->peer];
	struct kh_record fresh;
	bool our_varies = s->nat > 0 && s->nat & KH_RECORD_F_VARIES;

	if (!s->bday_ms || pa->current_relay >= 0)
		return 0;
	/* the peer may have said so since the round began */
	if (kh_get_peer(&s->nl, p->public_key, &fresh))
		fresh = pa->rec;
	pa->rec.endpoint = fresh.endpoint;
	return path_bday_mode(our_varies, fresh.flags & KH_RECORD_F_VARIES);
}

/*
 * Birthday probing found a pair for pa: WireGuard's endpoint becomes it.
 * False when WireGuard refused (printed).
 */
static bool go_birthday(struct sync *s, struct path *pa, bool in_round)
{
	struct wg_peer *p = &s->dev->peers[pa->peer];
	uint8_t nonce[KH_NONCE_LEN];
	char key[KEY_B64_LEN + 1];
	struct change ch = { 0 };
	int ret;

	/* the spray side keeps the endpoint; its module moves the port */
	const struct sockaddr_storage *ep = pa->bday == KH_BDAY_PROBE ?
					    &pa->bday_at : &pa->rec.endpoint;

	key_to_base64(key, p->public_key);
	/* its last initiation went nowhere: begin again at once */
	if (apply_restart(p->last_handshake_ms, realtime_ms(),
			  p->n_allowedips))
		ret = wg_restart_peer(&s->nl, s->dev->ifindex, p, ep);
	else
		ret = wg_set_endpoint(&s->nl, s->dev->ifindex, p->public_key,
				      ep);
	if (ret) {
		khnl_perror(&s->nl, ret, "%s: setting %s's birthday pair",
			    s->name, key);
		return false;
	}
	/*
	 * A safe start ends here: the pair is open both ways.  Our module
	 * ended our hold when it found the pair; a packet from us ends the
	 * peer's.
	 */
	kh_probe(&s->nl, s->dev->listen_port, ep, nonce);
	memcpy(ch.key, p->public_key, KH_KEY_LEN);
	ch.old_ep = p->endpoint;
	ch.new_ep = *ep;
	ch.via = pa->rec.reflector;
	ch.source = pa->rec.source;
	ch.path = APPLY_PATH_BIRTHDAY;
	p->endpoint = *ep;
	say_change(s, &ch, in_round);
	return true;
}

/* Read the module's sessions into s->bdays. */
int read_bdays(struct sync *s)
{
	int ret;

	kh_bdays_free(&s->bdays);
	ret = kh_dump_bdays(&s->nl, &s->bdays);
	if (ret)
		khnl_perror(&s->nl, ret, "%s: reading the birthday sessions",
			    s->name);
	return ret;
}

/* A session for every path in PATH_BIRTHDAY; one that fails is missed. */
static void start_birthdays(struct sync *s)
{
	char key[KEY_B64_LEN + 1];
	size_t i;
	int ret;

	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		const struct wg_peer *p = &s->dev->peers[pa->peer];
		struct kh_bday_ask ask = {
			.port = s->dev->listen_port,
			.self = s->dev->public_key,
			.peer = p->public_key,
			.target = pa->rec.endpoint,
			.mode = pa->bday,
			.ttl = pa->bday == KH_BDAY_SPRAY ?
			       hold_ttl(s, pa->rec.endpoint.ss_family) : 0,
			.time_ms = s->bday_ms,
		};

		if (pa->state != PATH_BIRTHDAY)
			continue;
		ret = kh_bday_start(&s->nl, &ask);
		if (ret) {
			key_to_base64(key, p->public_key);
			khnl_perror(&s->nl, ret, "%s: birthday probing %s",
				    s->name, key);
			path_step(pa, PATH_EV_PAIR_MISSED);
		}
	}
}

/*
 * Read the sessions into the paths that wait for one.  True while one
 * still runs; false when none does, or they could not be read.
 */
static bool sessions_run(struct sync *s)
{
	size_t i, left = 0;

	if (read_bdays(s))
		return false;
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];

		if (pa->state != PATH_BIRTHDAY)
			continue;
		path_bday_session(pa, kh_bdays_find(&s->bdays,
					s->dev->listen_port,
					s->dev->peers[pa->peer].public_key));
		left += pa->state == PATH_BIRTHDAY;
	}
	return left;
}

/*
 * Start a session for every path that wants one and wait, reading events
 * meanwhile, until each found its pair or ran out of time.  A found one
 * gets its pair; the others are left to the relay.
 */
void run_birthdays(struct sync *s, bool in_round,
		   const struct wg_device *now_dev)
{
	uint64_t now = now_us(), next = now, deadline;
	size_t i;

	deadline = now + ((uint64_t)s->bday_ms + 1000) * 1000;
	start_birthdays(s);
	while (!s->stop) {
		now = now_us();
		if (now >= next) {
			next = now + BDAY_POLL_MS * 1000;
			if (!sessions_run(s))
				break;
		}
		if (now >= deadline ||
		    take_events(s, next < deadline ? next : deadline, now))
			break;
	}
	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		const struct wg_peer *q;
		int64_t since = realtime_ms();

		if (pa->state != PATH_PAIR_FOUND)
			continue;
		q = peer_in(s, now_dev, pa);
		if (go_birthday(s, pa, in_round))
			expect_wg(s, pa, &s->dev->peers[pa->peer].endpoint,
				  since, q);
		else
			path_step(pa, PATH_EV_PAIR_REFUSED);
	}
}
