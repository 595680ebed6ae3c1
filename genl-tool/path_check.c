// SPDX-License-Identifier: GPL-2.0
/*
 * The path check of peers sync: which peers' paths are checked, and the
 * phases in their order.  Probe each at its record's endpoint
 * (path_probe.c); an answer makes it direct (path_direct.c); silence
 * tries birthday probing where one side's mapping varies
 * (path_birthday.c); a direct path WireGuard does not confirm, and one
 * with no way found, is relayed (path_relay.c).  path.c holds the states.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "sync.h"
#include "util.h"

/* Is @a an address of this host's own?  A candidate there is our port. */
static bool is_ours(const struct sockaddr_storage *a)
{
	struct sockaddr_storage ss;
	struct ifaddrs *all, *i;
	bool ours = false;

	if (getifaddrs(&all))
		return false;
	for (i = all; i && !ours; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->ss_family)
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, i->ifa_addr, a->ss_family == AF_INET ?
		       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		ours = sockaddr_same_addr(&ss, a);
	}
	freeifaddrs(all);
	return ours;
}

/*
 * An endpoint of @key's that answered a probe (or from which its probe
 * came) but over which WireGuard did not shake hands: a firewall that
 * passes probes only, or a candidate of the peer's LAN that is someone
 * else's here.  Left out of its checks for @ms: the peer stays relayed
 * meanwhile instead of going back and forth.
 */
void path_failed(struct sync *s, const uint8_t *key,
		 const struct sockaddr_storage *ep, int64_t ms)
{
	struct bad_cand *v;

	v = grow(s->bad, s->n_bad, &s->cap_bad, sizeof(*v));
	if (!v)
		return;
	s->bad = v;
	memcpy(v[s->n_bad].key, key, KH_KEY_LEN);
	v[s->n_bad].ep = *ep;
	v[s->n_bad].until_ms = realtime_ms() + ms;
	s->n_bad++;
}

bool path_bad(struct sync *s, const uint8_t *key,
	      const struct sockaddr_storage *ep)
{
	int64_t now = realtime_ms();
	size_t i;

	for (i = 0; i < s->n_bad; i++) {
		if (s->bad[i].until_ms <= now) {
			s->bad[i--] = s->bad[--s->n_bad];
			continue;
		}
		if (!memcmp(s->bad[i].key, key, KH_KEY_LEN) &&
		    sockaddr_same(&s->bad[i].ep, ep))
			return true;
	}
	return false;
}

/*
 * Where pa is probed: its record's endpoint, then each candidate of the
 * peer's that is not that endpoint, not ours, and not known not to work.
 */
static void pick_targets(struct sync *s, struct path *pa, const uint8_t *key)
{
	struct sockaddr_storage c;
	size_t i;

	pa->target[0] = pa->rec.endpoint;
	pa->n_targets = 1;
	pa->best = -1;
	for (i = 0; i < pa->rec.n_cands && pa->n_targets < PATH_TARGETS; i++) {
		kh_record_cand(&pa->rec, i, &c);
		if (sockaddr_same(&c, &pa->rec.endpoint) ||
		    !endpoint_is_unicast(&c) || is_ours(&c) ||
		    path_bad(s, key, &c))
			continue;
		pa->target[pa->n_targets++] = c;
	}
}

/*
 * Is peer i's path to be checked?  Into *pa if so: it has a record and
 * no live session, or it is relayed.
 */
static bool wants_check(struct sync *s, size_t i, int64_t now,
			struct path *pa)
{
	const struct wg_peer *p = &s->dev->peers[i];
	const struct kh_bday *b;
	ssize_t r;

	*pa = (struct path){ .peer = i, .chosen_relay = -1 };
	if (kh_get_peer(&s->nl, p->public_key, &pa->rec) ||
	    !endpoint_is_unicast(&pa->rec.endpoint))
		return false;
	pa->current_relay = reflector_at(s, &p->endpoint);
	/* a birthday pair is checked where it is */
	b = bday_of(s, p);
	if (b && b->mode == KH_BDAY_PROBE)
		pa->rec.endpoint = p->endpoint;
	if (relayed(s, p, &pa->rec)) {
		/*
		 * It left a dead direct path, or its record's endpoint let
		 * no handshake through: not back before the back-off.
		 */
		if (live_backing_off(s, p->public_key) ||
		    path_bad(s, p->public_key, &pa->rec.endpoint))
			return false;
	} else {
		if (!s->force_check &&
		    !apply_no_session(p->last_handshake_ms, now))
			return false;
		/* a reflector that answered has its path */
		r = reflector_at(s, &pa->rec.endpoint);
		if (r >= 0 && s->refl[r].answered)
			return false;
		pa->current_relay = -1;
	}
	pa->held = take_held(s, p->public_key);
	pick_targets(s, pa, p->public_key);
	return true;
}

