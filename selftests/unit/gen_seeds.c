// SPDX-License-Identifier: GPL-2.0
/* Writes a seed corpus for fuzz_probe: one file per kind of message. */
#include <stdio.h>
#include <string.h>
#include "probe.h"

static void put(const char *dir, const char *name, const u8 *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(path);
		return;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct kh_probe_addr v4 = { KH_PF_OBSERVED_V4, { 203, 0, 113, 1 }, 51820 };
	struct kh_probe_addr v6 = { KH_PF_OBSERVED_V6, { 0x20, 0x01, 0x0d, 0xb8 }, 1 };
	u8 nonce[KH_NONCE_LEN] = { 1, 2, 3 }, key[KH_KEY_LEN] = { 9 };
	u8 buf[KH_PROBE_MAX_LEN];
	struct kh_probe_writer w;
	const char *dir = argc > 1 ? argv[1] : ".";
	int i;

	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, 0, nonce);
	put(dir, "request", buf, kh_probe_finish(&w, KH_PROBE_REQ_MIN_LEN));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, 0, nonce);
	kh_probe_put_observed(&w, &v4);
	put(dir, "answer4", buf, kh_probe_finish(&w, 0));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, 0, nonce);
	kh_probe_put_observed(&w, &v6);
	put(dir, "answer6", buf, kh_probe_finish(&w, 0));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_REQUEST, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, key, KH_KEY_LEN);
	kh_probe_put_seq(&w, 1764633600000000000ULL);
	kh_probe_put(&w, KH_PF_COOKIE, key, KH_COOKIE_LEN);
	for (i = 0; i < 3; i++)
		kh_probe_put(&w, KH_PF_WANT, key, KH_KEY_LEN);
	put(dir, "request-auth", buf, kh_probe_finish(&w, 0));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put(&w, KH_PF_COOKIE, key, KH_COOKIE_LEN);
	kh_probe_put(&w, KH_PF_RETRY, NULL, 0);
	put(dir, "answer-retry", buf, kh_probe_finish(&w, 0));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_ANSWER, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_observed(&w, &v4);
	kh_probe_put_record(&w, key, &v4, 5);
	kh_probe_put_record(&w, key, &v6, 7);
	put(dir, "answer-auth", buf, kh_probe_finish(&w, 0));
	kh_probe_start(&w, buf, sizeof(buf), KH_PROBE_UPDATE, KH_PROBE_F_AUTH,
		       nonce);
	kh_probe_put_seq(&w, 42);
	kh_probe_put_record(&w, key, &v6, 0);
	put(dir, "update", buf, kh_probe_finish(&w, 0));
	return 0;
}
