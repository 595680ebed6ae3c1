/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe wire format: a pure parser and builder, free of kernel dependencies
 * so that the same file builds in userspace for unit tests and fuzzing.
 */
#ifndef _KH_PROBE_H
#define _KH_PROBE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "user_types.h"	/* from the userspace build's include path */
#endif
#include <linux/kh_reflect.h>

/* An address as carried in KH_PF_OBSERVED_* and KH_PF_RECORD_* fields. */
struct kh_probe_addr {
	u8 family;		/* 0 (none), KH_PF_OBSERVED_V4 or _V6 */
	u8 addr[16];		/* network order; 4 bytes used for v4 */
	u16 port;		/* host order */
};

struct kh_probe_record {
	const u8 *key;
	struct kh_probe_addr addr;
	u32 age_s;
};

/*
 * A parsed message.  The pointers point into the parsed buffer, which must
 * outlive the message.
 */
struct kh_probe_msg {
	u8 type;		/* enum kh_probe_type */
	u8 flags;
	u16 len;		/* whole message */
	u8 nonce[KH_NONCE_LEN];
	struct kh_probe_addr observed;
	const u8 *buf;
	const u8 *pubkey;	/* KH_PF_PUBKEY, or NULL */
	const u8 *mac;		/* KH_PF_MAC's value: the last KH_MAC_LEN bytes */
	u64 seq;		/* KH_PF_SEQ */
	bool has_seq;
	bool alt_port;		/* KH_PF_ALT_PORT */
	u8 nat;			/* KH_PF_NAT in a request */
	const u8 *relay;	/* KH_PF_RELAY's key, or NULL; in an answer:
				 * that relay is ready
				 */
	const u8 *relay_end;	/* KH_PF_RELAY_END's key, or NULL */
	const u8 *cookie;	/* KH_PF_COOKIE's value, or NULL */
	bool retry;		/* KH_PF_RETRY, in an answer */
	u8 nr_cands;		/* KH_PF_CAND_* in a request */
	struct kh_probe_addr cands[KH_MAX_CANDS];
	u8 nr_want;
	u8 nr_records;
};

enum kh_probe_verdict {
	KH_PROBE_OK,
	KH_PROBE_NOT_OURS,	/* no magic: leave it to WireGuard */
	KH_PROBE_MALFORMED,
	KH_PROBE_UNKNOWN_TYPE,
};

enum kh_probe_verdict kh_probe_parse(const u8 *buf, size_t len,
				     struct kh_probe_msg *msg);

/* Walk the fields of a parsed message; *off starts at 0. */
bool kh_probe_next_field(const struct kh_probe_msg *msg, size_t *off,
			 u8 *type, const u8 **val, u8 *vlen);
void kh_probe_decode_record(u8 type, const u8 *val,
			    struct kh_probe_record *rec);
void kh_probe_decode_cand(u8 type, const u8 *val, struct kh_probe_addr *addr);

/*
 * Building: start, add fields, finish.  An authenticated message ends with a
 * zeroed MAC field for the caller to fill in; overflow makes finish return 0.
 */
struct kh_probe_writer {
	u8 *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void kh_probe_start(struct kh_probe_writer *w, u8 *buf, size_t cap, u8 type,
		    u8 flags, const u8 *nonce);
void kh_probe_put(struct kh_probe_writer *w, u8 type, const void *val,
		  u8 vlen);
void kh_probe_put_observed(struct kh_probe_writer *w,
			   const struct kh_probe_addr *addr);
void kh_probe_put_record(struct kh_probe_writer *w, const u8 *key,
			 const struct kh_probe_addr *addr, u32 age_s);
void kh_probe_put_seq(struct kh_probe_writer *w, u64 seq);
void kh_probe_put_cand(struct kh_probe_writer *w,
		       const struct kh_probe_addr *addr);
/* Bytes still free before the MAC an authenticated message ends with. */
size_t kh_probe_room(const struct kh_probe_writer *w);
size_t kh_probe_finish(struct kh_probe_writer *w, size_t pad_to);

/*
 * The largest update a reflector pushes: its sequence number, an IPv6
 * record with the NAT flags after it, and the MAC.  Candidates go out only
 * in what room is left.
 */
#define KH_PROBE_PUSH_MAX_LEN						\
	(KH_PROBE_HDR_LEN + KH_PF_HDR_LEN + KH_PF_SEQ_LEN +		\
	 KH_PF_HDR_LEN + KH_PF_RECORD_V6_LEN + KH_PF_HDR_LEN + sizeof(u8) + \
	 KH_PF_HDR_LEN + KH_MAC_LEN)

/* A message without keys, records or MAC, in one call. */
size_t kh_probe_build(u8 *buf, size_t cap, const struct kh_probe_msg *msg,
		      size_t pad_to);

static inline size_t kh_probe_addr_len(u8 family)
{
	return family == KH_PF_OBSERVED_V4 ? 4 :
	       family == KH_PF_OBSERVED_V6 ? 16 : 0;
}

#endif /* _KH_PROBE_H */
