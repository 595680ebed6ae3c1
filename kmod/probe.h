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

/* An address as carried in a KH_PF_OBSERVED_* field. */
struct kh_probe_addr {
	u8 family;		/* 0 (none), KH_PF_OBSERVED_V4 or _V6 */
	u8 addr[16];		/* network order; 4 bytes used for v4 */
	u16 port;		/* host order */
};

struct kh_probe_msg {
	u8 type;		/* enum kh_probe_type */
	u8 flags;
	u16 len;		/* whole message */
	u8 nonce[KH_NONCE_LEN];
	struct kh_probe_addr observed;
};

enum kh_probe_verdict {
	KH_PROBE_OK,
	KH_PROBE_NOT_OURS,	/* no magic: leave it to WireGuard */
	KH_PROBE_MALFORMED,
	KH_PROBE_UNKNOWN_TYPE,
};

enum kh_probe_verdict kh_probe_parse(const u8 *buf, size_t len,
				     struct kh_probe_msg *msg);
size_t kh_probe_build(u8 *buf, size_t cap, const struct kh_probe_msg *msg,
		      size_t pad_to);

static inline size_t kh_probe_observed_len(u8 family)
{
	return family == KH_PF_OBSERVED_V4 ? KH_PF_OBSERVED_V4_LEN :
	       family == KH_PF_OBSERVED_V6 ? KH_PF_OBSERVED_V6_LEN : 0;
}

#endif /* _KH_PROBE_H */
