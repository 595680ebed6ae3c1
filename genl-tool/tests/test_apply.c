// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the rule that decides whether a record's endpoint
 * replaces WireGuard's (apply_decide()), and for the TTL an import gives.
 */
#include <string.h>

#include "apply.h"
#include "netcheck.h"
#include "import.h"
#include "tap.h"
#include "util.h"

#define NOW	1700000000000LL		/* ms, Unix time */

static struct sockaddr_storage ep(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!s)
		memset(&ss, 0, sizeof(ss));
	else
		parse_endpoint(s, &ss, &len, NULL);
	return ss;
}

static void is(struct tap *t, const char *rec, uint32_t age_ms,
	       const char *wg, int64_t handshake_ms, enum apply_verdict want,
	       const char *name)
{
	struct sockaddr_storage r = ep(rec), w = ep(wg);

	tap_ok(t, apply_decide(&r, age_ms, &w, handshake_ms, NOW) == want,
	       "%s", name);
}

static void test_decide(struct tap *t)
{
	const char *a = "203.0.113.2:51820", *b = "198.51.100.7:40000";

	is(t, a, 0, a, 0, APPLY_SAME, "same endpoint: nothing to do");
	is(t, a, 500000, a, NOW, APPLY_SAME, "same endpoint, whatever the times");
	is(t, "[2001:db8::2]:1", 0, "[2001:db8::2]:1", 0, APPLY_SAME,
	   "same IPv6 endpoint");
	is(t, a, 0, NULL, 0, APPLY_SET, "WireGuard has none: set");
	is(t, a, 0, b, 0, APPLY_SET, "never a handshake: set");
	is(t, a, 5000, b, NOW - 1000, APPLY_HANDSHAKE,
	   "handshake 1 s ago, record confirmed 5 s ago: keep WireGuard's");
	is(t, a, 1000, b, NOW - 5000, APPLY_SET,
	   "handshake 5 s ago, record confirmed 1 s ago: set");
	is(t, a, 5000, b, NOW - 5000, APPLY_SET,
	   "handshake exactly as old as the record: set");
	is(t, a, 600000, b, NOW - 180000, APPLY_HANDSHAKE,
	   "handshake 180 s ago (the edge), older record: keep");
	is(t, a, 600000, b, NOW - 180001, APPLY_SET,
	   "handshake 180.001 s ago: stale, set");
	is(t, a, 600000, b, NOW - 3600000, APPLY_SET,
	   "handshake an hour ago: set");
	is(t, a, 0, b, NOW + 2000, APPLY_HANDSHAKE,
	   "handshake in the future (clock stepped back): fresh");
	is(t, a, UINT32_MAX, b, NOW - 170000, APPLY_HANDSHAKE,
	   "a record as old as u32 ms gets: the handshake wins");
	is(t, a, 5000, "203.0.113.2:51821", NOW - 1000, APPLY_HANDSHAKE,
	   "another port is another endpoint (kept: fresher handshake)");
	is(t, a, 0, "203.0.113.2:51821", NOW - 1000, APPLY_SET,
	   "another port is another endpoint (set: fresher record)");
}

static void test_restart(struct tap *t)
{
	tap_ok(t, apply_restart(0, NOW, 1), "restart: never a handshake");
	tap_ok(t, !apply_restart(NOW - 1000, NOW, 1),
	       "restart: not with a handshake 1 s ago (a live session)");
	tap_ok(t, !apply_restart(NOW - 180000, NOW, 1),
	       "restart: not at 180 s (the edge)");
	tap_ok(t, apply_restart(NOW - 180001, NOW, 1),
	       "restart: a handshake 180.001 s ago backs no session");
	tap_ok(t, !apply_restart(NOW + 5000, NOW, 1),
	       "restart: not with a handshake in the future");
	tap_ok(t, apply_restart(0, NOW, WG_RESTART_MAX_ALLOWEDIPS),
	       "restart: as many allowed IPs as fit");
	tap_ok(t, !apply_restart(0, NOW, WG_RESTART_MAX_ALLOWEDIPS + 1),
	       "restart: not with more allowed IPs than fit one message");
}

#define L KH_SOURCE_LEARNED

