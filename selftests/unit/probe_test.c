// SPDX-License-Identifier: GPL-2.0
/* Host unit tests for the probe wire format (kmod/probe.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe.h"

static int tests, failures;

#define CHECK(cond, ...) do {						\
	tests++;							\
	if (cond) {							\
		printf("ok %d - ", tests);				\
	} else {							\
		failures++;						\
		printf("not ok %d - ", tests);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

static const u8 nonce[KH_NONCE_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

static size_t build_answer(u8 *buf, u8 family, const u8 *addr, u16 port)
{
	struct kh_probe_msg m = { .type = KH_PROBE_ANSWER };

	memcpy(m.nonce, nonce, sizeof(nonce));
	m.observed.family = family;
	memcpy(m.observed.addr, addr, family == KH_PF_OBSERVED_V4 ? 4 : 16);
	m.observed.port = port;
	return kh_probe_build(buf, KH_PROBE_MAX_LEN, &m, 0);
}

static void test_roundtrip(void)
{
	static const u8 a4[4] = { 203, 0, 113, 7 };
	static const u8 a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct kh_probe_msg req = { .type = KH_PROBE_REQUEST }, m;
	u8 buf[KH_PROBE_MAX_LEN];
	size_t len;

	memcpy(req.nonce, nonce, sizeof(nonce));
	len = kh_probe_build(buf, sizeof(buf), &req, KH_PROBE_REQ_MIN_LEN);
	CHECK(len == KH_PROBE_REQ_MIN_LEN, "request padded to %d (got %zu)",
	      KH_PROBE_REQ_MIN_LEN, len);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
	      m.type == KH_PROBE_REQUEST && m.len == len &&
	      !memcmp(m.nonce, nonce, sizeof(nonce)) && !m.observed.family,
	      "request parses back to the same fields");

	len = build_answer(buf, KH_PF_OBSERVED_V4, a4, 40312);
	CHECK(len == 32, "v4 answer is 32 bytes (got %zu)", len);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
	      m.type == KH_PROBE_ANSWER &&
	      m.observed.family == KH_PF_OBSERVED_V4 &&
	      !memcmp(m.observed.addr, a4, 4) && m.observed.port == 40312 &&
	      !memcmp(m.nonce, nonce, sizeof(nonce)),
	      "v4 answer parses back to the same fields");

	len = build_answer(buf, KH_PF_OBSERVED_V6, a6, 51820);
	CHECK(len == KH_PROBE_REQ_MIN_LEN,
	      "v6 answer is exactly the minimum request size");
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
	      m.observed.family == KH_PF_OBSERVED_V6 &&
	      !memcmp(m.observed.addr, a6, 16) && m.observed.port == 51820,
	      "v6 answer parses back to the same fields");
}

static void test_padding(void)
{
	struct kh_probe_msg req = { .type = KH_PROBE_REQUEST }, m;
	u8 buf[KH_PROBE_MAX_LEN];
	size_t pad, len;
	int bad = 0;

	for (pad = 0; pad <= KH_PROBE_MAX_LEN; pad++) {
		size_t want = pad <= KH_PROBE_HDR_LEN ? KH_PROBE_HDR_LEN :
			      pad == KH_PROBE_HDR_LEN + 1 ?
			      KH_PROBE_HDR_LEN + KH_PF_HDR_LEN : pad;

		len = kh_probe_build(buf, sizeof(buf), &req, pad);
		if (len != want || kh_probe_parse(buf, len, &m) != KH_PROBE_OK ||
		    m.len != len)
			bad++;
	}
	CHECK(!bad, "every padded length 0..%d builds and parses (%d bad)",
	      KH_PROBE_MAX_LEN, bad);
	CHECK(kh_probe_build(buf, sizeof(buf), &req, KH_PROBE_MAX_LEN + 1) == 0,
	      "builder refuses more than KH_PROBE_MAX_LEN");
	CHECK(kh_probe_build(buf, 30, &req, 40) == 0,
	      "builder refuses a buffer too small");
}

static void put16(u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void test_rejects(void)
{
	static const u8 a4[4] = { 192, 0, 2, 1 };
	u8 buf[KH_PROBE_MAX_LEN + 64], c[KH_PROBE_MAX_LEN + 64];
	struct kh_probe_msg m;
	size_t len;
	int t;

	for (t = 1; t <= 4; t++) {
		u8 wg[148] = { (u8)t, 0, 0, 0 };

		CHECK(kh_probe_parse(wg, sizeof(wg), &m) == KH_PROBE_NOT_OURS,
		      "WireGuard message type %d is not ours", t);
	}
	len = build_answer(buf, KH_PF_OBSERVED_V4, a4, 1);
	CHECK(kh_probe_parse(buf, 3, &m) == KH_PROBE_NOT_OURS,
	      "3 bytes are not ours");
	CHECK(kh_probe_parse(buf, 4, &m) == KH_PROBE_MALFORMED &&
	      kh_probe_parse(buf, KH_PROBE_HDR_LEN - 1, &m) ==
	      KH_PROBE_MALFORMED, "magic but truncated header is malformed");
	CHECK(kh_probe_parse(buf, len - 1, &m) == KH_PROBE_MALFORMED,
	      "length field longer than the datagram is malformed");

	memcpy(c, buf, len);
	c[len] = 0;
	CHECK(kh_probe_parse(c, len + 1, &m) == KH_PROBE_MALFORMED,
	      "trailing byte past the length field is malformed");

	memcpy(c, buf, len);
	c[4] = 9;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_UNKNOWN_TYPE,
	      "unknown message type is reported as such");

	memcpy(c, buf, len);
	c[KH_PROBE_HDR_LEN + 1] = KH_PF_OBSERVED_V4_LEN + 1;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "field running past the end is malformed");

	memcpy(c, buf, len);
	c[len] = KH_PF_PAD;
	put16(c + 6, len + 1);
	CHECK(kh_probe_parse(c, len + 1, &m) == KH_PROBE_MALFORMED,
	      "truncated field header is malformed");

	/* An answer with two observations, then one with an unknown field. */
	memcpy(c, buf, len);
	memcpy(c + len, buf + KH_PROBE_HDR_LEN, len - KH_PROBE_HDR_LEN);
	put16(c + 6, 2 * len - KH_PROBE_HDR_LEN);
	CHECK(kh_probe_parse(c, 2 * len - KH_PROBE_HDR_LEN, &m) ==
	      KH_PROBE_MALFORMED, "duplicate observation is malformed");
	memcpy(c, buf, len);
	c[len] = 200;
	c[len + 1] = 3;
	put16(c + 6, len + 5);
	CHECK(kh_probe_parse(c, len + 5, &m) == KH_PROBE_OK &&
	      m.observed.port == 1, "unknown field is skipped");

	memcpy(c, buf, len);
	c[KH_PROBE_HDR_LEN + 1] = KH_PF_OBSERVED_V6_LEN;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "observation of the wrong length is malformed");

	memcpy(c, buf, len);
	c[len - 1] = 0;
	c[len - 2] = 0;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "observed port 0 is malformed");

	memcpy(c, buf, len);
	c[KH_PROBE_HDR_LEN] = KH_PF_PAD;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "answer without an observation is malformed");

	memcpy(c, buf, len);
	c[4] = KH_PROBE_REQUEST;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "request carrying an observation is malformed");

	memset(c, 0, sizeof(c));
	put16(c, KH_PROBE_MAGIC >> 16);
	put16(c + 2, KH_PROBE_MAGIC & 0xffff);
	c[4] = KH_PROBE_REQUEST;
	put16(c + 6, KH_PROBE_MAX_LEN + 1);
	CHECK(kh_probe_parse(c, KH_PROBE_MAX_LEN + 1, &m) == KH_PROBE_MALFORMED,
	      "oversized message is malformed");
}

