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

static u8 record_family(u8 type)
{
	return type == KH_PF_RECORD_V4 ? KH_PF_OBSERVED_V4 : KH_PF_OBSERVED_V6;
}

/* Is a field of @ftype and @flen valid in @msg (of which it is the last)? */
static bool field_ok(struct kh_probe_msg *msg, u8 ftype, const u8 *val,
		     u8 flen, bool last)
{
	bool auth = msg->flags & KH_PROBE_F_AUTH;
	size_t alen;

	switch (ftype) {
	case KH_PF_OBSERVED_V4:
	case KH_PF_OBSERVED_V6:
		/* Only an answer says where the asker was seen. */
		alen = kh_probe_addr_len(ftype);
		if (msg->type != KH_PROBE_ANSWER || flen != alen + 2 ||
		    msg->observed.family)
			return false;
		msg->observed.family = ftype;
		memcpy(msg->observed.addr, val, alen);
		msg->observed.port = get_be16(val + alen);
		return msg->observed.port != 0;
	case KH_PF_PUBKEY:
		if (!auth || flen != KH_KEY_LEN || msg->pubkey)
			return false;
		msg->pubkey = val;
		return true;
	case KH_PF_WANT:
		if (!auth || msg->type != KH_PROBE_REQUEST ||
		    flen != KH_KEY_LEN || msg->nr_want == KH_MAX_WANT)
			return false;
		msg->nr_want++;
		return true;
	case KH_PF_RECORD_V4:
	case KH_PF_RECORD_V6:
		if (!auth || msg->type == KH_PROBE_REQUEST ||
		    flen != (ftype == KH_PF_RECORD_V4 ? KH_PF_RECORD_V4_LEN :
							KH_PF_RECORD_V6_LEN))
			return false;
		alen = kh_probe_addr_len(record_family(ftype));
		if (!get_be16(val + KH_KEY_LEN + alen))
			return false;
		msg->nr_records++;
		return true;
	case KH_PF_SEQ:
		if (!auth || flen != KH_PF_SEQ_LEN || msg->has_seq)
			return false;
		msg->seq = (u64)get_be32(val) << 32 | get_be32(val + 4);
		msg->has_seq = true;
		return true;
	case KH_PF_WAITING:
		return auth && msg->type != KH_PROBE_REQUEST && !flen;
	case KH_PF_NAT:
		/* A request's says so of its sender; else of a record. */
		if (!auth || flen != 1)
			return false;
		if (msg->type == KH_PROBE_REQUEST)
			msg->nat = val[0] & KH_RECORD_F_NAT;
		return true;
	case KH_PF_ALT_PORT:
		if (!auth || msg->type != KH_PROBE_REQUEST || flen ||
		    msg->alt_port)
			return false;
		msg->alt_port = true;
		return true;
	case KH_PF_RELAY:
	case KH_PF_RELAY_END:
		/*
		 * Parsed without the MAC too, so that an unauthenticated
		 * one can be counted as refused.
		 */
		if (flen != KH_KEY_LEN ||
		    (ftype == KH_PF_RELAY ? msg->relay : msg->relay_end))
			return false;
		/* In an answer: the relay to that peer is ready. */
		if (msg->type != KH_PROBE_REQUEST &&
		    (ftype != KH_PF_RELAY || msg->type != KH_PROBE_ANSWER ||
		     !auth))
			return false;
		if (ftype == KH_PF_RELAY)
			msg->relay = val;
		else
			msg->relay_end = val;
		return true;
	case KH_PF_COOKIE:
		if (!auth || flen != KH_COOKIE_LEN || msg->cookie ||
		    (msg->type != KH_PROBE_REQUEST &&
		     msg->type != KH_PROBE_ANSWER))
			return false;
		msg->cookie = val;
		return true;
	case KH_PF_RETRY:
		if (!auth || msg->type != KH_PROBE_ANSWER || flen ||
		    msg->retry)
			return false;
		msg->retry = true;
		return true;
	case KH_PF_CAND_V4:
	case KH_PF_CAND_V6:
		/* A request's are its sender's; else a record's peer's. */
		alen = ftype == KH_PF_CAND_V4 ? 4 : 16;
		if (!auth || msg->type == KH_PROBE_BIRTHDAY ||
		    msg->type == KH_PROBE_BIRTHDAY_ACK ||
		    flen != alen + 2 || !get_be16(val + alen))
			return false;
		if (msg->type != KH_PROBE_REQUEST)
			return true;
		if (msg->nr_cands == KH_MAX_CANDS)
			return false;
		kh_probe_decode_cand(ftype, val, &msg->cands[msg->nr_cands++]);
		return true;
	case KH_PF_MAC:
		if (!auth || !last || flen != KH_MAC_LEN)
			return false;
		msg->mac = val;
		return true;
	default:
		/* KH_PF_PAD, and fields of later versions. */
		return true;
	}
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
	msg->buf = buf;
	memcpy(msg->nonce, buf + 8, KH_NONCE_LEN);
	if (msg->type < KH_PROBE_REQUEST || msg->type > KH_PROBE_BIRTHDAY_ACK)
		return KH_PROBE_UNKNOWN_TYPE;

	while (off < len) {
		u8 ftype, flen;

		if (len - off < KH_PF_HDR_LEN)
			return KH_PROBE_MALFORMED;
		ftype = buf[off];
		flen = buf[off + 1];
		off += KH_PF_HDR_LEN;
		if (len - off < flen ||
		    !field_ok(msg, ftype, buf + off, flen, off + flen == len))
			return KH_PROBE_MALFORMED;
		off += flen;
	}

	if (msg->type == KH_PROBE_ANSWER && !msg->observed.family)
		return KH_PROBE_MALFORMED;
	if ((msg->flags & KH_PROBE_F_AUTH) && !msg->mac)
		return KH_PROBE_MALFORMED;
	/* A retry gives what to retry with. */
	if (msg->retry && !msg->cookie)
		return KH_PROBE_MALFORMED;
	/* An update is nothing but authenticated, numbered records. */
	if (msg->type == KH_PROBE_UPDATE && (!msg->mac || !msg->has_seq))
		return KH_PROBE_MALFORMED;
	return KH_PROBE_OK;
}

