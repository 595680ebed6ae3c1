/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kh_reflect: in-band endpoint reflection on the WireGuard port.
 *
 * The one source of truth shared by the module and khctl: the generic-netlink
 * family (name, version, commands, attributes, multicast group) and the wire
 * format of the probe messages that travel on the WireGuard UDP port.
 */
#ifndef _UAPI_LINUX_KH_REFLECT_H
#define _UAPI_LINUX_KH_REFLECT_H

#include <linux/types.h>

/* ---- Generic netlink ---------------------------------------------------- */

#define KH_GENL_NAME		"kh_reflect"
#define KH_GENL_VERSION		1
#define KH_MCGRP_EVENTS		"events"

/* Ports one network namespace may watch at once. */
#define KH_MAX_WATCHES		8

/*
 * Every command needs CAP_NET_ADMIN in the user namespace owning the caller's
 * network namespace, and acts on that namespace only.
 *
 * KH_CMD_GET_STATUS (do)
 *	reply: KH_A_VERSION, KH_A_WATCH (multi), KH_A_STATS
 * KH_CMD_WATCH (do)
 *	KH_A_PORT (required), KH_A_IFINDEX (required), KH_A_IFNAME.
 *	Watch the port for probes; the interface is a label that tells khctl
 *	which WireGuard device the port belongs to.  Watching a watched port
 *	again updates its label.
 * KH_CMD_UNWATCH (do)
 *	KH_A_PORT (required).  Stop watching; ENOENT if it was not watched.
 * KH_CMD_PROBE (do)
 *	KH_A_PORT (required, must be watched), KH_A_REFLECTOR (required).
 *	Send a probe request from KH_A_PORT to the reflector.
 *	reply: KH_A_NONCE.  The answer, if any, arrives as KH_CMD_REFLECTION
 *	on the events group, with the same nonce.
 * KH_CMD_GET_REFLECTIONS (dump)
 *	One message per stored result: KH_A_PORT, KH_A_REFLECTOR,
 *	KH_A_ENDPOINT, KH_A_RTT_US, KH_A_AGE_MS.
 * KH_CMD_REFLECTION (event on KH_MCGRP_EVENTS)
 *	KH_A_PORT, KH_A_REFLECTOR, KH_A_ENDPOINT, KH_A_NONCE, KH_A_RTT_US.
 */
enum kh_cmd {
	KH_CMD_UNSPEC,
	KH_CMD_GET_STATUS,
	KH_CMD_WATCH,
	KH_CMD_UNWATCH,
	KH_CMD_PROBE,
	KH_CMD_GET_REFLECTIONS,
	KH_CMD_REFLECTION,

	__KH_CMD_MAX
};

#define KH_CMD_MAX (__KH_CMD_MAX - 1)

enum kh_attr {
	KH_A_UNSPEC,
	KH_A_VERSION,		/* u32: KH_GENL_VERSION of the module */
	KH_A_PORT,		/* u16, host byte order, 1..65535 */
	KH_A_IFINDEX,		/* u32 */
	KH_A_IFNAME,		/* NUL-terminated string, < IFNAMSIZ */
	KH_A_WATCH,		/* nest of enum kh_watch_attr; repeated */
	KH_A_STATS,		/* nest of enum kh_stat, each u64 */
	KH_A_REFLECTOR,		/* struct sockaddr_in or struct sockaddr_in6 */
	KH_A_ENDPOINT,		/* struct sockaddr_in or struct sockaddr_in6 */
	KH_A_NONCE,		/* KH_NONCE_LEN bytes */
	KH_A_RTT_US,		/* u32: request sent to answer received */
	KH_A_AGE_MS,		/* u32: since the result was received */

	__KH_A_MAX
};

#define KH_A_MAX (__KH_A_MAX - 1)

enum kh_watch_attr {
	KH_WATCH_A_UNSPEC,
	KH_WATCH_A_PORT,	/* u16 */
	KH_WATCH_A_IFINDEX,	/* u32 */
	KH_WATCH_A_IFNAME,	/* string */

	__KH_WATCH_A_MAX
};

#define KH_WATCH_A_MAX (__KH_WATCH_A_MAX - 1)

/* Per-namespace counters, in KH_A_STATS. */
enum kh_stat {
	KH_STAT_UNSPEC,
	KH_STAT_PAD,			/* alignment padding for the u64s */
	KH_STAT_RX_REQUESTS,		/* valid probe requests received */
	KH_STAT_TX_ANSWERS,		/* answers sent */
	KH_STAT_TX_PROBES,		/* probe requests sent */
	KH_STAT_RX_ANSWERS,		/* answers matched and stored */
	KH_STAT_DROP_MALFORMED,		/* bad length, field or truncated */
	KH_STAT_DROP_UNKNOWN_TYPE,	/* magic right, message type unknown */
	KH_STAT_DROP_UNMATCHED,		/* answer with no outstanding nonce, or
					 * from another address: stale or forged
					 */
	KH_STAT_DROP_AMPLIFY,		/* request too small to answer */
	KH_STAT_DROP_CSUM,		/* bad UDP checksum */
	KH_STAT_TX_ERRORS,		/* no route, no memory */

	__KH_STAT_MAX
};

#define KH_STAT_MAX (__KH_STAT_MAX - 1)

/* ---- Probe wire format -------------------------------------------------- */

/*
 * A probe message is one UDP datagram to or from a WireGuard listen port:
 *
 *	struct kh_probe_hdr, then fields up to hdr.len:
 *	u8 type, u8 len, len bytes of value
 *
 * All integers are big endian.  The first byte of the magic ('k') is never a
 * WireGuard message type (1..4), so the two never mix.  hdr.len is the length
 * of the whole message and must equal the UDP payload length.  Unknown field
 * types are skipped; unknown message types are dropped and counted.
 *
 * An unauthenticated request is answered only when the answer is no larger
 * than the request: a sender pads its request with a KH_PF_PAD field to at
 * least KH_PROBE_REQ_MIN_LEN bytes.
 */
#define KH_PROBE_MAGIC		0x6b687201	/* "khr", protocol version 1 */
#define KH_NONCE_LEN		16
#define KH_PROBE_MAX_LEN	1200	/* fits any IPv6 path (1280 MTU) */

struct kh_probe_hdr {
	__be32	magic;
	__u8	type;		/* enum kh_probe_type */
	__u8	flags;		/* none defined yet: sent as 0, ignored */
	__be16	len;		/* whole message, this header included */
	__u8	nonce[KH_NONCE_LEN];
};

#define KH_PROBE_HDR_LEN	24
#define KH_PF_HDR_LEN		2

enum kh_probe_type {
	KH_PROBE_REQUEST = 1,	/* "where do you see me from?" */
	KH_PROBE_ANSWER = 2,	/* echoes the nonce, carries KH_PF_OBSERVED_* */
};

enum kh_probe_field {
	KH_PF_PAD = 0,		/* any length, ignored */
	KH_PF_OBSERVED_V4 = 1,	/* 4 bytes address, 2 bytes port */
	KH_PF_OBSERVED_V6 = 2,	/* 16 bytes address, 2 bytes port */
};

#define KH_PF_OBSERVED_V4_LEN	6
#define KH_PF_OBSERVED_V6_LEN	18

/* The largest unauthenticated answer: header and an IPv6 observation. */
#define KH_PROBE_REQ_MIN_LEN \
	(KH_PROBE_HDR_LEN + KH_PF_HDR_LEN + KH_PF_OBSERVED_V6_LEN)

#endif /* _UAPI_LINUX_KH_REFLECT_H */
