// SPDX-License-Identifier: GPL-2.0
/* Host unit tests for util.c: endpoints, numbers, JSON strings, base64. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

static void endpoint_ok(struct tap *t, const char *in, int family,
			const char *out)
{
	struct sockaddr_storage ss;
	char buf[ENDPOINT_STRLEN];
	const char *why = NULL;
	socklen_t len = 0;
	int ret;

	ret = parse_endpoint(in, &ss, &len, &why);
	if (!tap_ok(t, !ret && ss.ss_family == family &&
		    len == sockaddr_len(&ss), "parse %s", in)) {
		printf("# why: %s\n", why ? why : "(none)");
		return;
	}
	ret = format_endpoint(&ss, buf, sizeof(buf));
	tap_ok(t, !ret && !strcmp(buf, out), "format %s -> %s (got %s)", in,
	       out, ret ? "error" : buf);
}

static void endpoint_bad(struct tap *t, const char *in, const char *why_has)
{
	struct sockaddr_storage ss;
	const char *why = NULL;
	socklen_t len = 0;
	int ret;

	ret = parse_endpoint(in, &ss, &len, &why);
	tap_ok(t, ret == -EINVAL && why && ss.ss_family == 0 &&
	       (!why_has || strstr(why, why_has)),
	       "reject '%s' (%s)", in, why ? why : "accepted");
}

static void test_endpoints(struct tap *t)
{
	struct sockaddr_storage ss;
	socklen_t len;

	endpoint_ok(t, "192.0.2.1:51820", AF_INET, "192.0.2.1:51820");
	endpoint_ok(t, "0.0.0.0:1", AF_INET, "0.0.0.0:1");
	endpoint_ok(t, "255.255.255.255:65535", AF_INET,
		    "255.255.255.255:65535");
	endpoint_ok(t, "[2001:db8::1]:51820", AF_INET6, "[2001:db8::1]:51820");
	endpoint_ok(t, "[2001:DB8:0:0:0:0:0:1]:443", AF_INET6,
		    "[2001:db8::1]:443");
	endpoint_ok(t, "[::ffff:192.0.2.1]:7", AF_INET6, "[::ffff:192.0.2.1]:7");
	endpoint_ok(t, "[::]:9", AF_INET6, "[::]:9");

	endpoint_bad(t, "192.0.2.1", "missing port");
	endpoint_bad(t, "192.0.2.1:", "missing port");
	endpoint_bad(t, "192.0.2.1:0", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:65536", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:99999999999", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:-1", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:+1", "1 to 65535");
	endpoint_bad(t, "192.0.2.1: 1", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:1x", "1 to 65535");
	endpoint_bad(t, "192.0.2.1:0x10", "1 to 65535");
	endpoint_bad(t, "junk", "missing port");
	endpoint_bad(t, "junk:51820", "not an IPv4");
	endpoint_bad(t, ":51820", "not an IPv4");
	endpoint_bad(t, "192.0.2:51820", "not an IPv4");
	endpoint_bad(t, "256.0.2.1:51820", "not an IPv4");
	endpoint_bad(t, " 192.0.2.1:51820", "not an IPv4");
	endpoint_bad(t, "192.0.2.1.5:51820", "not an IPv4");
	endpoint_bad(t, "example.com:51820", "not an IPv4");
	endpoint_bad(t, "[2001:db8::1:51820", "missing ']'");
	endpoint_bad(t, "[2001:db8::1", "missing ']'");
	endpoint_bad(t, "2001:db8::1:51820", "brackets");
	endpoint_bad(t, "::1:51820", "brackets");
	endpoint_bad(t, "[2001:db8::1]", "missing port");
	endpoint_bad(t, "[2001:db8::1]:", "missing port");
	endpoint_bad(t, "[2001:db8::1]51820", "missing port");
	endpoint_bad(t, "[2001:db8::1]:0", "1 to 65535");
	endpoint_bad(t, "[2001:db8::1]:65536", "1 to 65535");
	endpoint_bad(t, "[]:51820", "not an IPv6");
	endpoint_bad(t, "[192.0.2.1]:51820", "not an IPv6");
	endpoint_bad(t, "[fe80::1%eth0]:51820", "not an IPv6");
	endpoint_bad(t, "[2001:db8::g]:51820", "not an IPv6");
	endpoint_bad(t, "[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa]:1",
		     "not an IPv6");
	endpoint_bad(t, "", "empty");
	endpoint_bad(t, NULL, "empty");

	tap_ok(t, parse_endpoint("192.0.2.1", &ss, &len, NULL) == -EINVAL,
	       "parse_endpoint without a why pointer");
}

static void test_u32(struct tap *t)
{
	static const struct {
		const char *s;
		uint32_t min, max;
		int ret;
		uint32_t v;
	} c[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "0", 1, 10, -ERANGE, 0 },
		{ "4294967295", 0, UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT32_MAX, -ERANGE, 0 },
		{ "007", 0, 10, 0, 7 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "1e3", 0, 10000, -EINVAL, 0 },
		{ "0x1", 0, 10, -EINVAL, 0 },
	};
	uint32_t v;
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		v = 12345;
		ret = parse_u32(c[i].s, c[i].min, c[i].max, &v);
		tap_ok(t, ret == c[i].ret && (ret || v == c[i].v),
		       "parse_u32('%s', %u..%u) = %d", c[i].s, c[i].min,
		       c[i].max, c[i].ret);
	}
	tap_ok(t, parse_u32(NULL, 0, 1, &v) == -EINVAL, "parse_u32(NULL)");
}

static void test_sockaddr_bytes(struct tap *t)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(51820) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(1) };
	struct sockaddr_in6 wrong = { .sin6_family = AF_INET };
	struct sockaddr_storage ss;
	char buf[ENDPOINT_STRLEN];

	inet_pton(AF_INET, "203.0.113.1", &sin.sin_addr);
	tap_ok(t, !sockaddr_from_bytes(&sin, sizeof(sin), &ss) &&
	       ss.ss_family == AF_INET && !format_endpoint(&ss, buf, sizeof(buf)) &&
	       !strcmp(buf, "203.0.113.1:51820"), "sockaddr_in, exact size");
	tap_ok(t, !sockaddr_from_bytes(&sin6, sizeof(sin6), &ss) &&
	       ss.ss_family == AF_INET6, "sockaddr_in6, exact size");
	tap_ok(t, sockaddr_from_bytes(&sin, sizeof(sin) - 1, &ss) == -EINVAL,
	       "sockaddr_in one byte short");
	tap_ok(t, sockaddr_from_bytes(&wrong, sizeof(wrong), &ss) == -EINVAL,
	       "AF_INET with the size of a sockaddr_in6");
	sin6.sin6_family = AF_INET6;
	tap_ok(t, sockaddr_from_bytes(&sin6, sizeof(sin), &ss) == -EINVAL,
	       "AF_INET6 with the size of a sockaddr_in");
	tap_ok(t, sockaddr_from_bytes(&sin, 1, &ss) == -EINVAL &&
	       sockaddr_from_bytes(&sin, 0, &ss) == -EINVAL,
	       "no room for a family");
	sin.sin_family = AF_UNIX;
	tap_ok(t, sockaddr_from_bytes(&sin, sizeof(sin), &ss) == -EINVAL,
	       "other families");
}

static void test_format(struct tap *t)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char buf[ENDPOINT_STRLEN], small[8];
	socklen_t len;

	tap_ok(t, format_endpoint(&ss, buf, sizeof(buf)) == -EAFNOSUPPORT,
	       "format rejects other families");
	parse_endpoint("[2001:db8::1]:51820", &ss, &len, NULL);
	tap_ok(t, format_endpoint(&ss, small, sizeof(small)) == -ENOSPC,
	       "format reports a short buffer");
	parse_endpoint("[fe80::1]:51820", &ss, &len, NULL);
	sin6->sin6_scope_id = 999999;
	tap_ok(t, !format_endpoint(&ss, buf, sizeof(buf)) &&
	       !strcmp(buf, "[fe80::1%999999]:51820"),
	       "format keeps a scope (%s)", buf);
}

static void escape_is(struct tap *t, const char *in, const char *out,
		      const char *name)
{
	char buf[256];
	size_t n;

	n = json_escape(buf, sizeof(buf), in);
	tap_ok(t, n == strlen(out) && !strcmp(buf, out), "json: %s", name);
}

static void test_json(struct tap *t)
{
	char buf[8], *mem = NULL, long_in[300], long_out[310];
	size_t n, size = 0;
	FILE *f;

	escape_is(t, "wg0", "wg0", "plain");
	escape_is(t, "", "", "empty");
	escape_is(t, "a\"b\\c", "a\\\"b\\\\c", "quote and backslash");
	escape_is(t, "\n\r\t", "\\n\\r\\t", "short escapes");
	escape_is(t, "\x01\x1f\x7f", "\\u0001\\u001f\\u007f", "control bytes");
	escape_is(t, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "valid UTF-8 kept");
	escape_is(t, "a\xff!", "a\\ufffd!", "invalid byte");
	escape_is(t, "\xc0\xaf", "\\ufffd\\ufffd", "overlong form");
	escape_is(t, "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd", "surrogate");
	escape_is(t, "x\xe2\x82", "x\\ufffd\\ufffd", "truncated at the end");
	escape_is(t, "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd",
		  "beyond U+10FFFF");

	n = json_escape(buf, sizeof(buf), "abcdefghij");
	tap_ok(t, n == 10 && !strcmp(buf, "abcdefg"),
	       "json: truncates like snprintf");
	tap_ok(t, json_escape(NULL, 0, "a\"") == 3, "json: size query");

	memset(long_in, 'x', sizeof(long_in) - 1);
	long_in[sizeof(long_in) - 1] = '\0';
	long_in[0] = '"';
	snprintf(long_out, sizeof(long_out), "\"\\\"%s\"", long_in + 1);
	f = open_memstream(&mem, &size);
	if (!f) {
		tap_ok(t, false, "open_memstream");
		return;
	}
	json_print_string(f, "wg\"0");
	json_print_string(f, long_in);
	fclose(f);
	tap_ok(t, mem && !strncmp(mem, "\"wg\\\"0\"", 7) &&
	       !strcmp(mem + 7, long_out), "json_print_string, short and long");
	free(mem);
}

static void b64_is(struct tap *t, const char *in, const char *out)
{
	uint8_t back[16];
	char buf[32];
	size_t n = 0;
	int ret;

	base64_encode(buf, (const uint8_t *)in, strlen(in));
	ret = base64_decode(out, strlen(out), back, sizeof(back), &n);
	tap_ok(t, !strcmp(buf, out) && !ret && n == strlen(in) &&
	       !memcmp(back, in, n), "base64: '%s' <-> '%s' (got '%s')", in,
	       out, buf);
}

static void b64_bad(struct tap *t, const char *in, const char *name)
{
	uint8_t out[64];
	size_t n = 99;

	tap_ok(t, base64_decode(in, strlen(in), out, sizeof(out), &n) ==
	       -EINVAL && n == 0, "base64: reject %s", name);
}

static void test_base64(struct tap *t)
{
	static const char *const bad_keys[] = {
		"",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* no pad */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",	/* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",	/* bits */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",	/* 31 bytes */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=",	/* url-safe */
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",	/* blank */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	};
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char b64[KEY_B64_LEN + 1];
	size_t i, n;
	bool ok = true;

	b64_is(t, "", "");
	b64_is(t, "f", "Zg==");
	b64_is(t, "fo", "Zm8=");
	b64_is(t, "foo", "Zm9v");
	b64_is(t, "foob", "Zm9vYg==");
	b64_is(t, "fooba", "Zm9vYmE=");
	b64_is(t, "foobar", "Zm9vYmFy");
	b64_is(t, "\xfb\xff\xbf", "+/+/");

	b64_bad(t, "Zg=", "a length not a multiple of 4");
	b64_bad(t, "Zh==", "non-zero unused bits (one byte)");
	b64_bad(t, "Zm9=", "non-zero unused bits (two bytes)");
	b64_bad(t, "Z===", "three pads");
	b64_bad(t, "Zg=A", "a pad inside");
	b64_bad(t, "====", "only pads");
	b64_bad(t, "Zm 9", "a blank inside");
	b64_bad(t, "Zm9v\xc3\xa9" "AA", "a non-ASCII byte");
	b64_bad(t, "Zm9-", "the URL-safe alphabet");

	tap_ok(t, base64_decode("Zm9vYmFy", 8, back, 5, &n) == -EMSGSIZE &&
	       n == 6, "base64: too long for the buffer, length still told");

	memset(key, 0xff, sizeof(key));
	key_to_base64(b64, key);
	tap_ok(t, !strcmp(b64, "//////////////////////////////////////////8="),
	       "key: all 0xff encodes as wg does");
	for (i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)i;
	key_to_base64(b64, key);
	tap_ok(t, !strcmp(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") &&
	       strlen(b64) == KEY_B64_LEN, "key: 0..31 encodes to 44 chars");
	tap_ok(t, !key_from_base64(back, b64) && !memcmp(back, key, KEY_LEN),
	       "key: decodes back");

	/* every byte value in every position survives the round trip */
	for (i = 0; i < 256 && ok; i++) {
		memset(key, (int)i, sizeof(key));
		key[i % KEY_LEN] = (uint8_t)(255 - i);
		key_to_base64(b64, key);
		ok = !key_from_base64(back, b64) && !memcmp(back, key, KEY_LEN);
	}
	tap_ok(t, ok, "key: round trip of 256 patterns");

	for (i = 0; i < ARRAY_SIZE(bad_keys); i++)
		tap_ok(t, key_from_base64(back, bad_keys[i]) == -EINVAL,
		       "key: reject bad key %zu", i);
}