static void test_auth(void)
{
	static const u8 a4[4] = { 203, 0, 113, 2 };
	static const u8 a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	u8 key[KH_KEY_LEN], other[KH_KEY_LEN];
	u8 buf[KH_PROBE_MAX_LEN], c[KH_PROBE_MAX_LEN];
	struct kh_probe_addr v4 = { KH_PF_OBSERVED_V4, {0}, 40000 };
	struct kh_probe_addr v6 = { KH_PF_OBSERVED_V6, {0}, 51820 };
	struct kh_probe_writer w;
	struct kh_probe_record rec;
	struct kh_probe_msg m;
	const u8 *val;
	size_t len, off = 0;
	u8 type, vlen;
	int i, n = 0;

	memcpy(v4.addr, a4, 4);
	memcpy(v6.addr, a6, 16);
	memset(key, 0xab, sizeof(key));

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	for (i = 0; i < KH_MAX_WANT; i++)
		kh_probe_put(&w, KH_PF_WANT, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(len == KH_PROBE_HDR_LEN + (1 + KH_MAX_WANT) * 34 + 18 &&
	      kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
	      m.pubkey == buf + KH_PROBE_HDR_LEN + 2 &&
	      m.nr_want == KH_MAX_WANT && m.mac == buf + len - KH_MAC_LEN,
	      "authenticated request with %d wants round-trips", KH_MAX_WANT);

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	for (i = 0; i <= KH_MAX_WANT; i++)
		kh_probe_put(&w, KH_PF_WANT, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "more than %d wants is malformed", KH_MAX_WANT);

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put(&w, KH_PF_WANT, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a want without authentication is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put_record(&w, key, &v4, 7);
	kh_probe_put_record(&w, key, &v6, 70000);
	len = kh_probe_finish(&w, 0);
	CHECK(len && kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
	      m.nr_records == 2 && m.observed.port == 40000,
	      "authenticated answer with two records parses");
	while (kh_probe_next_field(&m, &off, &type, &val, &vlen)) {
		if (type != KH_PF_RECORD_V4 && type != KH_PF_RECORD_V6)
			continue;
		kh_probe_decode_record(type, val, &rec);
		if (!memcmp(rec.key, key, KH_KEY_LEN) &&
		    ((n == 0 && rec.addr.family == KH_PF_OBSERVED_V4 &&
		      !memcmp(rec.addr.addr, a4, 4) && rec.addr.port == 40000 &&
		      rec.age_s == 7) ||
		     (n == 1 && rec.addr.family == KH_PF_OBSERVED_V6 &&
		      !memcmp(rec.addr.addr, a6, 16) &&
		      rec.addr.port == 51820 && rec.age_s == 70000)))
			n++;
	}
	CHECK(n == 2, "both records decode to what was put (%d)", n);

	memcpy(c, buf, len);
	c[5] = 0;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "records and MAC without the auth flag are malformed");

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_UPDATE, 0, nonce);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an unauthenticated update is malformed");

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_record(&w, key, &v4, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an update without a sequence number is malformed");

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_seq(&w, 0x0102030405060708ULL);
	kh_probe_put_record(&w, key, &v4, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK &&
	      m.type == KH_PROBE_UPDATE && m.nr_records == 1 && m.has_seq &&
	      m.seq == 0x0102030405060708ULL,
	      "an authenticated, numbered update parses");
	/* Drop the sequence number field: the record moves up by 10. */
	memmove(c + KH_PROBE_HDR_LEN, c + KH_PROBE_HDR_LEN + 10, len - 34);
	c[6] = (u8)((len - 10) >> 8);
	c[7] = (u8)(len - 10);
	CHECK(kh_probe_parse(c, len - 10, &m) == KH_PROBE_MALFORMED,
	      "the same update without its sequence number is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_record(&w, key, &v4, 0);
	kh_probe_put_seq(&w, 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK,
	      "record, sequence number, MAC: parses");
	/* Move the MAC before the record: it must be last. */
	memmove(c + KH_PROBE_HDR_LEN + 18, c + KH_PROBE_HDR_LEN,
		KH_PF_RECORD_V4_LEN + 2 + 10);
	c[KH_PROBE_HDR_LEN] = KH_PF_MAC;
	c[KH_PROBE_HDR_LEN + 1] = KH_MAC_LEN;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a MAC that is not the last field is malformed");

	kh_probe_start(&w, c, 100, KH_PROBE_ANSWER, KH_PROBE_F_AUTH, nonce);
	kh_probe_put_observed(&w, &v6);
	kh_probe_put_record(&w, key, &v6, 0);
	CHECK(kh_probe_finish(&w, 0) == 0, "writer reports overflow");

	/* The safe start's flag: empty, after a record, in answers only. */
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put_record(&w, key, &v4, 0);
	kh_probe_put(&w, KH_PF_WAITING, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.nr_records == 1,
	      "an answer with a record flagged waiting parses");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_WAITING, key, 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a non-empty waiting flag is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_WAITING, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a waiting flag in a request is malformed");

	/* The other-port check: empty, once, authenticated requests only. */
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put(&w, KH_PF_ALT_PORT, NULL, 0);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.alt_port,
	      "an authenticated request for another port parses");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_ALT_PORT, NULL, 0);
	kh_probe_put(&w, KH_PF_ALT_PORT, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "asking twice for another port is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_ALT_PORT, key, 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a non-empty other-port field is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put(&w, KH_PF_ALT_PORT, NULL, 0);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an unauthenticated request for another port is malformed");

	/*
	 * Relay requests: a key, once each, in requests only; parsed without
	 * the MAC too, so that the module can count them as refused.
	 */
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	memset(other, 0x5a, sizeof(other));
	kh_probe_put(&w, KH_PF_RELAY_END, other, KH_KEY_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.relay &&
	      !memcmp(m.relay, key, KH_KEY_LEN) && m.relay_end &&
	      !memcmp(m.relay_end, other, KH_KEY_LEN),
	      "a relay request and a relay end parse, each with its key");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.relay && !m.mac,
	      "an unauthenticated relay request parses, without a MAC");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "two relay requests in one message are malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_RELAY_END, key, KH_KEY_LEN - 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a relay end with a short key is malformed");
	/* In an authenticated answer, a relay key says the relay is ready. */
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.relay &&
	      !memcmp(m.relay, key, KH_KEY_LEN),
	      "an authenticated answer saying a relay is ready parses");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, 0, nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an unauthenticated answer saying a relay is ready is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_RELAY_END, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a relay end in an answer is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_RELAY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a relay key in an update is malformed");
}