static void test_direct_works(struct tap *t)
{
	const int64_t since = NOW - 2000;

	tap_ok(t, !apply_direct_works(since, 0, false, false),
	       "direct: probes answered, no handshake, nothing received: not yet");
	tap_ok(t, !apply_direct_works(since, since - 1, false, false),
	       "direct: a handshake from before the path was set does not count");
	tap_ok(t, apply_direct_works(since, since, false, false),
	       "direct: a handshake as the path was set counts");
	tap_ok(t, apply_direct_works(since, NOW, false, false),
	       "direct: a handshake since counts");
	tap_ok(t, apply_direct_works(since, since - 60000, true, false),
	       "direct: bytes received since count (a live session moved over)");
	tap_ok(t, !apply_direct_works(since, NOW, true, true),
	       "direct: not while WireGuard's endpoint is a relay");
}

static void test_start_role(struct tap *t)
{
	tap_ok(t, apply_start_role(true, 2, L, 0) == APPLY_START_HOLD,
	       "start: no session, not told the peer holds: we hold");
	tap_ok(t, apply_start_role(true, 2, L, KH_RECORD_F_WAITING) ==
		  APPLY_START_FIRST,
	       "start: the peer holds: we send first");
	tap_ok(t, apply_start_role(false, 2, L, 0) == APPLY_START_NONE,
	       "start: none with a live session");
	tap_ok(t, apply_start_role(false, 2, L, KH_RECORD_F_WAITING) ==
		  APPLY_START_NONE,
	       "start: none with a live session, flag or not");
	tap_ok(t, apply_start_role(true, 0, L, 0) == APPLY_START_NONE,
	       "start: none with TTL 0 (--start-ttl 0)");
	tap_ok(t, apply_start_role(true, 0, L, KH_RECORD_F_WAITING) ==
		  APPLY_START_NONE,
	       "start: TTL 0 sends at once, flag or not");
	tap_ok(t, apply_start_role(true, 2, KH_SOURCE_OBSERVED, 0) ==
		  APPLY_START_NONE,
	       "start: none toward where the peer's own probe came from");
	tap_ok(t, apply_start_role(true, 2, KH_SOURCE_PUSHED, 0) ==
		  APPLY_START_HOLD,
	       "start: an administrator's record holds like a learned one");
}

static void nc(struct tap *t, const char *r1, const char *s1, const char *r2,
	       const char *s2, enum nc_verdict varies, enum nc_verdict kept,
	       const char *what)
{
	struct nc_answer a[2] = {
		{ .refl = ep(r1), .seen = ep(s1) },
		{ .refl = ep(r2), .seen = ep(s2) },
	};
	struct netcheck n;

	netcheck_analyze(a, 2, 51820, &n);
	tap_ok(t, n.v4.varies == varies && n.v4.port_kept == kept, "%s", what);
}

/* Two reflectors' other-port checks: asked, answered. */
static enum nc_verdict filtered(bool ask1, bool got1, bool seen2, bool ask2,
				bool got2)
{
	struct nc_answer a[2] = {
		{ .refl = ep("198.51.100.1:51820"),
		  .seen = ep("203.0.113.1:51820"),
		  .alt_asked = ask1, .alt_answered = got1 },
		{ .refl = ep("198.51.100.2:51820"),
		  .seen = ep(seen2 ? "203.0.113.1:51820" : NULL),
		  .alt_asked = ask2, .alt_answered = got2 },
	};
	struct netcheck n;

	netcheck_analyze(a, 2, 51820, &n);
	return n.v4.port_filtered;
}

/* One reflector, seen as s1 at its port and as s2 (or none) at its second. */
static void nc1(struct tap *t, const char *s1, const char *s2,
		enum nc_verdict varies, enum nc_verdict kept, const char *what)
{
	struct nc_answer a[1] = {
		{ .refl = ep("198.51.100.1:51820"), .seen = ep(s1),
		  .seen2 = ep(s2) },
	};
	struct netcheck n;

	netcheck_analyze(a, 1, 51820, &n);
	tap_ok(t, n.v4.varies == varies && n.v4.port_kept == kept, "%s", what);
}

