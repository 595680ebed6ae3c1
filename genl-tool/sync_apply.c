// SPDX-License-Identifier: GPL-2.0
/*
 * A round's records into WireGuard (apply_record() on each), and the
 * bookkeeping around them: the changes made, the starts held for the path
 * check, the records that change between rounds, and the peers whose
 * endpoint the path check chose and apply leaves alone.
 */
#include <errno.h>
#include <string.h>

#include "hops.h"
#include "sync.h"
#include "util.h"

int add_change(struct sync *s, const struct change *ch)
{
	struct change *v = grow(s->changes, s->n_changes, &s->cap_changes,
				sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->changes = v;
	s->changes[s->n_changes++] = *ch;
	note_change(s, ch);
	return 0;
}

/* Remember a change that started with a hold: see check_paths(). */
int note_held(struct sync *s, const struct change *ch)
{
	uint8_t (*v)[KH_KEY_LEN];

	if (ch->start != APPLY_START_HOLD)
		return 0;
	v = grow(s->held, s->n_held, &s->cap_held, sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->held = v;
	memcpy(s->held[s->n_held++], ch->key, KH_KEY_LEN);
	return 0;
}

/* Was key's start held?  Forgotten once asked. */
bool take_held(struct sync *s, const uint8_t *key)
{
	size_t i;

	for (i = 0; i < s->n_held; i++) {
		if (memcmp(s->held[i], key, KH_KEY_LEN))
			continue;
		memmove(s->held[i], s->held[i + 1],
			(s->n_held - i - 1) * sizeof(*s->held));
		s->n_held--;
		return true;
	}
	return false;
}

/*
 * A peer whose endpoint is a reflector's, not its record's: relayed.  Its
 * record is for check_paths() to try, never to set over the relay.
 */
bool relayed(const struct sync *s, const struct wg_peer *p,
	     const struct kh_record *rec)
{
	return !sockaddr_same(&rec->endpoint, &p->endpoint) &&
	       reflector_at(s, &p->endpoint) >= 0;
}

/* The found birthday session of p, whose pair WireGuard uses; or NULL. */
const struct kh_bday *bday_of(const struct sync *s, const struct wg_peer *p)
{
	const struct kh_bday *b;

	b = kh_bdays_find(&s->bdays, s->dev->listen_port, p->public_key);
	if (!b || b->state != KH_BDAY_FOUND)
		return NULL;
	/* the probe side talks to what it found; the spray side rewrites */
	if (!sockaddr_same(&p->endpoint, b->mode == KH_BDAY_PROBE ?
			   &b->found : &b->target))
		return NULL;
	return b;
}

/*
 * A peer whose endpoint check_paths() chose: a relay, the pair that
 * birthday probing found, or one of the peer's own addresses (a LAN path)
 * while its session lives.  Its record is for check_paths() to try, never
 * for apply to set over it.
 */
bool chosen(const struct sync *s, const struct wg_peer *p,
	    const struct kh_record *rec)
{
	const struct kh_bday *b = bday_of(s, p);

	return relayed(s, p, rec) || (b && b->mode == KH_BDAY_PROBE) ||
	       (kh_record_is_cand(rec, &p->endpoint) &&
		!apply_no_session(p->last_handshake_ms, realtime_ms()));
}

static int family_slot(int family)
{
	return family == AF_INET6;
}

/*
 * After a round: per family, the first reflector that answered and what
 * it saw of us.  What it saw moved (another network, another NAT): the
 * start TTL is found again (hold_ttl(), or find_ttl_ahead()).
 */
void note_seen(struct sync *s)
{
	bool done[2] = { false, false };
	size_t i;

	for (i = 0; i < s->n_refl; i++) {
		const struct reflector *r = &s->refl[i];
		int f = family_slot(r->addr.ss_family);

		if (!r->answered || done[f] ||
		    r->seen_as.ss_family != r->addr.ss_family)
			continue;
		done[f] = true;
		if (sockaddr_same(&s->found[f].seen, &r->seen_as) &&
		    sockaddr_same(&s->found[f].refl, &r->addr))
			continue;
		s->found[f].refl = r->addr;
		s->found[f].seen = r->seen_as;
		s->found[f].ttl = 0;
	}
}

/*
 * --watch, after a round: find the start TTL now if it is not known, so
 * that a push that makes us hold finds it ready.  Not before applying: a
 * side that sends first (the other holds, for 2 s at most) must not wait
 * for it.
 */
void find_ttl_ahead(struct sync *s)
{
	if (!s->watch || s->start_ttl_given || !s->start_ttl)
		return;
	hold_ttl(s, AF_INET);
	hold_ttl(s, AF_INET6);
}

/*
 * The TTL a hold over @family leaves with: --start-ttl, else the one found
 * toward the reflector (hops.c, once per what it saw of us), else the
 * default.
 */
uint8_t hold_ttl(struct sync *s, int family)
{
	int f = family_slot(family);

	if (s->start_ttl_given)
		return s->start_ttl;
	if (!s->found[f].ttl && s->found[f].refl.ss_family) {
		s->found[f].ttl = hops_find(&s->found[f].refl,
					    &s->found[f].seen, s->dev->fwmark);
		if (!s->found[f].ttl)
			s->found[f].ttl = APPLY_DEFAULT_START_TTL;
	}
	return s->found[f].ttl ? s->found[f].ttl : APPLY_DEFAULT_START_TTL;
}

/*
 * The start TTL apply_record() gets for @rec: looked for only when it
 * would hold, so that a side that sends first loses no time.
 */
uint8_t start_ttl_for(struct sync *s, const struct wg_peer *p,
		      const struct kh_record *rec, int64_t now)
{
	if (s->start_ttl_given)
		return s->start_ttl;
	if (apply_start_role(apply_no_session(p->last_handshake_ms, now),
			     APPLY_DEFAULT_START_TTL, rec->source,
			     rec->flags) != APPLY_START_HOLD)
		return APPLY_DEFAULT_START_TTL;
	return hold_ttl(s, rec->endpoint.ss_family);
}

/* Every peer's record, applied.  Failures are printed. */
int apply_all(struct sync *s)
{
	char key[KEY_B64_LEN + 1];
	struct kh_record rec;
	struct change ch;
	int64_t now = realtime_ms();
	int ret, failed = 0;
	size_t i;

	for (i = 0; i < s->dev->n_peers; i++) {
		struct wg_peer *p = &s->dev->peers[i];

		ret = kh_get_peer(&s->nl, p->public_key, &rec);
		if (ret == -ENOENT || (!ret && chosen(s, p, &rec)))
			continue;
		if (ret) {
			key_to_base64(key, p->public_key);
			khnl_perror(&s->nl, ret, "reading the record of %s", key);
			failed = ret;
			continue;
		}
		ret = apply_record(&s->nl, s->dev, p, &rec, now, true,
				   start_ttl_for(s, p, &rec, now), &ch);
		if (ret < 0)
			failed = ret;
		else if (ret && (add_change(s, &ch) || note_held(s, &ch)))
			return -ENOMEM;
	}
	return failed;
}

/* A record that changed between rounds: kept for apply_pending(). */
int on_watch_event(struct nl_msg *msg, void *arg)
{
	struct sync *s = arg;
	struct kh_record rec, *v;

	if (nlmsg_hdr(msg)->nlmsg_type != s->nl.kh_family ||
	    kh_msg_cmd(msg) != KH_CMD_PEER_EVENT)
		return 0;
	if (kh_parse_record(msg, &rec) ||
	    (rec.event != KH_EVENT_ADDED && rec.event != KH_EVENT_CHANGED) ||
	    !s->dev || !wg_find_peer(s->dev, rec.key))
		return 0;
	v = grow(s->pending, s->n_pending, &s->cap_pending, sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->pending = v;
	s->pending[s->n_pending++] = rec;
	return 0;
}
