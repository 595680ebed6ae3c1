// SPDX-License-Identifier: GPL-2.0
/*
 * The path check's probing, and the events it reads at every wait: the
 * answers to our probes and relay requests, the peers' own probes (each
 * a path_step() of its path), and records for the watch loop.
 */
#include <errno.h>
#include <string.h>

#include "sync.h"
#include "util.h"

/*
 * The peer's own probe reached us (a symmetric NAT's fresh mapping, say):
 * our answer went back the way it came, so that is a direct path,
 * wherever our probes go.
 */
static void heard(struct sync *s, const struct kh_record *rec)
{
	size_t i;

	if (rec->source != KH_SOURCE_OBSERVED ||
	    (rec->event != KH_EVENT_ADDED && rec->event != KH_EVENT_CHANGED) ||
	    path_bad(s, rec->key, &rec->endpoint))
		return;
	for (i = 0; i < s->n_paths; i++) {
		if (memcmp(s->paths[i].rec.key, rec->key, KH_KEY_LEN))
			continue;
		s->paths[i].rec = *rec;
		path_step(&s->paths[i], PATH_EV_HEARD);
	}
}

/* pa answered at target t: the best answer so far, and since when. */
static void answered_at(struct path *pa, int t)
{
	path_answered_at(pa, t);
	if (!pa->answered_us)
		pa->answered_us = now_us();
}

/* An answer with a nonce of ours: to a probe, or to a relay request. */
static void answered(struct sync *s, const struct kh_reflection *ev)
{
	size_t i;
	int k;

	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];
		bool granted = ev->relay_ready &&
			       !memcmp(ev->relay,
				       s->dev->peers[pa->peer].public_key,
				       KH_KEY_LEN);

		for (k = 0; k < pa->sends && k < PATH_PROBES; k++) {
			size_t t;

			if (!memcmp(pa->nonce[k], ev->nonce, KH_NONCE_LEN)) {
				if (pa->state == PATH_PROBING && !granted)
					answered_at(pa, 0);
				path_step(pa, granted ? PATH_EV_RELAY_GRANTED :
							PATH_EV_ANSWER);
			}
			/* a candidate's answer counts while others may come */
			for (t = 1; t < pa->n_targets; t++)
				if (!memcmp(pa->cnonce[k][t - 1], ev->nonce,
					    KH_NONCE_LEN) &&
				    (pa->state == PATH_PROBING ||
				     pa->state == PATH_ANSWERED)) {
					answered_at(pa, (int)t);
					path_step(pa, PATH_EV_ANSWER);
				}
		}
	}
}

static int on_path_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_reflection ev;
	struct kh_record rec;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family)
		return 0;
	if (kh_msg_cmd(msg) == KH_CMD_PEER_EVENT) {
		if (!kh_parse_record(msg, &rec))
			heard(s, &rec);
		/* records that change meanwhile are for the watch loop too */
		return s->watch ? on_watch_event(msg, arg) : 0;
	}
	if (kh_msg_cmd(msg) == KH_CMD_REFLECTION &&
	    !kh_parse_reflection(msg, &ev) && ev.has_nonce)
		answered(s, &ev);
	return 0;
}

/*
 * Wait until @until (at most) for events and take those that came: path
 * answers, and records for the watch loop.  -errno when waiting failed.
 */
int take_events(struct sync *s, uint64_t until, uint64_t now)
{
	bool readable;
	int ret;

	ret = wait_fds(s, until, now, &readable);
	if (ret || !readable)
		return ret;
	ret = khnl_events_read(s->ev, on_path_event, s);
	if (ret == -ENOBUFS) {
		s->lost = true;
		ret = 0;
	}
	return ret;
}

/*
 * Probe, from DEV's port, the paths that have not answered yet: at their
 * record's endpoint and at each candidate, all in one go.
 */
static int probe_silent(struct sync *s)
{
	const struct wg_device *dev = s->dev;
	size_t i, t;
	int ret;

	for (i = 0; i < s->n_paths; i++) {
		struct path *pa = &s->paths[i];

		if (pa->state != PATH_PROBING || pa->sends == PATH_PROBES)
			continue;
		for (t = 1; t < pa->n_targets; t++) {
			ret = kh_probe_keys(&s->nl, dev->listen_port,
					    &pa->target[t], dev->public_key,
					    NULL, 0,
					    pa->cnonce[pa->sends][t - 1]);
			/* an unreachable LAN is no reason to stop */
			if (round_fatal(ret))
				return ret;
		}
		ret = kh_probe_keys(&s->nl, dev->listen_port, &pa->rec.endpoint,
				    dev->public_key, NULL, 0,
				    pa->nonce[pa->sends]);
		if (round_fatal(ret))
			return ret;
		pa->sends += !ret;
	}
	return 0;
}

/*
 * Is pa still probed?  Until an answer; then, if that was not from the
 * peer's LAN and a candidate may still answer, PATH_BETTER_MS more.
 */
static bool still_probed(const struct path *pa, uint64_t now)
{
	if (pa->state == PATH_PROBING)
		return true;
	return pa->state == PATH_ANSWERED && pa->best >= 0 &&
	       path_rank(pa, pa->best) > 0 && pa->n_targets > 1 &&
	       now < pa->answered_us + PATH_BETTER_MS * 1000ULL;
}

/*
 * Probe every path from DEV's port, PATH_PROBES times over relay_after_ms: an
 * answer from the peer's module means the direct path works both ways.
 */
int probe_paths(struct sync *s)
{
	uint64_t start = now_us(), now, next, step, deadline;
	size_t i, left;
	int ret;

	step = (uint64_t)s->relay_after_ms * 1000 / PATH_PROBES;
	deadline = start + (uint64_t)s->relay_after_ms * 1000;
	next = start;
	while (!s->stop) {
		now = now_us();
		left = 0;
		for (i = 0; i < s->n_paths; i++)
			left += still_probed(&s->paths[i], now);
		if (!left || now >= deadline)
			return 0;
		if (now >= next) {
			ret = probe_silent(s);
			if (ret)
				return ret;
			next += step;
		}
		ret = take_events(s, next < deadline ? next : deadline, now);
		if (ret)
			return ret;
	}
	return 0;
}

/* pa's peer as @dev (a later read of the device) has it; NULL if none. */
const struct wg_peer *peer_in(const struct sync *s,
			      const struct wg_device *dev,
			      const struct path *pa)
{
	return dev ? wg_find_peer(dev, s->dev->peers[pa->peer].public_key) :
		     NULL;
}