static void test_same_unicast(struct tap *t)
{
	struct sockaddr_storage a, b;
	struct sockaddr_in6 *a6 = (void *)&a, *b6 = (void *)&b;
	socklen_t len;

	parse_endpoint("192.0.2.1:51820", &a, &len, NULL);
	parse_endpoint("192.0.2.1:51820", &b, &len, NULL);
	tap_ok(t, sockaddr_same(&a, &b), "same: equal IPv4");
	parse_endpoint("192.0.2.1:51821", &b, &len, NULL);
	tap_ok(t, !sockaddr_same(&a, &b), "same: other port");
	tap_ok(t, sockaddr_same_addr(&a, &b), "same address: other port");
	parse_endpoint("192.0.2.2:51820", &b, &len, NULL);
	tap_ok(t, !sockaddr_same_addr(&a, &b), "same address: other address");
	parse_endpoint("[2001:db8::1]:1", &a, &len, NULL);
	parse_endpoint("[2001:db8::1]:2", &b, &len, NULL);
	tap_ok(t, sockaddr_same_addr(&a, &b), "same address: IPv6, other port");
	parse_endpoint("192.0.2.1:51820", &a, &len, NULL);
	parse_endpoint("[::ffff:192.0.2.1]:51820", &b, &len, NULL);
	tap_ok(t, !sockaddr_same(&a, &b), "same: families differ");
	memset(&b, 0, sizeof(b));
	tap_ok(t, !sockaddr_same(&a, &b), "same: none is not an endpoint");
	tap_ok(t, !sockaddr_same(&b, &b), "same: none equals nothing");

	parse_endpoint("[fe80::1]:51820", &a, &len, NULL);
	parse_endpoint("[fe80::1]:51820", &b, &len, NULL);
	a6->sin6_flowinfo = 7;
	tap_ok(t, sockaddr_same(&a, &b), "same: flow label ignored");
	a6->sin6_scope_id = 3;
	tap_ok(t, sockaddr_same(&a, &b), "same: a scope on one side only");
	b6->sin6_scope_id = 4;
	tap_ok(t, !sockaddr_same(&a, &b), "same: two scopes differ");

	parse_endpoint("192.0.2.1:1", &a, &len, NULL);
	tap_ok(t, endpoint_is_unicast(&a), "unicast: 192.0.2.1");
	parse_endpoint("0.1.2.3:1", &a, &len, NULL);
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not 0.0.0.0/8");
	parse_endpoint("224.0.0.1:1", &a, &len, NULL);
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not multicast");
	parse_endpoint("255.255.255.255:1", &a, &len, NULL);
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not broadcast");
	parse_endpoint("[2001:db8::1]:1", &a, &len, NULL);
	tap_ok(t, endpoint_is_unicast(&a), "unicast: 2001:db8::1");
	parse_endpoint("[::]:1", &a, &len, NULL);
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not ::");
	parse_endpoint("[ff02::1]:1", &a, &len, NULL);
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not ff02::1");
	memset(&a, 0, sizeof(a));
	tap_ok(t, !endpoint_is_unicast(&a), "unicast: not none");

	/* the order both ends of a relay pick their reflector by */
	parse_endpoint("198.51.100.2:51820", &a, &len, NULL);
	parse_endpoint("198.51.100.10:1", &b, &len, NULL);
	tap_ok(t, sockaddr_cmp(&a, &b) < 0 && sockaddr_cmp(&b, &a) > 0,
	       "cmp: by address as numbers, not as text");
	parse_endpoint("198.51.100.2:256", &b, &len, NULL);
	tap_ok(t, sockaddr_cmp(&b, &a) < 0, "cmp: then by port (256 < 51820)");
	tap_ok(t, sockaddr_cmp(&a, &a) == 0, "cmp: equal");
	parse_endpoint("[::1]:1", &b, &len, NULL);
	tap_ok(t, sockaddr_cmp(&a, &b) < 0 && sockaddr_cmp(&b, &a) > 0,
	       "cmp: IPv4 before IPv6");
	parse_endpoint("[2001:db8::1]:51820", &a, &len, NULL);
	b6->sin6_scope_id = 0;
	tap_ok(t, sockaddr_cmp(&b, &a) < 0, "cmp: IPv6 by address");
}

int main(void)
{
	struct tap t = { 0 };

	test_endpoints(&t);
	test_u32(&t);
	test_sockaddr_bytes(&t);
	test_format(&t);
	test_json(&t);
	test_base64(&t);
	test_same_unicast(&t);
	return tap_done(&t);
}
