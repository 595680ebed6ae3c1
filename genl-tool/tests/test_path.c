// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the path machine of peers sync (path.c): each
 * transition of path_step(), what a birthday session does to a path, the
 * birthday mode, and the choice of the relay.
 */
#include <string.h>

#include "path.h"
#include "reflector.h"
#include "tap.h"
#include "util.h"

static const char *const names[] = {
	[PATH_PROBING] = "probing",
	[PATH_ANSWERED] = "answered",
	[PATH_HEARD] = "heard",
	[PATH_BIRTHDAY] = "birthday",
	[PATH_PAIR_FOUND] = "pair found",
	[PATH_PAIR_MISSED] = "pair missed",
	[PATH_CONFIRMING] = "confirming",
	[PATH_WANT_RELAY] = "want relay",
	[PATH_ASKING_RELAY] = "asking relay",
	[PATH_RELAY_READY] = "relay ready",
	[PATH_DONE] = "done",
};

static struct sockaddr_storage ep(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (s)
		parse_endpoint(s, &ss, &len, NULL);
	return ss;
}

/* A path in state st, relayed by current (or -1), to relay via chosen. */
static struct path at(enum path_state st, ssize_t current, ssize_t chosen)
{
	return (struct path){
		.state = st, .current_relay = current, .chosen_relay = chosen,
	};
}

/* From state from, event ev takes a path to want. */
static void goes(struct tap *t, enum path_state from, enum path_event ev,
		 enum path_state want, const char *why)
{
	struct path pa = at(from, -1, 0);

	path_step(&pa, ev);
	tap_ok(t, pa.state == want, "%s -> %s: %s (got %s)", names[from],
	       names[want], why, names[pa.state]);
}

static void test_probing(struct tap *t)
{
	struct path pa = at(PATH_PROBING, -1, -1);

	goes(t, PATH_PROBING, PATH_EV_ANSWER, PATH_ANSWERED,
	     "the peer's module answered a probe");
	goes(t, PATH_PROBING, PATH_EV_RELAY_GRANTED, PATH_ANSWERED,
	     "while probing, any answer to our nonce counts");
	goes(t, PATH_PROBING, PATH_EV_HEARD, PATH_HEARD,
	     "the peer's own probe came first");
	goes(t, PATH_ANSWERED, PATH_EV_HEARD, PATH_HEARD,
	     "its own probe after our answer: heard wins");
	goes(t, PATH_HEARD, PATH_EV_ANSWER, PATH_HEARD,
	     "an answer after its own probe: still heard");
	goes(t, PATH_ANSWERED, PATH_EV_ANSWER, PATH_ANSWERED,
	     "a second answer changes nothing");
	goes(t, PATH_PROBING, PATH_EV_HANDSHAKE, PATH_DONE,
	     "silent, yet WireGuard shook hands: it works");
	goes(t, PATH_ANSWERED, PATH_EV_HANDSHAKE, PATH_ANSWERED,
	     "a handshake is news only to a silent path");
	goes(t, PATH_ANSWERED, PATH_EV_ALIVE, PATH_DONE,
	     "a live session's stalled path answered: kept as it is");
	goes(t, PATH_PROBING, PATH_EV_ALIVE, PATH_PROBING,
	     "alive only after an answer");
	goes(t, PATH_PROBING, PATH_EV_SET_DIRECT, PATH_PROBING,
	     "a silent path is not set direct");

	/* the whole way of a path that answers */
	path_step(&pa, PATH_EV_ANSWER);
	path_step(&pa, PATH_EV_SET_DIRECT);
	path_step(&pa, PATH_EV_CONFIRMED);
	tap_ok(t, pa.state == PATH_DONE,
	       "answered, set direct, confirmed: done (got %s)",
	       names[pa.state]);
}

static void test_direct(struct tap *t)
{
	goes(t, PATH_ANSWERED, PATH_EV_SET_DIRECT, PATH_CONFIRMING,
	     "set direct after an answer: WireGuard must confirm");
	goes(t, PATH_HEARD, PATH_EV_SET_DIRECT, PATH_CONFIRMING,
	     "set from its own probe: WireGuard must confirm");
	goes(t, PATH_PAIR_FOUND, PATH_EV_SET_DIRECT, PATH_CONFIRMING,
	     "a birthday pair set: WireGuard must confirm");
	goes(t, PATH_CONFIRMING, PATH_EV_CONFIRMED, PATH_DONE,
	     "WireGuard shows it works");
	goes(t, PATH_CONFIRMING, PATH_EV_HEARD, PATH_CONFIRMING,
	     "its own probe while confirming: WireGuard still decides");
	goes(t, PATH_CONFIRMING, PATH_EV_ANSWER, PATH_CONFIRMING,
	     "a late answer while confirming changes nothing");
	goes(t, PATH_ANSWERED, PATH_EV_CONFIRMED, PATH_ANSWERED,
	     "only a path set direct is confirmed");
}

