// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the JSON reader (json.c) and for what peers import
 * makes of a document (import.c): values, escapes, malformed input, and the
 * line each error names.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "json.h"
#include "tap.h"
#include "util.h"
#include "wg.h"

static bool parse(const char *text, struct json_value *v)
{
	struct json_error err;

	if (json_parse(text, strlen(text), v, &err)) {
		printf("# %u: %s\n", err.line, err.msg);
		return false;
	}
	return true;
}

/* Malformed: refused, on that line, with a message containing has. */
static void bad_len(struct tap *t, const char *text, size_t len,
		    unsigned int line, const char *has, const char *name)
{
	struct json_value v;
	struct json_error err;
	int ret;

	/* an exact-size copy, so ASan sees any read past the end */
	char *copy = malloc(len ? len : 1);

	memcpy(copy, text, len);
	ret = json_parse(copy, len, &v, &err);
	tap_ok(t, ret == -EINVAL && err.line == line && strstr(err.msg, has) &&
	       v.type == JSON_NULL,
	       "reject %s: line %u '%s'", name, err.line, err.msg);
	json_free(&v);
	free(copy);
}

static void bad(struct tap *t, const char *text, unsigned int line,
		const char *has, const char *name)
{
	bad_len(t, text, strlen(text), line, has, name);
}

static void test_values(struct tap *t)
{
	const struct json_value *a, *m;
	struct json_value v;

	tap_ok(t, parse(" null ", &v) && v.type == JSON_NULL, "null");
	json_free(&v);
	tap_ok(t, parse("true", &v) && v.type == JSON_BOOL && v.b, "true");
	json_free(&v);
	tap_ok(t, parse("false", &v) && v.type == JSON_BOOL && !v.b, "false");
	json_free(&v);

	tap_ok(t, parse("0", &v) && v.type == JSON_NUMBER && v.num.is_uint &&
	       v.num.u == 0, "number 0");
	json_free(&v);
	tap_ok(t, parse("18446744073709551615", &v) && v.num.is_uint &&
	       v.num.u == UINT64_MAX, "number: the largest u64");
	json_free(&v);
	tap_ok(t, parse("18446744073709551616", &v) && !v.num.is_uint &&
	       v.num.d > 1.8e19, "number: past u64, still a number");
	json_free(&v);
	tap_ok(t, parse("-12.5e1", &v) && !v.num.is_uint && v.num.d == -125.0,
	       "number: sign, fraction, exponent");
	json_free(&v);
	tap_ok(t, parse("1E+2", &v) && !v.num.is_uint && v.num.d == 100.0,
	       "number: E+");
	json_free(&v);
	tap_ok(t, parse("588000", &v) && v.num.is_uint && v.num.u == 588000,
	       "number: expires_ms kind");
	json_free(&v);

	tap_ok(t, parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\tz\"", &v) &&
	       v.type == JSON_STRING && v.str.len == 10 &&
	       !memcmp(v.str.s, "a\"\\/\b\f\n\r\tz", 10), "string: short escapes");
	json_free(&v);
	tap_ok(t, parse("\"\\u00e9\\u20AC\\ud83d\\udd11\"", &v) &&
	       !strcmp(v.str.s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91"),
	       "string: \\u escapes and a surrogate pair to UTF-8");
	json_free(&v);
	tap_ok(t, parse("\"caf\xc3\xa9\"", &v) && !strcmp(v.str.s, "caf\xc3\xa9"),
	       "string: raw UTF-8 kept");
	json_free(&v);
	tap_ok(t, parse("\"\"", &v) && v.str.len == 0 && !strcmp(v.str.s, ""),
	       "string: empty");
	json_free(&v);

	tap_ok(t, parse("[]", &v) && v.type == JSON_ARRAY && !v.arr.n,
	       "empty array");
	json_free(&v);
	tap_ok(t, parse("{}", &v) && v.type == JSON_OBJECT && !v.obj.n,
	       "empty object");
	json_free(&v);

	if (tap_ok(t, parse("[\n {\"a\": 1,\n  \"b\": [true, null],\n"
			    "  \"a\": \"two\"},\n 7\n]\n", &v) &&
		   v.type == JSON_ARRAY && v.arr.n == 2, "nested document")) {
		a = &v.arr.v[0];
		m = json_get(a, "a");
		tap_ok(t, a->type == JSON_OBJECT && a->obj.n == 3 &&
		       a->line == 2 && m && m->type == JSON_STRING &&
		       !strcmp(m->str.s, "two") && m->line == 4,
		       "a repeated name: the last one, with its line");
		m = json_get(a, "b");
		tap_ok(t, m && m->type == JSON_ARRAY && m->arr.n == 2 &&
		       m->line == 3 && m->arr.v[1].type == JSON_NULL,
		       "array in an object, line 3");
		tap_ok(t, !json_get(a, "c") && !json_get(&v.arr.v[1], "a"),
		       "json_get: missing name, not an object");
		tap_ok(t, v.arr.v[1].line == 5 && v.arr.v[1].num.u == 7,
		       "line of a later element");
	}
	json_free(&v);

	/* JSON_MAX_DEPTH levels are fine */
	{
		char deep[2 * JSON_MAX_DEPTH + 1];

		memset(deep, '[', JSON_MAX_DEPTH);
		memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
		deep[2 * JSON_MAX_DEPTH] = '\0';
		tap_ok(t, parse(deep, &v), "nesting %d deep", JSON_MAX_DEPTH);
		json_free(&v);
	}
}