/* KH_PF_NAT, and the birthday messages. */
static void test_birthday(void)
{
	u8 key[KH_KEY_LEN], c[KH_PROBE_MAX_LEN];
	struct kh_probe_addr v4 = { KH_PF_OBSERVED_V4, {203, 0, 113, 2}, 40000 };
	u8 nat = KH_RECORD_F_VARIES | KH_RECORD_F_PORT_MOVED, odd = 0xff;
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	const u8 *val;
	size_t len, off = 0;
	u8 type, vlen;
	int nat_after_record = -1;
	bool had_record = false;

	memset(key, 0xab, sizeof(key));
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put(&w, KH_PF_NAT, &nat, 1);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && m.nat == nat,
	      "an authenticated request saying what its NAT does parses");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put(&w, KH_PF_NAT, &odd, 1);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK &&
	      m.nat == KH_RECORD_F_NAT,
	      "KH_PF_NAT's unknown bits are dropped");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && !m.nat,
	      "a request without KH_PF_NAT says nothing of its NAT");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put(&w, KH_PF_NAT, &nat, 1);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an unauthenticated KH_PF_NAT is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_NAT, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "an empty KH_PF_NAT is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_NAT, key, 2);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a KH_PF_NAT of two bytes is malformed");
	/* After a record in an answer: that record's peer's NAT. */
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put_record(&w, key, &v4, 3);
	kh_probe_put(&w, KH_PF_NAT, &nat, 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && !m.nat &&
	      m.nr_records == 1,
	      "an answer with KH_PF_NAT after a record parses");
	while (kh_probe_next_field(&m, &off, &type, &val, &vlen)) {
		if (type == KH_PF_RECORD_V4)
			had_record = true;
		else if (type == KH_PF_NAT && had_record && vlen == 1)
			nat_after_record = val[0];
	}
	CHECK(nat_after_record == nat,
	      "the walk finds KH_PF_NAT and its bits after the record");

	kh_probe_start(&w, c, sizeof(c), KH_PROBE_BIRTHDAY, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(len == KH_PROBE_HDR_LEN + 2 + KH_KEY_LEN + 2 + KH_MAC_LEN &&
	      kh_probe_parse(c, len, &m) == KH_PROBE_OK &&
	      m.type == KH_PROBE_BIRTHDAY && m.pubkey && m.mac,
	      "a birthday message round-trips (%zu bytes)", len);
	c[4] = KH_PROBE_BIRTHDAY_ACK;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK &&
	      m.type == KH_PROBE_BIRTHDAY_ACK, "so does its answer");
	c[4] = KH_PROBE_BIRTHDAY_ACK + 1;
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_UNKNOWN_TYPE,
	      "the type after the birthday answer is unknown");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_BIRTHDAY, 0, nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_MALFORMED,
	      "a birthday message with a key and no MAC is malformed");
	kh_probe_start(&w, c, sizeof(c), KH_PROBE_BIRTHDAY, 0, nonce);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(c, len, &m) == KH_PROBE_OK && !m.pubkey && !m.mac,
	      "a bare birthday message parses, for the module to refuse");
}