/* The paths to check: of the peers in keys (all with keys NULL). */
static int pick_paths(struct sync *s, const struct kh_record *keys,
		      size_t n_keys, int64_t now)
{
	const struct wg_device *dev = s->dev;
	size_t i, k;

	s->paths = calloc(dev->n_peers + 1, sizeof(*s->paths));
	if (!s->paths)
		return -ENOMEM;
	s->n_paths = 0;
	for (i = 0; i < dev->n_peers; i++) {
		for (k = 0; k < n_keys; k++)
			if (!memcmp(keys[k].key, dev->peers[i].public_key,
				    KH_KEY_LEN))
				break;
		if (keys && k == n_keys)
			continue;
		if (wants_check(s, i, now, &s->paths[s->n_paths]))
			s->n_paths++;
	}
	return 0;
}

/*
 * What pa's probing made of it.  An answer is the module's word;
 * WireGuard's must follow.  A handshake since the records were applied (at
 * @now: apply set the endpoint, and WireGuard may have shaken hands before
 * this check's first probe) counts, except for a relayed path, which
 * counts only from now on.  Silence: birthday probing (counted in
 * *n_bday) or the relay (1 returned if a reflector can).
 */
static int after_probing(struct sync *s, struct path *pa,
			 const struct wg_device *now_dev, int64_t now,
			 bool in_round, size_t *n_bday)
{
	const struct wg_peer *q = peer_in(s, now_dev, pa);
	int64_t since = pa->current_relay >= 0 ? realtime_ms() : now;
	uint8_t mode;

	/* the peer's own address answered: that is the path */
	if (pa->state == PATH_ANSWERED && pa->best > 0)
		use_cand(s, pa, in_round);
	switch (pa->state) {
	case PATH_HEARD:
		heard_from(s, pa, in_round);
		kick(s, pa, now_dev);
		expect_wg(s, pa, &pa->rec.endpoint, since, q);
		return 0;
	case PATH_ANSWERED:
		/* a live session's path answered: it works, nothing to set */
		if (s->force_check && pa->current_relay < 0 && pa->best <= 0) {
			path_step(pa, PATH_EV_ALIVE);
			return 0;
		}
		if (pa->current_relay >= 0)
			go_direct(s, pa, in_round);
		else
			kick(s, pa, now_dev);
		expect_wg(s, pa, &pa->rec.endpoint, since, q);
		return 0;
	default:
		break;
	}
	/*
	 * No module answered, yet WireGuard shook hands meanwhile, not
	 * through a relay: that path works.
	 */
	if (pa->current_relay < 0 && q && q->last_handshake_ms >= now &&
	    !relayed(s, q, &pa->rec)) {
		path_step(pa, PATH_EV_HANDSHAKE);
		return 0;
	}
	mode = bday_mode(s, pa);
	if (!mode)
		return to_relay(s, pa);
	pa->bday = mode;
	path_step(pa, PATH_EV_BIRTHDAY);
	(*n_bday)++;
	return 0;
}

/* After the probing, every phase in turn, each for the paths it has. */
static void settle_paths(struct sync *s, int64_t now, bool in_round)
{
	struct wg_device *now_dev = NULL;
	size_t i, n_relay = 0, n_bday = 0;

	if (s->n_paths && open_device(&s->nl, s->name, DEV_NEED_PORT,
				      &now_dev))
		now_dev = NULL;
	for (i = 0; i < s->n_paths && !s->stop; i++)
		n_relay += after_probing(s, &s->paths[i], now_dev, now,
					 in_round, &n_bday);
	if (n_bday && !s->stop) {
		run_birthdays(s, in_round, now_dev);
		for (i = 0; i < s->n_paths; i++)
			if (s->paths[i].state == PATH_BIRTHDAY ||
			    s->paths[i].state == PATH_PAIR_MISSED)
				n_relay += to_relay(s, &s->paths[i]);
	}
	wg_device_free(now_dev);
	if (!s->stop)
		n_relay += confirm_paths(s);
	if (n_relay && !s->stop) {
		wait_relays(s);
		for (i = 0; i < s->n_paths; i++)
			if (s->paths[i].state == PATH_ASKING_RELAY ||
			    s->paths[i].state == PATH_RELAY_READY)
				go_relayed(s, &s->paths[i], in_round);
	}
}

/*
 * The peers (keys, or all with keys NULL) that have a record and no live
 * session, or are relayed, get probed at their record's endpoint.  An
 * answer: direct (a relayed one goes back).  None within relay_after_ms:
 * birthday probing where it can help, else relayed through a reflector
 * that answered this round under the mesh key.
 */
int check_paths(struct sync *s, const struct kh_record *keys, size_t n_keys,
		bool in_round)
{
	int64_t now = realtime_ms();
	/*
	 * Apply set the endpoints (and WireGuard may have shaken hands over
	 * them, before the first probe of this check): since then.
	 */
	int64_t since = s->applied_ms && s->applied_ms <= now ?
			s->applied_ms : now;
	int ret;

	s->applied_ms = 0;
	if (!s->relay_after_ms || !s->dev->has_public_key || !s->n_refl) {
		s->n_held = 0;
		return 0;
	}
	ret = pick_paths(s, keys, n_keys, now);
	if (ret)
		return ret;
	ret = probe_paths(s);
	if (ret)
		khnl_perror(&s->nl, ret, "%s: probing peers", s->name);
	else
		settle_paths(s, since, in_round);
	free(s->paths);
	s->paths = NULL;
	s->n_paths = 0;
	/* holds are only news to the check right after them */
	s->n_held = 0;
	return ret;
}