bool kh_probe_next_field(const struct kh_probe_msg *msg, size_t *off,
			 u8 *type, const u8 **val, u8 *vlen)
{
	if (*off < KH_PROBE_HDR_LEN)
		*off = KH_PROBE_HDR_LEN;
	if (*off + KH_PF_HDR_LEN > msg->len)
		return false;
	*type = msg->buf[*off];
	*vlen = msg->buf[*off + 1];
	*val = msg->buf + *off + KH_PF_HDR_LEN;
	*off += KH_PF_HDR_LEN + *vlen;
	return true;
}

void kh_probe_decode_record(u8 type, const u8 *val,
			    struct kh_probe_record *rec)
{
	size_t alen;

	memset(rec, 0, sizeof(*rec));
	rec->key = val;
	rec->addr.family = record_family(type);
	alen = kh_probe_addr_len(rec->addr.family);
	memcpy(rec->addr.addr, val + KH_KEY_LEN, alen);
	rec->addr.port = get_be16(val + KH_KEY_LEN + alen);
	rec->age_s = get_be32(val + KH_KEY_LEN + alen + 2);
}

void kh_probe_decode_cand(u8 type, const u8 *val, struct kh_probe_addr *addr)
{
	size_t alen = type == KH_PF_CAND_V4 ? 4 : 16;

	memset(addr, 0, sizeof(*addr));
	addr->family = type == KH_PF_CAND_V4 ? KH_PF_OBSERVED_V4 :
					       KH_PF_OBSERVED_V6;
	memcpy(addr->addr, val, alen);
	addr->port = get_be16(val + alen);
}

void kh_probe_start(struct kh_probe_writer *w, u8 *buf, size_t cap, u8 type,
		    u8 flags, const u8 *nonce)
{
	w->buf = buf;
	w->cap = cap < KH_PROBE_MAX_LEN ? cap : KH_PROBE_MAX_LEN;
	w->len = KH_PROBE_HDR_LEN;
	w->overflow = w->cap < KH_PROBE_HDR_LEN;
	if (w->overflow)
		return;
	memset(buf, 0, KH_PROBE_HDR_LEN);
	put_be32(buf, KH_PROBE_MAGIC);
	buf[4] = type;
	buf[5] = flags;
	memcpy(buf + 8, nonce, KH_NONCE_LEN);
}

/* Append a field header and room for @vlen bytes; NULL on overflow. */
static u8 *reserve(struct kh_probe_writer *w, u8 type, u8 vlen)
{
	u8 *p;

	if (w->overflow || w->cap - w->len < (size_t)KH_PF_HDR_LEN + vlen) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	p[0] = type;
	p[1] = vlen;
	w->len += KH_PF_HDR_LEN + vlen;
	return p + KH_PF_HDR_LEN;
}