static void test_birthday(struct tap *t)
{
	struct kh_bday b = { .state = KH_BDAY_RUNNING };
	struct path pa = at(PATH_PROBING, -1, -1);

	goes(t, PATH_PROBING, PATH_EV_BIRTHDAY, PATH_BIRTHDAY,
	     "silent, one side's mapping varies: birthday probing");
	goes(t, PATH_ANSWERED, PATH_EV_BIRTHDAY, PATH_ANSWERED,
	     "an answered path needs no birthday");
	goes(t, PATH_BIRTHDAY, PATH_EV_PAIR_FOUND, PATH_PAIR_FOUND,
	     "the session found a pair");
	goes(t, PATH_BIRTHDAY, PATH_EV_PAIR_MISSED, PATH_PAIR_MISSED,
	     "the session ended without");
	goes(t, PATH_PAIR_FOUND, PATH_EV_PAIR_REFUSED, PATH_DONE,
	     "WireGuard refused the pair: no relay either");
	goes(t, PATH_BIRTHDAY, PATH_EV_ANSWER, PATH_BIRTHDAY,
	     "a late answer to a direct probe: the session goes on");
	goes(t, PATH_BIRTHDAY, PATH_EV_HEARD, PATH_BIRTHDAY,
	     "its own probe during the session: it goes on");

	path_step(&pa, PATH_EV_BIRTHDAY);
	path_bday_session(&pa, &b);
	tap_ok(t, pa.state == PATH_BIRTHDAY, "session running: still birthday");
	b.state = KH_BDAY_FOUND;
	b.found = ep("203.0.113.9:40001");
	path_bday_session(&pa, &b);
	tap_ok(t, pa.state == PATH_PAIR_FOUND &&
	       sockaddr_same(&pa.bday_at, &b.found),
	       "session found: the pair, at its endpoint");

	pa = at(PATH_BIRTHDAY, -1, -1);
	path_bday_session(&pa, NULL);
	tap_ok(t, pa.state == PATH_PAIR_MISSED, "no session: missed");
	pa = at(PATH_BIRTHDAY, -1, -1);
	b.found = ep(NULL);
	path_bday_session(&pa, &b);
	tap_ok(t, pa.state == PATH_PAIR_MISSED && !pa.bday_at.ss_family,
	       "found with no endpoint: missed");
	pa = at(PATH_BIRTHDAY, -1, -1);
	b.state = KH_BDAY_FAILED;
	path_bday_session(&pa, &b);
	tap_ok(t, pa.state == PATH_PAIR_MISSED, "session out of time: missed");
	pa = at(PATH_CONFIRMING, -1, -1);
	b.state = KH_BDAY_FOUND;
	b.found = ep("203.0.113.9:40001");
	path_bday_session(&pa, &b);
	tap_ok(t, pa.state == PATH_CONFIRMING && !pa.bday_at.ss_family,
	       "a session is news only to a path in birthday");
}

static void no_direct(struct tap *t, enum path_state from, ssize_t chosen,
		      enum path_state want, const char *why)
{
	struct path pa = at(from, -1, chosen);

	path_step(&pa, PATH_EV_NO_DIRECT);
	tap_ok(t, pa.state == want, "%s -> %s: %s (got %s)", names[from],
	       names[want], why, names[pa.state]);
}

static void ask(struct tap *t, ssize_t current, ssize_t chosen,
		enum path_state want, const char *why)
{
	struct path pa = at(PATH_WANT_RELAY, current, chosen);

	path_step(&pa, PATH_EV_ASK_RELAY);
	tap_ok(t, pa.state == want, "want relay -> %s: %s (got %s)",
	       names[want], why, names[pa.state]);
}

static void test_relay(struct tap *t)
{
	no_direct(t, PATH_PROBING, 1, PATH_WANT_RELAY, "silent: relay");
	no_direct(t, PATH_PAIR_MISSED, 0, PATH_WANT_RELAY,
		  "no pair: relay");
	no_direct(t, PATH_BIRTHDAY, 0, PATH_WANT_RELAY,
		  "session out of time: relay");
	no_direct(t, PATH_CONFIRMING, 2, PATH_WANT_RELAY,
		  "WireGuard did not confirm: relay");
	no_direct(t, PATH_PROBING, -1, PATH_DONE,
		  "no reflector can relay: nothing more");
	no_direct(t, PATH_CONFIRMING, -1, PATH_DONE,
		  "unconfirmed, no reflector: nothing more");
	no_direct(t, PATH_ANSWERED, 0, PATH_ANSWERED,
		  "an answered path is not relayed");
	no_direct(t, PATH_DONE, 0, PATH_DONE, "done stays done");

	ask(t, 1, 1, PATH_RELAY_READY,
	    "relayed through the chosen one already: renewed, ready");
	ask(t, -1, 1, PATH_ASKING_RELAY, "not relayed yet: ask");
	ask(t, 0, 1, PATH_ASKING_RELAY,
	    "relayed through another: ask the chosen one");
	goes(t, PATH_CONFIRMING, PATH_EV_ASK_RELAY, PATH_CONFIRMING,
	     "only a path that wants a relay asks");

	goes(t, PATH_ASKING_RELAY, PATH_EV_RELAY_GRANTED, PATH_RELAY_READY,
	     "the reflector says the peer asked too");
	goes(t, PATH_ASKING_RELAY, PATH_EV_ANSWER, PATH_ASKING_RELAY,
	     "an answer that grants nothing: still asking");
	goes(t, PATH_ASKING_RELAY, PATH_EV_HEARD, PATH_RELAY_READY,
	     "the peer's own probe while asking counts as ready");
	goes(t, PATH_WANT_RELAY, PATH_EV_RELAY_GRANTED, PATH_WANT_RELAY,
	     "nothing counts before the relay is asked");
	goes(t, PATH_WANT_RELAY, PATH_EV_HEARD, PATH_WANT_RELAY,
	     "its own probe before the relay is asked: nothing");
	goes(t, PATH_RELAY_READY, PATH_EV_ANSWER, PATH_RELAY_READY,
	     "ready stays ready");
}