static void test_malformed(struct tap *t)
{
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1];

	bad(t, "", 1, "expected a value", "empty input");
	bad(t, "  \n\n ", 3, "expected a value", "blank input");
	bad(t, "[1,\n2,\n]", 3, "',' before ']'", "a trailing comma in an array");
	bad(t, "{\"a\":1,}", 1, "',' before '}'", "a trailing comma in an object");
	bad(t, "[1\n2]", 2, "expected ',' or ']', found '2'", "a missing comma");
	bad(t, "{\"a\" 1}", 1, "expected ':'", "a missing colon");
	bad(t, "{a:1}", 1, "member name", "an unquoted name");
	bad(t, "{\"a\":1", 1, "found the end of the input", "an unclosed object");
	bad(t, "[\n\"abc", 2, "unterminated string", "an unterminated string");
	bad(t, "\"a\nb\"", 1, "control character 0x0a", "a raw line end in a string");
	bad(t, "\"\\x\"", 1, "unknown escape '\\x'", "an unknown escape");
	bad(t, "\"\\u12\"", 1, "four hex digits", "a short \\u");
	bad(t, "\"\\u12G4\"", 1, "four hex digits", "a bad hex digit");
	bad(t, "\"\\u0000\"", 1, "\\u0000", "\\u0000");
	bad(t, "\"\\ud800\"", 1, "high surrogate alone", "a lone high surrogate");
	bad(t, "\"\\ud800\\u0041\"", 1, "high surrogate alone",
	    "a high surrogate with no low one");
	bad(t, "\"\\udc00\"", 1, "low surrogate alone", "a lone low surrogate");
	bad(t, "\"abc\\", 1, "unterminated", "a backslash at the very end");
	bad(t, "01", 1, "must not start with 0", "a leading zero");
	bad(t, "-", 1, "expected a digit", "a lone minus");
	bad(t, "1.", 1, "after '.'", "a fraction without digits");
	bad(t, "1e", 1, "exponent", "an exponent without digits");
	bad(t, "+1", 1, "expected a value, found '+'", "a plus sign");
	bad(t, ".5", 1, "expected a value", "a leading dot");
	bad(t, "tru", 1, "expected a value", "a cut literal");
	bad(t, "nulls", 1, "the end of the input", "junk after a literal");
	bad(t, "[1] [2]", 1, "the end of the input", "two documents");
	bad(t, "[NaN]", 1, "expected a value", "NaN");
	bad(t, "['a']", 1, "found '''", "single quotes");
	bad(t, "[1,\n\n\x01]", 3, "byte 0x01", "a control byte between values");
	bad(t, "\xef\xbb\xbf[]", 1, "byte 0xef", "a byte order mark");
	bad_len(t, "[\"a\"\x00]", 6, 1, "byte 0x00", "a NUL byte");
	bad_len(t, "\"a\x00" "b\"", 5, 1, "control character 0x00",
		"a NUL byte in a string");

	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	deep[sizeof(deep) - 1] = '\0';
	bad(t, deep, 1, "nested deeper", "nesting past the limit");
	/* 100,000 deep would blow the stack without the limit */
	{
		size_t n = 100000;
		char *huge = malloc(n + 1);

		memset(huge, '[', n);
		huge[n] = '\0';
		bad(t, huge, 1, "nested deeper", "100,000 open brackets");
		free(huge);
	}
	/* a failure deep inside frees what was built: ASan checks leaks */
	bad(t, "[{\"a\":[1,2,{\"b\":\"c\"}]},{\"d\":[\"e\",}]", 1,
	    "expected a value, found '}'", "an error after nested values");
	bad(t, "{\"a\":{\"b\":[\"x\"", 1, "expected ',' or ']'",
	    "an error at the end of nested values");
}

