// SPDX-License-Identifier: GPL-2.0
/*
 * The cache of peers sync, pure: its entries, the file's JSON both ways,
 * and the rule for what a round that no reflector answered applies.
 *
 *   {"version":1,"device":"wg0","public_key":"<the device's>","peers":[
 *   {"public_key":"...","endpoint":"203.0.113.2:51820","path":"direct",
 *    "source":"learned","reflector":"198.51.100.1:51820","when_ms":...}
 *   ]}
 *
 * One peer a line.  Members it does not know are skipped (a later minor
 * addition); a higher version is refused whole.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kh_reflect.h>

#include "apply.h"
#include "cache.h"
#include "json.h"

static const char *const path_names[] = {
	[CACHE_PATH_DIRECT]	= "direct",
	[CACHE_PATH_BIRTHDAY]	= "birthday",
	[CACHE_PATH_RELAYED]	= "relayed",
};

static const char *const source_names[] = {
	[0]			= "wireguard",
	[KH_SOURCE_OBSERVED]	= "observed",
	[KH_SOURCE_PUSHED]	= "pushed",
	[KH_SOURCE_LEARNED]	= "learned",
};

const char *cache_path_name(uint8_t path)
{
	return path < ARRAY_SIZE(path_names) ? path_names[path] : "unknown";
}

const char *cache_source_name(uint8_t source)
{
	return source < ARRAY_SIZE(source_names) ? source_names[source] :
	       "unknown";
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

void cache_free(struct cache *c)
{
	free(c->v);
	*c = (struct cache){ 0 };
}

/*
 * The cache is of the device with this key from now on: what was noted
 * for another key goes.  True when entries went (the file must change).
 */
bool cache_own(struct cache *c, const uint8_t key[KEY_LEN])
{
	bool dropped;

	if (c->has_key && !memcmp(c->key, key, KEY_LEN))
		return false;
	dropped = c->n != 0;
	c->n = 0;
	memcpy(c->key, key, KEY_LEN);
	c->has_key = true;
	return dropped;
}

struct cache_entry *cache_find(const struct cache *c,
			       const uint8_t key[KEY_LEN])
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!memcmp(c->v[i].key, key, KEY_LEN))
			return &c->v[i];
	return NULL;
}

static bool same_entry(const struct cache_entry *a,
		       const struct cache_entry *b)
{
	return sockaddr_same(&a->endpoint, &b->endpoint) &&
	       a->path == b->path && a->source == b->source &&
	       (a->via.ss_family || b->via.ss_family ?
		sockaddr_same(&a->via, &b->via) : true);
}

/*
 * Note e for its peer.  1 when that changed the cache, 0 when it had it
 * (its time alone is not news: no write for it), -ENOMEM.
 */