/* Random bytes behind a valid header: never a crash (ASan watches). */
/* KH_PF_SEQ, KH_PF_COOKIE and KH_PF_RETRY: where they may stand. */
static void test_cookie(void)
{
	static const u8 a4[4] = { 203, 0, 113, 3 };
	struct kh_probe_addr v4 = { KH_PF_OBSERVED_V4, {0}, 40000 };
	u8 key[KH_KEY_LEN], cookie[KH_COOKIE_LEN], buf[KH_PROBE_MAX_LEN];
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	size_t len;

	memcpy(v4.addr, a4, 4);
	memset(key, 0xcd, sizeof(key));
	memset(cookie, 0x5a, sizeof(cookie));

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put_seq(&w, 0x0102030405060708ULL);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK && m.has_seq &&
	      m.seq == 0x0102030405060708ULL && m.cookie &&
	      !memcmp(m.cookie, cookie, KH_COOKIE_LEN) && !m.retry,
	      "an authenticated request carries its sequence and cookie");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a cookie without authentication is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN - 1);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a short cookie is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "two cookies are malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK && m.retry &&
	      m.cookie, "an authenticated retry answer with its cookie");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a retry without a cookie is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, 0, nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a retry without authentication is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_COOKIE, cookie, KH_COOKIE_LEN);
	kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a retry in a request is malformed");
}

