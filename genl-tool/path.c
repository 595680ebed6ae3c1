// SPDX-License-Identifier: GPL-2.0
/*
 * The path machine of peers sync, pure: every change of a path's state is
 * made in path_step(), and the choices it rests on (birthday or not, which
 * relay) are functions of their inputs.  tests/test_path.c checks them.
 *
 *   PROBING ---answer---> ANSWERED ---heard---> HEARD    (PROBING too)
 *   ANSWERED ---alive (a live session's path answered)---> DONE
 *   PROBING ---handshake---> DONE
 *   ANSWERED, HEARD, PAIR_FOUND ---set direct---> CONFIRMING
 *   PROBING ---birthday---> BIRTHDAY ---pair found---> PAIR_FOUND
 *                                    ---pair missed--> PAIR_MISSED
 *   PAIR_FOUND ---pair refused---> DONE
 *   CONFIRMING ---confirmed---> DONE
 *   PROBING, BIRTHDAY, PAIR_MISSED, CONFIRMING ---no direct--->
 *           WANT_RELAY (a reflector can relay), else DONE
 *   WANT_RELAY ---ask relay---> RELAY_READY (it relays already: renewed)
 *                                 or ASKING_RELAY
 *   ASKING_RELAY ---relay granted, or heard---> RELAY_READY
 *
 * Any other event leaves the state as it is: a late answer to a direct
 * probe, say, while a birthday session runs.
 */
#include "hops.h"
#include "path.h"
#include "reflector.h"
#include "util.h"

/* The peer's module answered, or its own probe came. */
static enum path_state answered(const struct path *pa, enum path_event ev)
{
	switch (pa->state) {
	case PATH_PROBING:
		/* in the probing, any answer to our probe counts */
		return ev == PATH_EV_HEARD ? PATH_HEARD : PATH_ANSWERED;
	case PATH_ANSWERED:
		return ev == PATH_EV_HEARD ? PATH_HEARD : PATH_ANSWERED;
	case PATH_ASKING_RELAY:
		/*
		 * Only the answer that says the peer asked too makes a relay;
		 * the peer's own probe arriving counts as one, as it always
		 * has (with no direct path found, it seldom comes).
		 */
		if (ev == PATH_EV_ANSWER)
			return pa->state;
		return PATH_RELAY_READY;
	default:
		return pa->state;
	}
}

/* No direct path: to the relay, if one was chosen. */
static enum path_state no_direct(const struct path *pa)
{
	switch (pa->state) {
	case PATH_PROBING:
	case PATH_BIRTHDAY:
	case PATH_PAIR_MISSED:
	case PATH_CONFIRMING:
		return pa->chosen_relay >= 0 ? PATH_WANT_RELAY : PATH_DONE;
	default:
		return pa->state;
	}
}

static bool in(enum path_state st, enum path_state a, enum path_state b,
	       enum path_state c)
{
	return st == a || st == b || st == c;
}

/* The one place where a path's state changes: see the top of this file. */
void path_step(struct path *pa, enum path_event ev)
{
	enum path_state st = pa->state;

	switch (ev) {
	case PATH_EV_ANSWER:
	case PATH_EV_RELAY_GRANTED:
	case PATH_EV_HEARD:
		st = answered(pa, ev);
		break;
	case PATH_EV_HANDSHAKE:
		if (st == PATH_PROBING)
			st = PATH_DONE;
		break;
	case PATH_EV_SET_DIRECT:
		if (in(st, PATH_ANSWERED, PATH_HEARD, PATH_PAIR_FOUND))
			st = PATH_CONFIRMING;
		break;
	case PATH_EV_BIRTHDAY:
		if (st == PATH_PROBING)
			st = PATH_BIRTHDAY;
		break;
	case PATH_EV_PAIR_FOUND:
	case PATH_EV_PAIR_MISSED:
		if (st == PATH_BIRTHDAY)
			st = ev == PATH_EV_PAIR_FOUND ? PATH_PAIR_FOUND :
							PATH_PAIR_MISSED;
		break;
	case PATH_EV_PAIR_REFUSED:
		if (st == PATH_PAIR_FOUND)
			st = PATH_DONE;
		break;
	case PATH_EV_CONFIRMED:
		if (st == PATH_CONFIRMING)
			st = PATH_DONE;
		break;
	case PATH_EV_ALIVE:
		if (st == PATH_ANSWERED)
			st = PATH_DONE;
		break;
	case PATH_EV_NO_DIRECT:
		st = no_direct(pa);
		break;
	case PATH_EV_ASK_RELAY:
		/* relayed through the chosen one already: it only renews */
		if (st == PATH_WANT_RELAY)
			st = pa->chosen_relay == pa->current_relay ?
			     PATH_RELAY_READY : PATH_ASKING_RELAY;
		break;
	}
	pa->state = st;
}

/*
 * What the module says of pa's birthday session (b, NULL if it has none):
 * a pair found, or over without one; running, it goes on.
 */
void path_bday_session(struct path *pa, const struct kh_bday *b)
{
	if (pa->state != PATH_BIRTHDAY)
		return;
	if (b && b->state == KH_BDAY_FOUND && b->found.ss_family) {
		pa->bday_at = b->found;
		path_step(pa, PATH_EV_PAIR_FOUND);
	} else if (!b || b->state != KH_BDAY_RUNNING) {
		path_step(pa, PATH_EV_PAIR_MISSED);
	}
}

/*
 * Birthday probing, when exactly one side's mapping varies by destination:
 * the side that varies sprays, the other probes.  0: not for this path.
 */
uint8_t path_bday_mode(bool our_varies, bool peer_varies)
{
	if (our_varies && !peer_varies)
		return KH_BDAY_SPRAY;
	if (!our_varies && peer_varies)
		return KH_BDAY_PROBE;
	return 0;
}

/* A reflector that can relay for us: it answered under the mesh key. */
static bool can_relay(const struct reflector *r)
{
	return r->answered && r->auth;
}

/*
 * Which of the n reflectors relays the peer at peer_ep: of those that
 * answered under the mesh key, the lowest endpoint (never the peer
 * itself).  The peer, asking the same reflectors, picks the same one: a
 * relay needs both to ask it.  -1: none.
 */
ssize_t path_pick_relay(const struct reflector *refl, size_t n,
			const struct sockaddr_storage *peer_ep)
{
	ssize_t best = -1;
	size_t j;

	for (j = 0; j < n; j++)
		if (can_relay(&refl[j]) &&
		    !sockaddr_same(&refl[j].addr, peer_ep) &&
		    (best < 0 || sockaddr_cmp(&refl[j].addr,
					     &refl[best].addr) < 0))
			best = (ssize_t)j;
	return best;
}

/*
 * How good target @t of @pa is, lower better: one of the peer's own
 * addresses before what the reflector saw (no NAT on the way, and it works
 * where the NAT does not hairpin); of those, a private or unique local
 * one (its LAN) first, then IPv6 (no NAT at all), then IPv4.
 */
int path_rank(const struct path *pa, int t)
{
	const struct sockaddr_storage *a = &pa->target[t];

	if (!t)
		return 3;
	if (addr_is_private(a))
		return 0;
	return a->ss_family == AF_INET6 ? 1 : 2;
}

/* Target @t answered: the best so far? */
void path_answered_at(struct path *pa, int t)
{
	if (pa->best < 0 || path_rank(pa, t) < path_rank(pa, pa->best))
		pa->best = t;
}