void kh_probe_put(struct kh_probe_writer *w, u8 type, const void *val,
		  u8 vlen)
{
	u8 *p = reserve(w, type, vlen);

	if (p && vlen)
		memcpy(p, val, vlen);
}

static void put_addr(u8 *p, const struct kh_probe_addr *addr)
{
	size_t alen = kh_probe_addr_len(addr->family);

	memcpy(p, addr->addr, alen);
	put_be16(p + alen, addr->port);
}

void kh_probe_put_observed(struct kh_probe_writer *w,
			   const struct kh_probe_addr *addr)
{
	u8 *p = reserve(w, addr->family,
			(u8)(kh_probe_addr_len(addr->family) + 2));

	if (p)
		put_addr(p, addr);
}

void kh_probe_put_record(struct kh_probe_writer *w, const u8 *key,
			 const struct kh_probe_addr *addr, u32 age_s)
{
	bool v4 = addr->family == KH_PF_OBSERVED_V4;
	u8 *p = reserve(w, v4 ? KH_PF_RECORD_V4 : KH_PF_RECORD_V6,
			v4 ? KH_PF_RECORD_V4_LEN : KH_PF_RECORD_V6_LEN);

	if (!p)
		return;
	memcpy(p, key, KH_KEY_LEN);
	put_addr(p + KH_KEY_LEN, addr);
	put_be32(p + KH_KEY_LEN + kh_probe_addr_len(addr->family) + 2, age_s);
}

void kh_probe_put_cand(struct kh_probe_writer *w,
		       const struct kh_probe_addr *addr)
{
	bool v4 = addr->family == KH_PF_OBSERVED_V4;
	u8 *p = reserve(w, v4 ? KH_PF_CAND_V4 : KH_PF_CAND_V6,
			v4 ? KH_PF_CAND_V4_LEN : KH_PF_CAND_V6_LEN);

	if (p)
		put_addr(p, addr);
}

size_t kh_probe_room(const struct kh_probe_writer *w)
{
	size_t used = w->len + KH_PF_HDR_LEN + KH_MAC_LEN;

	return w->overflow || used >= w->cap ? 0 : w->cap - used;
}

void kh_probe_put_seq(struct kh_probe_writer *w, u64 seq)
{
	u8 *p = reserve(w, KH_PF_SEQ, KH_PF_SEQ_LEN);

	if (!p)
		return;
	put_be32(p, (u32)(seq >> 32));
	put_be32(p + 4, (u32)seq);
}

/*
 * Pad with KH_PF_PAD fields to at least @pad_to bytes, add the MAC field of
 * an authenticated message, and set the length.  Returns it, or 0.
 */
size_t kh_probe_finish(struct kh_probe_writer *w, size_t pad_to)
{
	bool auth = !w->overflow && (w->buf[5] & KH_PROBE_F_AUTH);
	size_t mac = auth ? KH_PF_HDR_LEN + KH_MAC_LEN : 0;
	size_t want = pad_to > mac ? pad_to - mac : 0;

	while (!w->overflow && w->len < want) {
		size_t gap = want - w->len;

		/* A pad field needs its own header: never leave a gap of 1. */
		if (gap < KH_PF_HDR_LEN)
			gap = KH_PF_HDR_LEN;
		else if (gap > KH_PF_HDR_LEN + 255)
			gap = gap - (KH_PF_HDR_LEN + 255) < KH_PF_HDR_LEN ?
			      255 : KH_PF_HDR_LEN + 255;
		if (reserve(w, KH_PF_PAD, (u8)(gap - KH_PF_HDR_LEN)))
			memset(w->buf + w->len - (gap - KH_PF_HDR_LEN), 0,
			       gap - KH_PF_HDR_LEN);
	}
	if (auth) {
		u8 *p = reserve(w, KH_PF_MAC, KH_MAC_LEN);

		if (p)
			memset(p, 0, KH_MAC_LEN);
	}
	if (w->overflow)
		return 0;
	put_be16(w->buf + 6, (u16)w->len);
	return w->len;
}

size_t kh_probe_build(u8 *buf, size_t cap, const struct kh_probe_msg *msg,
		      size_t pad_to)
{
	struct kh_probe_writer w;

	kh_probe_start(&w, buf, cap, msg->type, msg->flags, msg->nonce);
	if (msg->observed.family)
		kh_probe_put_observed(&w, &msg->observed);
	return kh_probe_finish(&w, pad_to);
}