int cache_note(struct cache *c, const struct cache_entry *e)
{
	struct cache_entry *old = cache_find(c, e->key), *v;

	if (old) {
		if (same_entry(old, e))
			return 0;
		*old = *e;
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		v = reallocarray(c->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	return 1;
}

bool cache_forget(struct cache *c, const uint8_t key[KEY_LEN])
{
	struct cache_entry *e = cache_find(c, key);

	if (!e)
		return false;
	*e = c->v[--c->n];
	return true;
}

static __attribute__((format(printf, 4, 5)))
int bad(char *why, size_t why_len, unsigned int line, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (line)
		n = (size_t)snprintf(why, why_len, "line %u: ", line);
	if (n >= why_len)
		return -CACHE_BAD_FORMAT;
	va_start(ap, fmt);
	vsnprintf(why + n, why_len - n, fmt, ap);
	va_end(ap);
	return -CACHE_BAD_FORMAT;
}

static int get_endpoint(const struct json_value *o, const char *name,
			bool optional, struct sockaddr_storage *ss,
			char *why, size_t why_len)
{
	const struct json_value *v = json_get(o, name);
	const char *what;
	socklen_t len;

	memset(ss, 0, sizeof(*ss));
	if (optional && (!v || v->type == JSON_NULL))
		return 0;
	if (!v)
		return bad(why, why_len, o->line, "missing %s", name);
	if (v->type != JSON_STRING)
		return bad(why, why_len, v->line, "%s: expected ADDR:PORT, found %s",
			   name, json_type_name(v->type));
	if (parse_endpoint(v->str.s, ss, &len, &what))
		return bad(why, why_len, v->line, "%s: %s", name, what);
	if (!endpoint_is_unicast(ss))
		return bad(why, why_len, v->line, "%s: %s is not unicast", name,
			   v->str.s);
	return 0;
}

static int get_name(const struct json_value *o, const char *member,
		    const char *const *names, size_t n, uint8_t *out,
		    char *why, size_t why_len)
{
	const struct json_value *v = json_get(o, member);
	int i;

	if (!v)
		return bad(why, why_len, o->line, "missing %s", member);
	if (v->type != JSON_STRING ||
	    (i = name_index(names, n, v->str.s)) < 0)
		return bad(why, why_len, v->line, "%s: not one khctl writes",
			   member);
	*out = (uint8_t)i;
	return 0;
}

static int get_key(const struct json_value *o, uint8_t key[KEY_LEN],
		   char *why, size_t why_len)
{
	const struct json_value *v = json_get(o, "public_key");

	if (!v)
		return bad(why, why_len, o->line, "missing public_key");
	if (v->type != JSON_STRING || key_from_base64(key, v->str.s))
		return bad(why, why_len, v->line,
			   "public_key: not a base64 key of %d bytes", KEY_LEN);
	return 0;
}

static int one_peer(const struct json_value *o, struct cache_entry *e,
		    char *why, size_t why_len)
{
	const struct json_value *v;
	int ret;

	memset(e, 0, sizeof(*e));
	if (o->type != JSON_OBJECT)
		return bad(why, why_len, o->line, "expected a peer object, found %s",
			   json_type_name(o->type));
	ret = get_key(o, e->key, why, why_len);
	if (!ret)
		ret = get_endpoint(o, "endpoint", false, &e->endpoint, why,
				   why_len);
	if (!ret)
		ret = get_endpoint(o, "reflector", true, &e->via, why, why_len);
	if (!ret)
		ret = get_name(o, "path", path_names, ARRAY_SIZE(path_names),
			       &e->path, why, why_len);
	if (!ret)
		ret = get_name(o, "source", source_names,
			       ARRAY_SIZE(source_names), &e->source, why,
			       why_len);
	if (ret)
		return ret;
	v = json_get(o, "when_ms");
	if (!v || v->type != JSON_NUMBER || !v->num.is_uint ||
	    v->num.u > INT64_MAX)
		return bad(why, why_len, v ? v->line : o->line,
			   "when_ms: expected a whole number of milliseconds");
	e->when_ms = (int64_t)v->num.u;
	/* a relay without its reflector says nothing */
	if (e->path == CACHE_PATH_RELAYED && !e->via.ss_family)
		return bad(why, why_len, o->line, "a relayed peer without its reflector");
	return 0;
}

/* The header: version first, so that a newer file is told as such. */
static int header(const struct json_value *doc, const uint8_t own[KEY_LEN],
		  char *why, size_t why_len)
{
	const struct json_value *v;
	uint8_t key[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	int ret;

	if (doc->type != JSON_OBJECT)
		return bad(why, why_len, doc->line, "expected an object, found %s",
			   json_type_name(doc->type));
	v = json_get(doc, "version");
	if (!v || v->type != JSON_NUMBER || !v->num.is_uint || !v->num.u)
		return bad(why, why_len, v ? v->line : doc->line,
			   "no version: not a cache of khctl's");
	if (v->num.u > CACHE_VERSION) {
		snprintf(why, why_len,
			 "version %llu, from a newer khctl (this one reads %d)",
			 (unsigned long long)v->num.u, CACHE_VERSION);
		return -CACHE_BAD_NEWER;
	}
	ret = get_key(doc, key, why, why_len);
	if (ret)
		return ret;
	if (memcmp(key, own, KEY_LEN)) {
		key_to_base64(b64, key);
		snprintf(why, why_len, "it is the cache of another key, %s", b64);
		return -CACHE_BAD_FOREIGN;
	}
	v = json_get(doc, "peers");
	if (!v || v->type != JSON_ARRAY)
		return bad(why, why_len, v ? v->line : doc->line,
			   "peers: expected an array");
	return 0;
}

/*
 * A file's text into c (emptied first), if it is whole, of this khctl's
 * version or an older one, and of the device whose key is own.  0;
 * -CACHE_BAD_* and why; or -ENOMEM.  On error c is left empty.
 */
int cache_parse(const char *text, size_t len, const uint8_t own[KEY_LEN],
		struct cache *c, char *why, size_t why_len)
{
	const struct json_value *peers;
	struct json_error err;
	struct json_value doc;
	struct cache_entry e;
	size_t i;
	int ret;

	cache_free(c);
	if (memchr(text, '\0', len))
		return bad(why, why_len, 0, "a NUL byte: not text");
	if (json_parse(text, len, &doc, &err))
		return bad(why, why_len, err.line, "%s", err.msg);
	ret = header(&doc, own, why, why_len);
	if (ret)
		goto out;
	cache_own(c, own);
	peers = json_get(&doc, "peers");
	for (i = 0; i < peers->arr.n; i++) {
		ret = one_peer(&peers->arr.v[i], &e, why, why_len);
		if (!ret && cache_find(c, e.key))
			ret = bad(why, why_len, peers->arr.v[i].line,
				  "public_key: the peer is there twice");
		if (!ret)
			ret = cache_note(c, &e) < 0 ? -ENOMEM : 0;
		if (ret)
			break;
	}
out:
	json_free(&doc);
	if (ret)
		cache_free(c);
	return ret;
}

static void put_endpoint(FILE *f, const struct sockaddr_storage *ss)
{
	char buf[ENDPOINT_STRLEN];

	if (ss->ss_family && !format_endpoint(ss, buf, sizeof(buf)))
		fprintf(f, "\"%s\"", buf);
	else
		fputs("null", f);
}

/* c as the file has it.  0, or -EIO when f says so. */
int cache_write(const struct cache *c, const char *ifname, FILE *f)
{
	char b64[KEY_B64_LEN + 1];
	size_t i;

	fprintf(f, "{\"version\":%d,\"device\":", CACHE_VERSION);
	json_print_string(f, ifname);
	key_to_base64(b64, c->key);
	fprintf(f, ",\"public_key\":\"%s\",\"peers\":[", b64);
	for (i = 0; i < c->n; i++) {
		const struct cache_entry *e = &c->v[i];

		key_to_base64(b64, e->key);
		fprintf(f, "%s\n{\"public_key\":\"%s\",\"endpoint\":",
			i ? "," : "", b64);
		put_endpoint(f, &e->endpoint);
		fprintf(f, ",\"path\":\"%s\",\"source\":\"%s\",\"reflector\":",
			cache_path_name(e->path), cache_source_name(e->source));
		put_endpoint(f, &e->via);
		fprintf(f, ",\"when_ms\":%lld}", (long long)e->when_ms);
	}
	fputs("\n]}\n", f);
	return ferror(f) ? -EIO : 0;
}

/*
 * In a round that no reflector answered: set the cached endpoint e for a
 * peer whose WireGuard endpoint is wg_ep (ss_family 0: none), last
 * handshake handshake_ms?  wg_ep_silent: wg_ep is the address of a
 * reflector that did not answer.
 *
 * A peer without an endpoint gets it.  So does one at a silent reflector
 * (a peer's own address that no longer answers, or the relay we set,
 * which is gone) unless a live session says that endpoint still works;
 * a relay whose reflector is silent relays nothing, live session or not.
 * Any other endpoint was set by someone else and may work: left alone.
 */
enum cache_verdict cache_decide(const struct cache_entry *e,
				const struct sockaddr_storage *wg_ep,
				bool wg_ep_silent, int64_t handshake_ms,
				int64_t now_ms)
{
	bool relay_gone;

	if (!e || !endpoint_is_unicast(&e->endpoint))
		return CACHE_NONE;
	if (sockaddr_same(&e->endpoint, wg_ep))
		return CACHE_SAME;
	if (!wg_ep->ss_family)
		return CACHE_SET;
	if (!wg_ep_silent)
		return CACHE_KEEP;
	relay_gone = e->path == CACHE_PATH_RELAYED &&
		     sockaddr_same(&e->via, wg_ep);
	if (!relay_gone && !apply_no_session(handshake_ms, now_ms))
		return CACHE_LIVE;
	return CACHE_SET;
}