static void test_netcheck(struct tap *t)
{
	struct nc_answer a[2];
	struct netcheck n;

	nc(t, "198.51.100.1:51820", "203.0.113.1:51820", "198.51.100.2:51820",
	   "203.0.113.1:51820", NC_NO, NC_YES,
	   "netcheck: two addresses, one endpoint: not varying, port kept");
	nc(t, "198.51.100.1:51820", "203.0.113.1:4000", "198.51.100.2:51820",
	   "203.0.113.1:4001", NC_YES, NC_NO,
	   "netcheck: two endpoints: varying (symmetric), port not kept");
	nc(t, "198.51.100.1:51820", "203.0.113.1:4000", "198.51.100.2:51820",
	   "203.0.113.1:4000", NC_NO, NC_NO,
	   "netcheck: one endpoint on another port: not varying, port not kept");
	nc(t, "198.51.100.1:51820", "203.0.113.1:51820", "198.51.100.1:51821",
	   "203.0.113.1:51820", NC_UNKNOWN, NC_YES,
	   "netcheck: two reflectors at one address cannot tell");
	nc(t, "198.51.100.1:51820", "203.0.113.1:51820", "198.51.100.2:51820",
	   NULL, NC_UNKNOWN, NC_YES,
	   "netcheck: one answer of two cannot tell");

	nc1(t, "203.0.113.1:51820", NULL, NC_UNKNOWN, NC_YES,
	    "netcheck: one reflector, no second-port answer: cannot tell");
	nc1(t, "203.0.113.1:51820", "203.0.113.1:51820", NC_NO, NC_YES,
	    "netcheck: one reflector's two ports agree: not varying");
	nc1(t, "203.0.113.1:4000", "203.0.113.1:4001", NC_YES, NC_NO,
	    "netcheck: one reflector's two ports differ: varying (symmetric)");
	nc1(t, "203.0.113.1:51820", "203.0.113.1:4001", NC_YES, NC_NO,
	    "netcheck: the second port moved: varying, port not kept");

	tap_ok(t, filtered(true, false, true, true, false) == NC_YES,
	       "netcheck: no other-port answer of two: filtered by port");
	tap_ok(t, filtered(true, false, true, true, true) == NC_NO,
	       "netcheck: one other-port answer gets in: not filtered by port");
	tap_ok(t, filtered(false, false, true, false, false) == NC_UNKNOWN,
	       "netcheck: not asked (no mesh key): unknown");
	tap_ok(t, filtered(true, false, false, true, false) == NC_YES,
	       "netcheck: a reflector that did not answer at all does not count");
	tap_ok(t, filtered(false, false, false, true, false) == NC_UNKNOWN,
	       "netcheck: asked only where nothing came back: unknown");

	memset(a, 0, sizeof(a));
	a[0].refl = ep("198.51.100.1:51820");
	a[0].seen = ep("203.0.113.1:51820");
	a[1].refl = ep("[2001:db8::1]:51820");
	netcheck_analyze(a, 2, 51820, &n);
	tap_ok(t, n.v4.answered == 1 && n.v6.asked == 1 && !n.v6.answered &&
		  n.v6.varies == NC_UNKNOWN,
	       "netcheck: families apart; IPv6 asked, not answered");
}

static void test_ttl(struct tap *t)
{
	tap_ok(t, import_ttl(0) == 1, "ttl: 0 ms -> 1 s (the minimum)");
	tap_ok(t, import_ttl(1) == 1, "ttl: 1 ms -> 1 s");
	tap_ok(t, import_ttl(1000) == 1, "ttl: 1000 ms -> 1 s");
	tap_ok(t, import_ttl(1001) == 2, "ttl: 1001 ms -> 2 s, rounded up");
	tap_ok(t, import_ttl(588000) == 588, "ttl: 588000 ms -> 588 s");
	tap_ok(t, import_ttl(86400000) == 86400, "ttl: a day");
	tap_ok(t, import_ttl(86400001) == 86400, "ttl: past a day -> a day");
	tap_ok(t, import_ttl(UINT64_MAX) == 86400, "ttl: u64 max -> a day");
}

int main(void)
{
	struct tap t = { 0 };

	test_decide(&t);
	test_restart(&t);
	test_direct_works(&t);
	test_start_role(&t);
	test_netcheck(&t);
	test_ttl(&t);
	return tap_done(&t);
}
