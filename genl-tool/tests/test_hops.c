// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the start TTL found from the routers' answers
 * (hops.c): which routers count as ours, and when nothing is said.
 */
#include <string.h>

#include "hops.h"
#include "tap.h"
#include "util.h"

static struct sockaddr_storage ep(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	parse_endpoint(s, &ss, &len, NULL);
	return ss;
}

/*
 * The TTL for routers @from (NULL ends the list, "-" is a silent one, a
 * trailing "=" the reflector itself), us seen as @seen.
 */
static uint8_t ttl(const char *seen,
		   const char *const *from)
{
	struct hop hops[HOPS_MAX];
	struct sockaddr_storage s = ep(seen);
	size_t n;

	memset(hops, 0, sizeof(hops));
	for (n = 0; n < HOPS_MAX && from[n]; n++) {
		const char *f = from[n];

		if (!strcmp(f, "-"))
			continue;
		hops[n].answered = true;
		hops[n].reached = f[0] == '=';
		hops[n].from = ep(f + hops[n].reached);
	}
	return hops_start_ttl(&s, hops, HOPS_MAX);
}

static void test_ttl(struct tap *t)
{
	const char *const home[] = { "192.168.1.1:1", "198.51.100.1:1",
				     "203.0.113.9:1", "=203.0.113.10:1",
				     NULL };
	const char *const cgnat[] = { "192.168.1.1:1", "100.64.0.1:1",
				      "198.51.100.1:1", "=203.0.113.10:1",
				      NULL };
	const char *const three[] = { "192.168.1.1:1", "10.0.0.1:1",
				      "100.64.0.1:1", "198.51.100.1:1",
				      "=203.0.113.10:1", NULL };
	/* the carrier NAT answers from the public address we are seen at */
	const char *const borrowed[] = { "192.0.2.1:1", "203.0.113.1:1",
					 "198.51.100.126:1",
					 "=198.51.100.1:1", NULL };
	const char *const isp_private[] = { "192.168.1.1:1", "198.51.100.1:1",
					    "10.9.9.9:1", "=203.0.113.10:1",
					    NULL };
	const char *const silent[] = { "-", "100.64.0.1:1", NULL };
	const char *const adjacent[] = { "=203.0.113.10:1", NULL };
	const char *const gap[] = { "192.168.1.1:1", "-", "100.64.0.1:1",
				    NULL };
	const char *const v6[] = { "[fd00::1]:1", "[2001:db8::1]:1",
				   "=[2001:db8:1::10]:1", NULL };
	const char *const none[] = { NULL };

	tap_ok(t, ttl("203.0.113.50:1", home) == 2,
	       "one home router: TTL 2");
	tap_ok(t, ttl("203.0.113.77:1", cgnat) == 3,
	       "home router behind a carrier NAT (100.64.0.0/10): TTL 3");
	tap_ok(t, ttl("203.0.113.77:1", three) == 4,
	       "three NATs of private addresses: TTL 4");
	tap_ok(t, ttl("203.0.113.1:1", borrowed) == 3,
	       "a router that answers from the address we are seen at is ours");
	tap_ok(t, ttl("203.0.113.50:1", isp_private) == 2,
	       "a private router beyond a public one is not ours");
	tap_ok(t, ttl("198.51.100.1:1", silent) == 0,
	       "a first router that does not answer: nothing found");
	tap_ok(t, ttl("203.0.113.2:1", adjacent) == 0,
	       "the reflector on our own link: nothing found");
	tap_ok(t, ttl("203.0.113.77:1", gap) == 2,
	       "a silent router ends what counts as ours");
	tap_ok(t, ttl("[2001:db8::77]:1", v6) == 2,
	       "IPv6: the first router only");
	tap_ok(t, ttl("198.51.100.1:1", none) == 0,
	       "no answer at all: nothing found");
}

static void test_private(struct tap *t)
{
	static const struct {
		const char *addr;
		bool private;
	} cases[] = {
		{ "10.1.2.3:1", true }, { "172.16.0.1:1", true },
		{ "172.31.255.1:1", true }, { "172.32.0.1:1", false },
		{ "192.168.0.1:1", true }, { "100.64.0.1:1", true },
		{ "100.127.255.1:1", true }, { "100.128.0.1:1", false },
		{ "169.254.1.1:1", true }, { "192.0.2.1:1", false },
		{ "8.8.8.8:1", false }, { "[fd12::1]:1", true },
		{ "[fe80::1]:1", true }, { "[2001:db8::1]:1", false },
		{ "[::ffff:10.0.0.1]:1", true },
		{ "[::ffff:198.51.100.1]:1", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sockaddr_storage ss = ep(cases[i].addr);

		tap_ok(t, addr_is_private(&ss) == cases[i].private,
		       "%s is %s", cases[i].addr,
		       cases[i].private ? "private" : "not private");
	}
}

int main(void)
{
	struct tap t = { 0 };

	test_ttl(&t);
	test_private(&t);
	return tap_done(&t);
}
