/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The path machine of peers sync: how the check of one peer's path goes
 * from probing its record's endpoint to direct, a birthday pair or a
 * relay, as states and pure transitions (path.c).  The files that talk to
 * the module and to WireGuard while it runs are path_check.c and the
 * path_*.c files it drives.
 */
#ifndef KHCTL_PATH_H
#define KHCTL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "kh.h"

/*
 * Sends per path check over --relay-after: often, since a peer that holds
 * (a safe start) answers only once the other side's packet came.
 */
#define PATH_PROBES		12
/* Where a path is probed: its record's endpoint, then the candidates. */
#define PATH_TARGETS		(1 + KH_MAX_CANDS)
/*
 * An endpoint that answered but carried no handshake is left out so long:
 * a candidate (likely someone else's address), the record's endpoint (a
 * firewall that passes probes only; tried again after the back-off).
 */
#define PATH_BAD_CAND_MS	600000
#define PATH_BAD_DIRECT_MS	60000
/*
 * After a first answer that is not from the peer's LAN, the probing waits
 * this long for a better one (an answer over a router that hairpins may
 * come first).
 */
#define PATH_BETTER_MS		300

enum path_state {
	PATH_PROBING,		/* probed at its record's endpoint, no answer */
	PATH_ANSWERED,		/* the peer's module answered: direct works */
	PATH_HEARD,		/* the peer's own probe came: rec says whence */
	PATH_BIRTHDAY,		/* a birthday session looks for a pair */
	PATH_PAIR_FOUND,	/* it found one, at bday_at */
	PATH_PAIR_MISSED,	/* it ended without one, or never began */
	PATH_CONFIRMING,	/* set direct, until WireGuard shows it works */
	PATH_WANT_RELAY,	/* no direct path: relay via chosen_relay */
	PATH_ASKING_RELAY,	/* asked, until it says the peer asked too */
	PATH_RELAY_READY,	/* both asked: go_relayed() sets it */
	PATH_DONE,		/* nothing more this check: it works, or there
				 * is no way (and that was said)
				 */
};

/* What happens to a path; path_step() says what each does to it. */
enum path_event {
	PATH_EV_ANSWER,		/* a probe or request of ours was answered */
	PATH_EV_RELAY_GRANTED,	/* an answer that says the relay is ready */
	PATH_EV_HEARD,		/* the peer's own probe reached us */
	PATH_EV_HANDSHAKE,	/* none answered, yet WireGuard shook hands */
	PATH_EV_SET_DIRECT,	/* WireGuard's endpoint set to the path */
	PATH_EV_BIRTHDAY,	/* one side's mapping varies: bday is set */
	PATH_EV_PAIR_FOUND,	/* the session found a pair: bday_at is set */
	PATH_EV_PAIR_MISSED,	/* the session ended without, or never began */
	PATH_EV_PAIR_REFUSED,	/* WireGuard would not take the pair */
	PATH_EV_CONFIRMED,	/* WireGuard shows it works, or the peer left */
	PATH_EV_NO_DIRECT,	/* relay it: chosen_relay is set (or -1) */
	PATH_EV_ASK_RELAY,	/* the relays are asked from now on */
	PATH_EV_ALIVE,		/* a live session's path answered: kept */
};

/* A peer whose path is checked: see check_paths(). */
struct path {
	enum path_state state;
	size_t peer;			/* in dev->peers */
	struct kh_record rec;
	/*
	 * We held its start just now (a safe start): not a state of the
	 * check but a fact it starts from; a direct path then gets a kick.
	 */
	bool held;
	ssize_t current_relay;		/* the reflector relaying it as the
					 * check began, or -1
					 */
	ssize_t chosen_relay;		/* the reflector to relay it through
					 * (path_pick_relay()), or -1
					 */
	/* our direct probes', then (PATH_ASKING_RELAY) our requests' */
	uint8_t nonce[PATH_PROBES][KH_NONCE_LEN];
	int sends;
	/*
	 * target[0] is the record's endpoint, the others the peer's own
	 * addresses (its local candidates) that are not ours; cnonce, our
	 * probes' to those.  best: the target whose answer is the best so
	 * far (path_rank()), -1 before any.
	 */
	struct sockaddr_storage target[PATH_TARGETS];
	size_t n_targets;
	uint8_t cnonce[PATH_PROBES][PATH_TARGETS - 1][KH_NONCE_LEN];
	int best;
	uint64_t answered_us;		/* the first answer; 0: none yet */
	uint8_t bday;			/* enum kh_bday_mode; 0: none */
	struct sockaddr_storage bday_at; /* found: the peer's endpoint */
	/* PATH_CONFIRMING: since when, to where, WireGuard's count before */
	struct sockaddr_storage direct;
	int64_t since_ms;		/* wall clock */
	uint64_t rx_bytes;
};

struct reflector;

void path_step(struct path *pa, enum path_event ev);
void path_bday_session(struct path *pa, const struct kh_bday *b);
uint8_t path_bday_mode(bool our_varies, bool peer_varies);
ssize_t path_pick_relay(const struct reflector *refl, size_t n,
			const struct sockaddr_storage *peer_ep);
int path_rank(const struct path *pa, int t);
void path_answered_at(struct path *pa, int t);

#endif
