// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the probe wire format (kmod/probe.c).  Two
 * properties: whatever parses, rebuilt field by field with the builder,
 * gives back the very same bytes; and whatever the builder makes from
 * fuzzed fields parses back to those fields.
 */
#include <stdlib.h>
#include <string.h>
#include "probe.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void reparse(const u8 *data, size_t size)
{
	struct kh_probe_msg m, m2;
	struct kh_probe_writer w;
	u8 out[KH_PROBE_MAX_LEN];
	const u8 *val;
	size_t off = 0, len;
	u8 type, vlen;

	if (kh_probe_parse(data, size, &m) != KH_PROBE_OK)
		return;
	CHECK(m.len == size);
	kh_probe_start(&w, out, sizeof(out), m.type, m.flags, m.nonce);
	while (kh_probe_next_field(&m, &off, &type, &val, &vlen)) {
		struct kh_probe_record rec;

		switch (type) {
		case KH_PF_MAC:
			continue;	/* finish() adds it */
		case KH_PF_RECORD_V4:
		case KH_PF_RECORD_V6:
			kh_probe_decode_record(type, val, &rec);
			kh_probe_put_record(&w, rec.key, &rec.addr, rec.age_s);
			break;
		case KH_PF_SEQ:
			kh_probe_put_seq(&w, m.seq);
			break;
		default:
			kh_probe_put(&w, type, val, vlen);
		}
	}
	CHECK(off == size);
	len = kh_probe_finish(&w, 0);
	CHECK(len == size);
	if (m.mac)
		memcpy(out + len - KH_MAC_LEN, m.mac, KH_MAC_LEN);
	CHECK(!memcmp(out, data, size));
	CHECK(kh_probe_parse(out, len, &m2) == KH_PROBE_OK);
	CHECK(m2.type == m.type && m2.nr_want == m.nr_want &&
	      m2.nr_records == m.nr_records && m2.seq == m.seq &&
	      !memcmp(&m2.observed, &m.observed, sizeof(m.observed)));
}

/* The input as a recipe: build a message from it, which must parse. */
static void rebuild(const u8 *data, size_t size)
{
	struct kh_probe_addr addr = {};
	struct kh_probe_writer w;
	struct kh_probe_msg m;
	u8 out[KH_PROBE_MAX_LEN];
	u8 type, nr, i;
	bool auth;
	size_t len;

	if (size < KH_NONCE_LEN + 2 + 1 + 16 + 2 + KH_KEY_LEN)
		return;
	type = KH_PROBE_REQUEST + data[0] % 3;
	auth = data[1] & 1 || type == KH_PROBE_UPDATE;
	nr = data[1] >> 4;			/* 0..15 wants or records */
	addr.family = data[2] & 1 ? KH_PF_OBSERVED_V6 : KH_PF_OBSERVED_V4;
	memcpy(addr.addr, data + 3, kh_probe_addr_len(addr.family));
	addr.port = (u16)(data[19] << 8 | data[20]) | 1;
	kh_probe_start(&w, out, sizeof(out), type, auth ? KH_PROBE_F_AUTH : 0,
		       data + size - KH_NONCE_LEN);
	if (type == KH_PROBE_ANSWER)
		kh_probe_put_observed(&w, &addr);
	if (type == KH_PROBE_UPDATE)
		kh_probe_put_seq(&w, data[21]);
	if (auth)
		kh_probe_put(&w, KH_PF_PUBKEY, data + 22, KH_KEY_LEN);
	for (i = 0; auth && i < nr; i++) {
		if (type == KH_PROBE_REQUEST)
			kh_probe_put(&w, KH_PF_WANT, data + 22, KH_KEY_LEN);
		else
			kh_probe_put_record(&w, data + 22, &addr, data[21]);
	}
	len = kh_probe_finish(&w, data[2] >> 1);
	CHECK(len);
	CHECK(kh_probe_parse(out, len, &m) == KH_PROBE_OK);
	CHECK(m.type == type && m.len == len &&
	      !memcmp(m.nonce, data + size - KH_NONCE_LEN, KH_NONCE_LEN));
	CHECK(!!m.mac == auth && !!m.pubkey == auth);
	CHECK(m.nr_want == (auth && type == KH_PROBE_REQUEST ? nr : 0));
	CHECK(m.nr_records == (auth && type != KH_PROBE_REQUEST ? nr : 0));
	if (type == KH_PROBE_ANSWER)
		CHECK(!memcmp(&m.observed, &addr, sizeof(addr)));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	reparse(data, size);
	rebuild(data, size);
	return 0;
}