/* Local candidates: a request's are its sender's, a record's follow it. */
static void test_cands(void)
{
	struct kh_probe_addr c4 = { KH_PF_OBSERVED_V4, { 192, 0, 2, 3 }, 51820 };
	struct kh_probe_addr c6 = { KH_PF_OBSERVED_V6, { 0x20, 0x01, 0x0d, 0xb8 },
				    51820 };
	u8 key[KH_KEY_LEN], buf[KH_PROBE_MAX_LEN];
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	size_t len, room;
	int i;

	memset(key, 0xab, sizeof(key));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put_cand(&w, &c4);
	kh_probe_put_cand(&w, &c6);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK && m.nr_cands == 2 &&
	      !memcmp(&m.cands[0], &c4, sizeof(c4)) &&
	      !memcmp(&m.cands[1], &c6, sizeof(c6)),
	      "a request carries its sender's candidates, both families");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	for (i = 0; i <= KH_MAX_CANDS; i++)
		kh_probe_put_cand(&w, &c4);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "more than KH_MAX_CANDS candidates in a request are malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, 0, nonce);
	kh_probe_put_cand(&w, &c4);
	len = kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a candidate without authentication is malformed");

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_CAND_V4, c4.addr, 4);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a candidate without its port is malformed");

	c4.port = 0;
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_cand(&w, &c4);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_MALFORMED,
	      "a candidate with port 0 is malformed");
	c4.port = 51820;

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_seq(&w, 7);
	kh_probe_put_record(&w, key, &c4, 5);
	kh_probe_put_cand(&w, &c6);
	len = kh_probe_finish(&w, 0);
	CHECK(kh_probe_parse(buf, len, &m) == KH_PROBE_OK && !m.nr_cands &&
	      m.nr_records == 1,
	      "an update's candidate is its record's, not the sender's");

	kh_probe_start(&w, buf, 200, KH_PROBE_ANSWER, KH_PROBE_F_AUTH, nonce);
	room = kh_probe_room(&w);
	CHECK(room == 200 - KH_PROBE_HDR_LEN - KH_PF_HDR_LEN - KH_MAC_LEN,
	      "room: what is left before the MAC (%zu)", room);
	while (kh_probe_room(&w) >= KH_PF_HDR_LEN + KH_PF_CAND_V6_LEN)
		kh_probe_put_cand(&w, &c6);
	CHECK(!w.overflow && kh_probe_finish(&w, 0),
	      "filling up to the room leaves the MAC its place");
}