static void test_done(struct tap *t)
{
	enum path_event ev;
	struct path pa;
	bool stays = true;

	for (ev = PATH_EV_ANSWER; ev <= PATH_EV_ASK_RELAY; ev++) {
		pa = at(PATH_DONE, 1, 1);
		path_step(&pa, ev);
		stays &= pa.state == PATH_DONE;
	}
	tap_ok(t, stays, "done: no event leaves it");
}

static void test_bday_mode(struct tap *t)
{
	tap_ok(t, path_bday_mode(true, false) == KH_BDAY_SPRAY,
	       "birthday mode: ours varies, the peer's not: we spray");
	tap_ok(t, path_bday_mode(false, true) == KH_BDAY_PROBE,
	       "birthday mode: the peer's varies, ours not: we probe");
	tap_ok(t, path_bday_mode(true, true) == 0,
	       "birthday mode: both vary: none");
	tap_ok(t, path_bday_mode(false, false) == 0,
	       "birthday mode: neither varies: none (the probes would do)");
}

static void test_pick_relay(struct tap *t)
{
	struct reflector r[4] = {
		{ .addr = ep("198.51.100.9:51820"), .answered = true, .auth = true },
		{ .addr = ep("198.51.100.2:51820"), .answered = true, .auth = true },
		{ .addr = ep("198.51.100.1:51820"), .answered = true },
		{ .addr = ep("198.51.100.1:51000"), .auth = true },
	};
	struct sockaddr_storage peer = ep("203.0.113.5:51820");
	struct sockaddr_storage at_r1 = r[1].addr;

	tap_ok(t, path_pick_relay(r, 4, &peer) == 1,
	       "relay: the lowest of those that answered under the key");
	tap_ok(t, path_pick_relay(r, 4, &at_r1) == 0,
	       "relay: never the peer itself");
	tap_ok(t, path_pick_relay(r, 1, &r[0].addr) == -1,
	       "relay: none when the only one is the peer");
	tap_ok(t, path_pick_relay(r + 2, 2, &peer) == -1,
	       "relay: none without an answer under the key");
	tap_ok(t, path_pick_relay(r, 0, &peer) == -1, "relay: none of none");
}

/* The best answer of a path: the peer's LAN, its IPv6, its IPv4, the NAT. */
static void test_rank(struct tap *t)
{
	struct path pa = at(PATH_PROBING, -1, -1);

	pa.target[0] = ep("203.0.113.2:51820");
	pa.target[1] = ep("198.51.100.7:51820");
	pa.target[2] = ep("[2001:db8::7]:51820");
	pa.target[3] = ep("192.168.1.7:51820");
	pa.n_targets = 4;
	pa.best = -1;
	path_answered_at(&pa, 0);
	tap_ok(t, pa.best == 0, "rank: the record's endpoint, when alone (best %d)",
	       pa.best);
	path_answered_at(&pa, 1);
	tap_ok(t, pa.best == 1, "rank: the peer's own IPv4 before the NAT's (best %d)",
	       pa.best);
	path_answered_at(&pa, 2);
	tap_ok(t, pa.best == 2, "rank: its own IPv6 before its own IPv4 (best %d)",
	       pa.best);
	path_answered_at(&pa, 3);
	tap_ok(t, pa.best == 3, "rank: its LAN address before all (best %d)",
	       pa.best);
	path_answered_at(&pa, 0);
	path_answered_at(&pa, 2);
	tap_ok(t, pa.best == 3, "rank: a later, worse answer changes nothing (best %d)",
	       pa.best);
	tap_ok(t, path_rank(&pa, 0) == 3 && path_rank(&pa, 3) == 0,
	       "rank: the record 3, the LAN 0");
}

int main(void)
{
	struct tap t = { 0 };

	test_probing(&t);
	test_direct(&t);
	test_birthday(&t);
	test_relay(&t);
	test_done(&t);
	test_bday_mode(&t);
	test_pick_relay(&t);
	test_rank(&t);
	return tap_done(&t);
}