#define KA "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define KB "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KC "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static void import_bad(struct tap *t, const struct wg_device *dev,
		       const char *text, unsigned int line, const char *has,
		       const char *name)
{
	struct import_rec *v = NULL;
	struct json_error err;
	size_t n = 7;
	int ret;

	ret = import_parse(text, strlen(text), dev, &v, &n, &err);
	tap_ok(t, ret == -EINVAL && !v && !n && err.line == line &&
	       strstr(err.msg, has), "import: reject %s: line %u '%s'", name,
	       err.line, err.msg);
	free(v);
}

static void test_import(struct tap *t)
{
	struct wg_peer peers[2] = { 0 };
	struct wg_device dev = {
		.ifname = "wg0", .peers = peers, .n_peers = 2, .cap_peers = 2,
	};
	struct import_rec *v = NULL;
	struct json_error err;
	char ep[ENDPOINT_STRLEN];
	size_t n = 0;
	int ret;
	const char *good =
		"[\n"
		"{\"public_key\":\"" KB "\",\"endpoint\":\"203.0.113.2:51820\","
		"\"source\":\"learned\",\"port\":51820,\"reflector\":null,"
		"\"age_ms\":12000,\"expires_ms\":588001,\"wg_endpoint\":null},\n"
		"{\"endpoint\":\"[2001:db8::2]:1\",\"public_key\":\"" KA "\"}\n"
		"]\n";

	memset(peers[1].public_key, 1, KEY_LEN);
	wg_sort_peers(&dev);

	ret = import_parse(good, strlen(good), &dev, &v, &n, &err);
	if (tap_ok(t, !ret && n == 2, "import: export's format (%u: %s)",
		   err.line, err.msg)) {
		/* sorted by key: KA first */
		format_endpoint(&v[0].endpoint, ep, sizeof(ep));
		tap_ok(t, v[0].key[0] == 0 && !strcmp(ep, "[2001:db8::2]:1") &&
		       v[0].ttl_s == 0 && v[0].line == 3,
		       "import: no expires_ms, no TTL (%s)", ep);
		format_endpoint(&v[1].endpoint, ep, sizeof(ep));
		tap_ok(t, v[1].key[0] == 1 && !strcmp(ep, "203.0.113.2:51820") &&
		       v[1].ttl_s == 589 && v[1].line == 2,
		       "import: expires_ms 588001 -> 589 s");
	}
	free(v);
	v = NULL;

	ret = import_parse("[]", 2, &dev, &v, &n, &err);
	tap_ok(t, !ret && n == 0, "import: an empty array");
	free(v);
	good = "[{\"public_key\":\"" KC "\",\"endpoint\":\"192.0.2.1:1\","
	       "\"expires_ms\":null}]";
	ret = import_parse(good, strlen(good), NULL, &v, &n, &err);
	tap_ok(t, !ret && n == 1 && v[0].ttl_s == 0,
	       "import: without a device any key; null expires_ms (%s)", err.msg);
	free(v);

	import_bad(t, &dev, "{}", 1, "expected an array of records, found an object",
		   "an object");
	import_bad(t, &dev, "[\n1]", 2, "expected a record object, found a number",
		   "a number for a record");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\n\"endpoint\":\n\"203.0.113.2\"}]",
		   3, "endpoint: expected ADDR:PORT (missing port)",
		   "an endpoint without a port");
	import_bad(t, &dev, "[\n{\"public_key\":\"" KA "\",\"endpoint\":\"2001:db8::1:5\"}]",
		   2, "endpoint: expected ADDR:PORT", "IPv6 without brackets");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":5}]", 1,
		   "endpoint: expected ADDR:PORT, found a number",
		   "an endpoint of the wrong type");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":\"224.0.0.1:5\"}]",
		   1, "not a unicast address", "a multicast endpoint");
	import_bad(t, &dev, "[\n\n{\"endpoint\":\"192.0.2.1:1\"}]", 3,
		   "missing public_key", "no key");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\"}]", 1,
		   "missing endpoint", "no endpoint");
	import_bad(t, &dev, "[{\"public_key\":\"AAAA\",\"endpoint\":\"192.0.2.1:1\"}]",
		   1, "public_key: not a base64 key of 32 bytes", "a short key");
	import_bad(t, &dev, "[{\"public_key\":[],\"endpoint\":\"192.0.2.1:1\"}]",
		   1, "public_key: expected a string, found an array",
		   "a key of the wrong type");
	import_bad(t, &dev, "[\n{\"public_key\":\n\"" KC "\",\"endpoint\":\"192.0.2.1:1\"}]",
		   3, "is not a peer of wg0", "a key that is not a peer");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":\"192.0.2.1:1\","
		   "\n\"expires_ms\":-5}]", 2,
		   "expires_ms: expected a whole number", "a negative expires_ms");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":\"192.0.2.1:1\","
		   "\"expires_ms\":1.5}]", 1,
		   "expires_ms: expected a whole number", "a fractional expires_ms");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":\"192.0.2.1:1\","
		   "\"expires_ms\":\"5\"}]", 1,
		   "expires_ms: expected a whole number", "a string expires_ms");
	import_bad(t, &dev, "[\n{\"public_key\":\"" KB "\",\"endpoint\":\"192.0.2.1:1\"},\n"
		   "{\"public_key\":\"" KA "\",\"endpoint\":\"192.0.2.1:2\"},\n"
		   "{\"public_key\":\"" KB "\",\"endpoint\":\"192.0.2.1:3\"}]", 4,
		   "repeats the record on line 2", "a key twice");
	/* the first bad line wins, even if a later one is bad too */
	import_bad(t, &dev, "[\n{\"public_key\":\"" KA "\",\"endpoint\":\"x\"},\n"
		   "{\"public_key\":\"bad\",\"endpoint\":\"192.0.2.1:2\"}]", 2,
		   "endpoint", "two bad records");
	import_bad(t, &dev, "[{\"public_key\":\"" KA "\",\"endpoint\":\"192.0.2.1:1\"}\n,]",
		   2, "',' before ']'", "a syntax error after good records");
}

int main(void)
{
	struct tap t = { 0 };

	test_values(&t);
	test_malformed(&t);
	test_import(&t);
	return tap_done(&t);
}
