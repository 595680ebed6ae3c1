// SPDX-License-Identifier: GPL-2.0
/*
 * Probe wire format.  Bytes from the network are read only after their
 * length has been checked against what is left of the message.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif
#include "probe.h"

static u16 get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(u8 *p, u32 v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

static bool parse_observed(const u8 *val, u8 flen, u8 ftype,
			   struct kh_probe_addr *obs)
{
	size_t alen = ftype == KH_PF_OBSERVED_V4 ? 4 : 16;

	if (flen != kh_probe_observed_len(ftype) || obs->family)
		return false;
	obs->family = ftype;
	memcpy(obs->addr, val, alen);
	obs->port = get_be16(val + alen);
	return obs->port != 0;
}

enum kh_probe_verdict kh_probe_parse(const u8 *buf, size_t len,
				     struct kh_probe_msg *msg)
{
	size_t off = KH_PROBE_HDR_LEN;

	if (len < 4 || get_be32(buf) != KH_PROBE_MAGIC)
		return KH_PROBE_NOT_OURS;
	if (len < KH_PROBE_HDR_LEN || len > KH_PROBE_MAX_LEN ||
	    get_be16(buf + 6) != len)
		return KH_PROBE_MALFORMED;

	memset(msg, 0, sizeof(*msg));
	msg->type = buf[4];
	msg->flags = buf[5];
	msg->len = (u16)len;
	memcpy(msg->nonce, buf + 8, KH_NONCE_LEN);
	if (msg->type != KH_PROBE_REQUEST && msg->type != KH_PROBE_ANSWER)
		return KH_PROBE_UNKNOWN_TYPE;

	while (off < len) {
		u8 ftype, flen;

		if (len - off < KH_PF_HDR_LEN)
			return KH_PROBE_MALFORMED;
		ftype = buf[off];
		flen = buf[off + 1];
		off += KH_PF_HDR_LEN;
		if (len - off < flen)
			return KH_PROBE_MALFORMED;

		switch (ftype) {
		case KH_PF_OBSERVED_V4:
		case KH_PF_OBSERVED_V6:
			/* Only an answer says where the asker was seen. */
			if (msg->type != KH_PROBE_ANSWER ||
			    !parse_observed(buf + off, flen, ftype,
					    &msg->observed))
				return KH_PROBE_MALFORMED;
			break;
		default:
			/* KH_PF_PAD, and fields of later versions. */
			break;
		}
		off += flen;
	}

	if (msg->type == KH_PROBE_ANSWER && !msg->observed.family)
		return KH_PROBE_MALFORMED;
	return KH_PROBE_OK;
}

/*
 * Build @msg into @buf, padded with KH_PF_PAD fields to at least @pad_to
 * bytes.  Returns the length, or 0 when @cap or KH_PROBE_MAX_LEN is too small.
 */
size_t kh_probe_build(u8 *buf, size_t cap, const struct kh_probe_msg *msg,
		      size_t pad_to)
{
	size_t olen = kh_probe_observed_len(msg->observed.family);
	size_t len = KH_PROBE_HDR_LEN;
	u8 *p, *end;

	if (olen)
		len += KH_PF_HDR_LEN + olen;
	if (len < pad_to)
		/* A pad field needs its own header: never leave a gap of 1. */
		len = pad_to - len < KH_PF_HDR_LEN ? len + KH_PF_HDR_LEN :
						     pad_to;
	if (len > cap || len > KH_PROBE_MAX_LEN)
		return 0;

	memset(buf, 0, len);
	put_be32(buf, KH_PROBE_MAGIC);
	buf[4] = msg->type;
	buf[5] = msg->flags;
	put_be16(buf + 6, (u16)len);
	memcpy(buf + 8, msg->nonce, KH_NONCE_LEN);

	p = buf + KH_PROBE_HDR_LEN;
	end = buf + len;
	if (olen) {
		size_t alen = olen - 2;

		p[0] = msg->observed.family;
		p[1] = (u8)olen;
		memcpy(p + 2, msg->observed.addr, alen);
		put_be16(p + 2 + alen, msg->observed.port);
		p += KH_PF_HDR_LEN + olen;
	}
	while (p < end) {
		size_t chunk = (size_t)(end - p);

		if (chunk > KH_PF_HDR_LEN + 255)
			chunk = chunk - (KH_PF_HDR_LEN + 255) < KH_PF_HDR_LEN ?
				255 : KH_PF_HDR_LEN + 255;
		p[0] = KH_PF_PAD;
		p[1] = (u8)(chunk - KH_PF_HDR_LEN);
		p += chunk;
	}
	return len;
}