/* A reflector's push: its largest fits KH_PROBE_PUSH_MAX_LEN, exactly. */
static void test_push_len(void)
{
	struct kh_probe_addr a6 = { KH_PF_OBSERVED_V6, { 0x20, 0x01, 0x0d, 0xb8 },
				    51820 };
	u8 key[KH_KEY_LEN], buf[KH_PROBE_PUSH_MAX_LEN], nat = KH_RECORD_F_NAT;
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	size_t len, cap;

	memset(key, 0xab, sizeof(key));
	for (cap = sizeof(buf) - 1; cap <= sizeof(buf); cap++) {
		kh_probe_start(&w, buf, cap, KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
			       nonce);
		kh_probe_put_seq(&w, 7);
		kh_probe_put_record(&w, key, &a6, 5);
		kh_probe_put(&w, KH_PF_NAT, &nat, 1);
		len = kh_probe_finish(&w, 0);
		if (cap < sizeof(buf))
			CHECK(!len, "an IPv6 push with NAT flags needs more "
			      "than %zu bytes", cap);
		else
			CHECK(len == cap &&
			      kh_probe_parse(buf, len, &m) == KH_PROBE_OK &&
			      m.nr_records == 1 && m.has_seq,
			      "an IPv6 push with NAT flags fits %zu bytes", cap);
	}
	CHECK(KH_PROBE_PUSH_MAX_LEN <= KH_PROBE_MAX_LEN,
	      "a push is within the largest message");
}

static void test_garbage(void)
{
	u8 buf[KH_PROBE_MAX_LEN];
	struct kh_probe_msg m;
	int i, ok = 0;

	srand(1);
	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)rand() % (sizeof(buf) + 1), j;

		for (j = 0; j < len; j++)
			buf[j] = (u8)rand();
		if (len >= 8 && (i & 1)) {
			put16(buf, KH_PROBE_MAGIC >> 16);
			put16(buf + 2, KH_PROBE_MAGIC & 0xffff);
			buf[4] = 1 + (i & 2) / 2;
			put16(buf + 6, (unsigned int)len);
		}
		if (kh_probe_parse(buf, len, &m) == KH_PROBE_OK) {
			ok++;
			if (m.len != len ||
			    (m.type == KH_PROBE_ANSWER && !m.observed.family))
				break;
		}
	}
	CHECK(i == 200000, "200000 random messages parse safely (%d valid)",
	      ok);
}

int main(void)
{
	test_roundtrip();
	test_padding();
	test_rejects();
	test_auth();
	test_birthday();
	test_cookie();
	test_cands();
	test_push_len();
	test_garbage();
	printf("%d passed, %d failed\n", tests - failures, failures);
	return failures ? 1 : 0;
}
