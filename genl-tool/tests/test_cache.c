// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the cache of peers sync (cache.c): the file both
 * ways, what it refuses (truncated, corrupt, foreign, newer), what is news
 * to it, and what a round that no reflector answered applies from it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kh_reflect.h>

#include "apply.h"
#include "cache.h"
#include "tap.h"

#define NOW	1700000000000LL		/* ms, Unix time */

static const uint8_t own[KEY_LEN] = { 1, 2, 3 };
static const uint8_t other[KEY_LEN] = { 9, 9, 9 };

static struct sockaddr_storage ep(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (s)
		parse_endpoint(s, &ss, &len, NULL);
	return ss;
}

static struct cache_entry entry(uint8_t k, const char *e, uint8_t path,
				uint8_t source, const char *via, int64_t when)
{
	struct cache_entry x = { .path = path, .source = source,
				 .when_ms = when };

	memset(x.key, k, KEY_LEN);
	x.endpoint = ep(e);
	x.via = ep(via);
	return x;
}

/* The written text of c, NUL-terminated; free() it. */
static char *written(const struct cache *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	if (cache_write(c, "wg0", f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static bool entries_equal(const struct cache_entry *a,
			  const struct cache_entry *b)
{
	return !memcmp(a->key, b->key, KEY_LEN) &&
	       sockaddr_same(&a->endpoint, &b->endpoint) &&
	       a->via.ss_family == b->via.ss_family &&
	       (!a->via.ss_family || sockaddr_same(&a->via, &b->via)) &&
	       a->path == b->path && a->source == b->source &&
	       a->when_ms == b->when_ms;
}

static void sample(struct cache *c)
{
	struct cache_entry v[] = {
		entry(0x11, "203.0.113.2:51820", CACHE_PATH_DIRECT,
		      KH_SOURCE_LEARNED, "198.51.100.1:51820", NOW - 5000),
		entry(0x22, "[2001:db8:b::2]:40000", CACHE_PATH_DIRECT,
		      KH_SOURCE_OBSERVED, NULL, NOW),
		entry(0x33, "203.0.113.7:1024", CACHE_PATH_RELAYED,
		      KH_SOURCE_LEARNED, "[2001:db8:ff00::1]:51820", 1),
		entry(0x44, "203.0.113.9:61000", CACHE_PATH_BIRTHDAY,
		      KH_SOURCE_PUSHED, NULL, NOW),
		entry(0x55, "192.0.2.66:51820", CACHE_PATH_DIRECT, 0, NULL,
		      NOW),
	};
	size_t i;

	*c = (struct cache){ 0 };
	cache_own(c, own);
	for (i = 0; i < ARRAY_SIZE(v); i++)
		cache_note(c, &v[i]);
}

static void test_round_trip(struct tap *t)
{
	struct cache c, back = { 0 };
	char why[160] = "", *text;
	size_t len, i;
	bool same;
	int ret;

	sample(&c);
	text = written(&c, &len);
	if (!tap_ok(t, text != NULL, "the cache is written"))
		return;
	ret = cache_parse(text, len, own, &back, why, sizeof(why));
	tap_ok(t, ret == 0, "what was written reads back (%s)", why);
	same = back.n == c.n && !memcmp(back.key, own, KEY_LEN);
	for (i = 0; same && i < c.n; i++)
		same = entries_equal(&c.v[i], &back.v[i]);
	tap_ok(t, same, "every member of every peer reads back as it was");
	tap_ok(t, strstr(text, "\"version\":1,\"device\":\"wg0\"") != NULL,
	       "the file says its version and device");
	tap_ok(t, strstr(text, "\"path\":\"relayed\",\"source\":\"learned\",\"reflector\":\"[2001:db8:ff00::1]:51820\"") &&
	       strstr(text, "\"source\":\"wireguard\",\"reflector\":null"),
	       "relayed peers name their reflector; WireGuard's own endpoints say so");

	/* every cut short of the end is refused, and leaves nothing */
	same = true;
	for (i = 0; i + 1 < len; i++) {
		ret = cache_parse(text, i, own, &back, why, sizeof(why));
		if (ret != -CACHE_BAD_FORMAT || back.n) {
			same = false;
			break;
		}
	}
	tap_ok(t, same, "a truncated file is refused at every length (first taken: %zu of %zu)",
	       i, len);
	ret = cache_parse(text, len, other, &back, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_FOREIGN && !back.n &&
	       strstr(why, "another key"), "the file of another key is foreign: %s", why);
	free(text);
	cache_free(&c);
	cache_free(&back);
}

static const char *const good_peer =
	"{\"public_key\":\"ERERERERERERERERERERERERERERERERERERERERERE=\","
	"\"endpoint\":\"203.0.113.2:51820\",\"path\":\"direct\","
	"\"source\":\"learned\",\"reflector\":null,\"when_ms\":5";

/* A document with own's key, the given version and peers text. */
static int parse_doc(const char *version, const char *peers,
		     struct cache *c, char *why, size_t why_len)
{
	char b64[KEY_B64_LEN + 1], doc[1024];

	key_to_base64(b64, own);
	snprintf(doc, sizeof(doc),
		 "{\"version\":%s,\"device\":\"wg0\",\"public_key\":\"%s\",\"peers\":[%s]}",
		 version, b64, peers);
	return cache_parse(doc, strlen(doc), own, c, why, why_len);
}

static void test_refused(struct tap *t)
{
	static const struct {
		const char *version, *peer_tail, *name;
	} bad[] = {
		{ "1", ",\"when_ms\":-1}", "a negative time" },
		{ "1", ",\"when_ms\":1.5}", "a time with a fraction" },
		{ "1", ",\"path\":\"sideways\"}", "a path khctl does not write" },
		{ "1", ",\"source\":\"hearsay\"}", "a source khctl does not write" },
		{ "1", ",\"endpoint\":\"224.0.0.1:51820\"}", "a multicast endpoint" },
		{ "1", ",\"endpoint\":\"203.0.113.2\"}", "an endpoint without port" },
		{ "1", ",\"public_key\":\"short\"}", "a key that is not one" },
		{ "1", ",\"path\":\"relayed\"}", "a relay without its reflector" },
		{ "0", "}", "version 0" },
		{ "\"1\"", "}", "a version that is a string" },
	};
	char peers[512], why[160];
	struct cache c = { 0 };
	size_t i;
	int ret;

	/* json_get() takes the last of a repeated member: the tail wins */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(peers, sizeof(peers), "%s%s", good_peer,
			 bad[i].peer_tail);
		why[0] = '\0';
		ret = parse_doc(bad[i].version, peers, &c, why, sizeof(why));
		tap_ok(t, ret == -CACHE_BAD_FORMAT && !c.n && why[0],
		       "refused: %s (%s)", bad[i].name, why);
	}
	snprintf(peers, sizeof(peers), "%s},%s}", good_peer, good_peer);
	ret = parse_doc("1", peers, &c, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_FORMAT && !c.n,
	       "refused: a peer twice (%s)", why);
	snprintf(peers, sizeof(peers), "%s}", good_peer);
	ret = parse_doc("2", peers, &c, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_NEWER && !c.n && strstr(why, "newer"),
	       "refused: a newer version (%s)", why);
	snprintf(peers, sizeof(peers), "%s,\"later\":[1,2]}", good_peer);
	ret = parse_doc("1", peers, &c, why, sizeof(why));
	tap_ok(t, ret == 0 && c.n == 1 && c.v[0].key[0] == 0x11 &&
	       c.v[0].when_ms == 5 && c.v[0].source == KH_SOURCE_LEARNED,
	       "taken: a member khctl does not know is skipped");
	ret = cache_parse("\x7f" "ELF\0\1", 6, own, &c, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_FORMAT && !c.n, "refused: binary garbage (%s)", why);
	ret = cache_parse("[]", 2, own, &c, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_FORMAT && !c.n, "refused: not an object (%s)", why);
	ret = cache_parse("", 0, own, &c, why, sizeof(why));
	tap_ok(t, ret == -CACHE_BAD_FORMAT, "refused: an empty file (%s)", why);
	cache_free(&c);
}

static void test_note(struct tap *t)
{
	struct cache_entry a = entry(0x11, "203.0.113.2:51820", CACHE_PATH_DIRECT,
				     KH_SOURCE_LEARNED, "198.51.100.1:51820",
				     NOW);
	struct cache_entry b = a;
	struct cache c = { 0 };

	cache_own(&c, own);
	tap_ok(t, cache_note(&c, &a) == 1 && c.n == 1, "a new peer is news");
	b.when_ms = NOW + 25000;
	tap_ok(t, cache_note(&c, &b) == 0 && c.v[0].when_ms == NOW,
	       "the same again, later, is not (no write per round)");
	b.via = ep("198.51.100.2:51820");
	tap_ok(t, cache_note(&c, &b) == 1 && c.v[0].when_ms == NOW + 25000,
	       "another reflector is news, with its time");
	b.source = KH_SOURCE_OBSERVED;
	tap_ok(t, cache_note(&c, &b) == 1 && c.v[0].source == KH_SOURCE_OBSERVED,
	       "another source is news");
	b.path = CACHE_PATH_RELAYED;
	tap_ok(t, cache_note(&c, &b) == 1 && c.v[0].path == CACHE_PATH_RELAYED,
	       "another path is news");
	b.endpoint = ep("203.0.113.2:51821");
	tap_ok(t, cache_note(&c, &b) == 1 && c.n == 1 &&
	       sockaddr_same(&c.v[0].endpoint, &b.endpoint),
	       "another endpoint replaces the old one");
	tap_ok(t, !cache_own(&c, own) && c.n == 1, "the same owner keeps the peers");
	tap_ok(t, cache_own(&c, other) && c.n == 0 && !memcmp(c.key, other, KEY_LEN),
	       "another key for the device drops them");
	cache_note(&c, &a);
	tap_ok(t, cache_forget(&c, a.key) && !c.n && !cache_forget(&c, a.key),
	       "a peer that left is forgotten once");
	cache_free(&c);
}

static void decides(struct tap *t, const struct cache_entry *e,
		    const char *wg, bool silent, int64_t handshake_ms,
		    enum cache_verdict want, const char *name)
{
	struct sockaddr_storage w = ep(wg);

	tap_ok(t, cache_decide(e, &w, silent, handshake_ms, NOW) == want,
	       "%s", name);
}

static void test_decide(struct tap *t)
{
	const char *r = "198.51.100.1:51820";
	struct cache_entry d = entry(0x11, "203.0.113.2:51820", CACHE_PATH_DIRECT,
				     KH_SOURCE_LEARNED, r, NOW - 600000);
	struct cache_entry rel = d, none = d;
	int64_t live = NOW - 60000, dead = NOW - APPLY_FRESH_HANDSHAKE_MS - 1;

	rel.path = CACHE_PATH_RELAYED;
	none.endpoint = ep(NULL);
	decides(t, NULL, NULL, false, 0, CACHE_NONE, "nothing cached: nothing set");
	decides(t, &none, NULL, false, 0, CACHE_NONE, "no endpoint cached: nothing set");
	decides(t, &d, NULL, false, 0, CACHE_SET, "no endpoint in WireGuard: set (after a reboot)");
	decides(t, &d, NULL, false, live, CACHE_SET, "no endpoint in WireGuard, whatever the handshake: set");
	decides(t, &d, "203.0.113.2:51820", true, 0, CACHE_SAME, "the same endpoint: nothing to do");
	decides(t, &d, "203.0.113.5:51820", false, 0, CACHE_KEEP,
		"an endpoint that is no silent reflector: WireGuard's, kept");
	decides(t, &d, "203.0.113.5:51820", true, 0, CACHE_SET,
		"at a silent reflector, never a handshake: set");
	decides(t, &d, "203.0.113.5:51820", true, dead, CACHE_SET,
		"at a silent reflector, a dead session: set");
	decides(t, &d, "203.0.113.5:51820", true, live, CACHE_LIVE,
		"at a silent reflector with a live session: kept");
	decides(t, &d, "203.0.113.5:51820", true, NOW + 5000, CACHE_LIVE,
		"a handshake in the future counts as live");
	decides(t, &rel, r, true, live, CACHE_SET,
		"relayed through the reflector now silent: set, live or not");
	decides(t, &rel, "198.51.100.2:51820", true, live, CACHE_LIVE,
		"relayed through another reflector, live: kept");
}

int main(void)
{
	struct tap t = { 0 };

	test_round_trip(&t);
	test_refused(&t);
	test_note(&t);
	test_decide(&t);
	return tap_done(&t);
}
