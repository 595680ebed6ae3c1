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
#define KH_KEY_LEN		32	/* WireGuard public keys, mesh keys */
#define KH_MAX_WANT		16	/* keys one probe may ask about */
/*
 * Local candidates: a node's own addresses on its WireGuard port, at most
 * KH_MAX_CANDS (KH_MAX_CANDS / 2 per family), in its authenticated
 * requests and with its record.
 */
#define KH_MAX_CANDS		4
/*
 * Probes awaiting an answer per namespace: a new probe beyond that replaces
 * the oldest, whose answer is then dropped as unmatched.  An answer later
 * than KH_PENDING_TIMEOUT_MS is stale.
 */
#define KH_MAX_PENDING		64
#define KH_PENDING_TIMEOUT_MS	10000
#define KH_MAX_STARTS		32	/* safe starts held at once, per netns */
#define KH_START_MAX_HOLD_MS	600000
#define KH_RELAY_GRANT_S	120	/* a relay grant lasts, unless renewed */
#define KH_MAX_BDAYS		8	/* birthday sessions per netns */
#define KH_BDAY_MAX_PORTS	1024	/* ports one spray may open */
#define KH_BDAY_MAX_PROBES	65535	/* probes one session may send */
#define KH_BDAY_MAX_RATE	1000	/* messages per second */
#define KH_BDAY_MAX_TIME_MS	600000

/* KH_A_RECORD_FLAGS */
#define KH_RECORD_F_WAITING	0x01	/* the peer has our endpoint and holds
					 * its packets: it is our turn to send
					 */
/*
 * What the peer's own netcheck found about its NAT, as it said in its own
 * probes (KH_A_NAT, KH_PF_NAT): these travel with its record.
 */
#define KH_RECORD_F_VARIES	0x02	/* the mapping varies by destination
					 * (symmetric NAT)
					 */
#define KH_RECORD_F_FILTERED	0x04	/* packets from a port the peer did
					 * not send to are dropped
					 */
#define KH_RECORD_F_PORT_MOVED	0x08	/* the public port is not the
					 * WireGuard listen port
					 */
#define KH_RECORD_F_NAT		(KH_RECORD_F_VARIES | KH_RECORD_F_FILTERED | \
				 KH_RECORD_F_PORT_MOVED)

/*
 * Every command needs CAP_NET_ADMIN in the user namespace owning the caller's
 * network namespace, and acts on that namespace only.
 *
 * KH_CMD_GET_STATUS (do)
 *	reply: KH_A_VERSION, KH_A_WATCH (multi), KH_A_STATS, KH_A_RECORDS,
 *	KH_A_MAX_RECORDS, KH_A_RECORD_TTL, KH_A_RL_RATE, KH_A_RL_BURST,
 *	KH_A_RL_TOTAL
 * KH_CMD_WATCH (do)
 *	KH_A_PORT (required), KH_A_IFINDEX (required), KH_A_IFNAME,
 *	KH_A_FWMARK (the WireGuard device's fwmark; absent or 0: none).
 *	Watch the port for probes; the interface tells khctl which WireGuard
 *	device the port belongs to.  Every packet the module sends from the
 *	port carries the fwmark, in its route lookup and as skb->mark, as
 *	WireGuard's own do: a full-tunnel policy ("not fwmark" rule, default
 *	route into the tunnel) then routes them outside the tunnel too.
 *	Watching a watched port again updates its label and fwmark; a watch
 *	of the same interface under another port moves to this one and keeps
 *	its mesh key (the device's listen port changed).
 * KH_CMD_UNWATCH (do)
 *	KH_A_PORT (required).  Stop watching; ENOENT if it was not watched.
 * KH_CMD_PROBE (do)
 *	KH_A_PORT (required, must be watched), KH_A_REFLECTOR (required),
 *	KH_A_PUBKEY (our WireGuard public key), KH_A_WANT (repeated, at most
 *	KH_MAX_WANT: keys whose records we ask for), KH_A_ALT_PORT (flag:
 *	the reflector answers from the second port after its own; needs the
 *	mesh key, else ENOKEY; the answer is matched by the reflector's address
 *	alone),
 *	KH_A_RELAY (a peer's public key: the reflector is asked to relay
 *	WireGuard's packets between us and that peer for KH_RELAY_GRANT_S;
 *	needs KH_A_PUBKEY and the mesh key, else EINVAL or ENOKEY),
 *	KH_A_RELAY_END (a peer's public key: stop relaying between us),
 *	KH_A_NAT (u8: the KH_RECORD_F_NAT bits the port's own netcheck
 *	found; from then on every authenticated request from the port says
 *	so, and reflectors pass them on in the flags of its record).
 *	Send a probe request from KH_A_PORT to the reflector; with a mesh key
 *	on the port and KH_A_PUBKEY it is authenticated, carries the keys and
 *	wants, and the answer brings back the records the reflector holds.
 *	KH_A_WANT without a mesh key on the port: ENOKEY.
 *	reply: KH_A_NONCE.  The answer, if any, arrives as KH_CMD_REFLECTION
 *	on the events group, with the same nonce; records it carried arrive
 *	as KH_CMD_PEER_EVENT before it.
 * KH_CMD_GET_REFLECTIONS (dump)
 *	One message per stored result: KH_A_PORT, KH_A_REFLECTOR,
 *	KH_A_ENDPOINT, KH_A_RTT_US, KH_A_AGE_MS.
 * KH_CMD_REFLECTION (event on KH_MCGRP_EVENTS)
 *	KH_A_PORT, KH_A_REFLECTOR, KH_A_ENDPOINT, KH_A_NONCE, KH_A_RTT_US,
 *	KH_A_AUTH (u8 1 when the answer was authenticated with the mesh key),
 *	KH_A_RELAY (a peer's key: the answer says that the relay asked for
 *	is ready, the peer asked that reflector too).
 *
 * KH_CMD_SET_KEY (do)
 *	KH_A_PORT (required, must be watched), KH_A_KEY (required): the mesh
 *	key for messages on that port.  All zeros removes it.  Write-only:
 *	status only says whether a port has one (KH_WATCH_A_HAS_KEY).
 * KH_CMD_SET_CONFIG (do)
 *	KH_A_MAX_RECORDS, KH_A_RECORD_TTL (seconds): limits of the table;
 *	KH_A_RL_RATE, KH_A_RL_BURST, KH_A_RL_TOTAL: how many requests are
 *	answered (per source address, IPv6 per /64, and in all); the rest is
 *	dropped and counted.  KH_A_RELAY_RATE: bytes per second one relayed
 *	peer may send through this namespace (the burst is one second's
 *	worth).  At least one of them, else EINVAL.  A lower maximum removes nothing;
 *	it refuses new records until the table is below it.
 *
 * Records: what this namespace knows about where WireGuard peers are.
 * A record message carries KH_A_PUBKEY, KH_A_ENDPOINT, KH_A_SOURCE,
 * KH_A_PORT (where it was observed or learned; 0 if pushed),
 * KH_A_REFLECTOR (the reflector it was learned from), KH_A_AGE_MS (since
 * last confirmed), KH_A_EXPIRES_MS (until it is reclaimed),
 * KH_A_RECORD_FLAGS (KH_RECORD_F_*, from the reflector's last word),
 * KH_A_CANDIDATE (repeated, at most KH_MAX_CANDS: the peer's own
 * addresses with its port, as its requests said, for a peer on the same
 * LAN to reach it without the NAT).
 *
 * KH_CMD_GET_PEER (do): KH_A_PUBKEY.  reply: a record.  ENOENT if none.
 * KH_CMD_GET_PEERS (dump): every record, one per message.  Both leave out
 *	expired records not yet reclaimed.  A dump flagged NLM_F_DUMP_INTR
 *	saw records come or go while it ran: dump again.
 * KH_CMD_SET_PEER (do): KH_A_PUBKEY, KH_A_ENDPOINT, KH_A_RECORD_TTL
 *	(optional, seconds; default the table's).  Source KH_SOURCE_PUSHED.
 * KH_CMD_DEL_PEER (do): KH_A_PUBKEY.  ENOENT if none.
 * KH_CMD_FLUSH_PEERS (do): remove every record; the relays and birthday
 *	sessions that stand on them end too.
 * KH_CMD_PEER_EVENT (event): KH_A_EVENT and a record.
 *
 * KH_CMD_START (do): KH_A_PORT (required, must be watched), KH_A_ENDPOINT
 *	(required), KH_A_START_TTL (required), KH_A_START_HOLD_MS (required).
 *	A safe start toward a peer behind NAT: for up to KH_A_START_HOLD_MS,
 *	every packet sent from the port to the endpoint (WireGuard's and the
 *	module's) leaves with at most KH_A_START_TTL as its TTL or hop
 *	limit, so that it opens our own NAT without reaching the far one,
 *	until a packet from the endpoint arrives on the port.  Starting the
 *	same endpoint again replaces its hold; at most KH_MAX_STARTS at once
 *	(ENOSPC).  A record flagged KH_RECORD_F_WAITING tells that the peer
 *	holds already: it is our turn to send.
 *
 * KH_CMD_BIRTHDAY (do): KH_A_PORT (required, watched, with a mesh key),
 *	KH_A_PUBKEY (required: ours), KH_A_PEER (required: the peer's key),
 *	KH_A_ENDPOINT (required: the peer's public endpoint), KH_A_BDAY_MODE
 *	(required), KH_A_BDAY_COUNT (ports to open or probes to send;
 *	default 256 or 2000), KH_A_BDAY_RATE (messages per second, default
 *	100), KH_A_BDAY_TIME_MS (default 20000), KH_A_START_TTL (the spray's
 *	TTL, so that it opens our NAT and dies before the far one; default:
 *	the route's).  Birthday probing between a symmetric NAT and an
 *	endpoint-independent one.  KH_BDAY_SPRAY (the symmetric side) opens
 *	that many kernel UDP sockets on random ports and sends a message from
 *	each to the endpoint; KH_BDAY_PROBE (the other side) sends messages
 *	from the watched port to random ports of the endpoint's address.
 *	Both are authenticated with the mesh key and name the sender's key.
 *	The first one that arrives names a working pair: the spray side then
 *	rewrites the source port of what leaves the watched port for the
 *	endpoint (WireGuard's packets) to that socket's port, and the
 *	destination port of what comes back, until the session ends; the
 *	probe side learns the peer's working endpoint (KH_A_BDAY_FOUND) for
 *	WireGuard.  Starting the same peer on the same port again replaces
 *	its session; ENOSPC with KH_MAX_BDAYS running or found.
 * KH_CMD_BIRTHDAY_END (do): KH_A_PORT, KH_A_PEER.  End a session and its
 *	rewrite; ENOENT if none.
 * KH_CMD_GET_BIRTHDAYS (dump): per session KH_A_PORT, KH_A_PEER,
 *	KH_A_ENDPOINT, KH_A_BDAY_MODE, KH_A_BDAY_STATE, KH_A_BDAY_COUNT,
 *	KH_A_BDAY_RATE, KH_A_BDAY_TIME_MS, KH_A_BDAY_PORTS (opened),
 *	KH_A_BDAY_PROBES (sent), KH_A_AGE_MS (since the start), and once
 *	found KH_A_BDAY_FOUND (where the peer's message came from),
 *	KH_A_BDAY_TOOK_MS and, on the spray side, KH_A_BDAY_LOCAL_PORT.
 *
 * Relay: a reflector relays WireGuard's own packets, still encrypted,
 * between two peers that both asked it to (KH_A_RELAY in a probe, under the
 * mesh key) and whose records it holds.  A handshake initiation is told by
 * its mac1, keyed by the responder's public key, the rest by the receiver
 * index that the handshake set up.  No plaintext, no port of its own.
 */
enum kh_cmd {
	KH_CMD_UNSPEC,
	KH_CMD_GET_STATUS,
	KH_CMD_WATCH,
	KH_CMD_UNWATCH,
	KH_CMD_PROBE,
	KH_CMD_GET_REFLECTIONS,
	KH_CMD_REFLECTION,
	KH_CMD_SET_KEY,
	KH_CMD_SET_CONFIG,
	KH_CMD_GET_PEER,
	KH_CMD_GET_PEERS,
	KH_CMD_SET_PEER,
	KH_CMD_DEL_PEER,
	KH_CMD_FLUSH_PEERS,
	KH_CMD_PEER_EVENT,
	KH_CMD_START,
	KH_CMD_BIRTHDAY,
	KH_CMD_BIRTHDAY_END,
	KH_CMD_GET_BIRTHDAYS,

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
	KH_A_AUTH,		/* u8: 1 if authenticated with the mesh key */
	KH_A_KEY,		/* KH_KEY_LEN bytes: mesh key, write-only */
	KH_A_PUBKEY,		/* KH_KEY_LEN bytes: a WireGuard public key */
	KH_A_WANT,		/* KH_KEY_LEN bytes; repeated */
	KH_A_SOURCE,		/* u8: enum kh_source */
	KH_A_EXPIRES_MS,	/* u32 */
	KH_A_RECORD_TTL,	/* u32: seconds, 1..86400 */
	KH_A_MAX_RECORDS,	/* u32: 1..1048576 */
	KH_A_RECORDS,		/* u32: records in the table now */
	KH_A_EVENT,		/* u8: enum kh_event */
	KH_A_RL_RATE,		/* u32: answers per second to one source */
	KH_A_RL_BURST,		/* u32: answers one source may get at once */
	KH_A_RL_TOTAL,		/* u32: answers per second, whole namespace */
	KH_A_RECORD_FLAGS,	/* u32: KH_RECORD_F_* */
	KH_A_START_TTL,		/* u8: 1..255 */
	KH_A_START_HOLD_MS,	/* u32: 1..KH_START_MAX_HOLD_MS */
	KH_A_ALT_PORT,		/* flag */
	KH_A_RELAY,		/* KH_KEY_LEN bytes: relay to this peer */
	KH_A_RELAY_END,		/* KH_KEY_LEN bytes: stop relaying to it */
	KH_A_RELAY_RATE,	/* u32: bytes per second per relayed peer */
	KH_A_NAT,		/* u8: KH_RECORD_F_NAT bits of the port's
				 * NAT; its authenticated requests say so
				 * from then on
				 */
	KH_A_PEER,		/* KH_KEY_LEN bytes: a peer's public key */
	KH_A_BDAY_MODE,		/* u8: enum kh_bday_mode */
	KH_A_BDAY_STATE,	/* u8: enum kh_bday_state */
	KH_A_BDAY_COUNT,	/* u32 */
	KH_A_BDAY_RATE,		/* u32: 1..KH_BDAY_MAX_RATE */
	KH_A_BDAY_TIME_MS,	/* u32: 1..KH_BDAY_MAX_TIME_MS */
	KH_A_BDAY_PORTS,	/* u32: ports opened */
	KH_A_BDAY_PROBES,	/* u32: probes sent */
	KH_A_BDAY_FOUND,	/* struct sockaddr_in or sockaddr_in6 */
	KH_A_BDAY_LOCAL_PORT,	/* u16: the spray socket that worked */
	KH_A_BDAY_TOOK_MS,	/* u32: start to found */
	KH_A_FWMARK,		/* u32: the WireGuard device's fwmark */
	KH_A_CANDIDATE,		/* struct sockaddr_in or sockaddr_in6;
				 * repeated
				 */

	__KH_A_MAX
};

#define KH_A_MAX (__KH_A_MAX - 1)

enum kh_watch_attr {
	KH_WATCH_A_UNSPEC,
	KH_WATCH_A_PORT,	/* u16 */
	KH_WATCH_A_IFINDEX,	/* u32 */
	KH_WATCH_A_IFNAME,	/* string */
	KH_WATCH_A_HAS_KEY,	/* u8: 1 if a mesh key is set */
	KH_WATCH_A_NAT,		/* u8: the KH_RECORD_F_NAT bits its
				 * requests say (KH_PF_NAT)
				 */
	KH_WATCH_A_FWMARK,	/* u32: the mark its packets carry; 0: none */

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
	KH_STAT_DROP_AUTH,		/* MAC wrong, or no mesh key here */
	KH_STAT_TX_UPDATES,		/* unsolicited record updates sent */
	KH_STAT_RX_UPDATES,		/* record updates accepted */
	KH_STAT_RECORDS_REFUSED,	/* new record refused: table full */
	KH_STAT_RECORDS_EXPIRED,	/* records reclaimed after their TTL */
	KH_STAT_DROP_RATELIMIT,		/* request over the rate limit */
	KH_STAT_DROP_REPLAY,		/* answer, update or authenticated
					 * request seen before
					 */
	KH_STAT_START_CLAMPED,		/* packets sent with a start's TTL */
	KH_STAT_START_RELEASED,		/* starts ended by the peer's packet */
	KH_STAT_RELAY_GRANTED,		/* relay requests granted or renewed */
	KH_STAT_RELAY_REFUSED,		/* relay requests not authenticated,
					 * for a peer without a record, or
					 * with every grant slot taken
					 */
	KH_STAT_RELAY_PACKETS,		/* WireGuard packets relayed */
	KH_STAT_RELAY_BYTES,		/* their UDP payload bytes */
	KH_STAT_RELAY_LIMITED,		/* dropped over KH_A_RELAY_RATE */
	KH_STAT_RELAY_NO_PEER,		/* initiation to a granted peer that
					 * has not asked for the relay itself
					 */
	KH_STAT_BDAY_PORTS,		/* birthday ports opened */
	KH_STAT_BDAY_PROBES,		/* birthday messages sent */
	KH_STAT_BDAY_FOUND,		/* sessions that found a pair */
	KH_STAT_BDAY_REFUSED,		/* birthday messages not authenticated,
					 * from another peer or address, or
					 * for no session
					 */
	KH_STAT_BDAY_REWRITTEN,		/* packets whose port was rewritten */
	KH_STAT_TX_RETRIES,		/* authenticated requests answered with
					 * a cookie to ask again with: not yet
					 * from a proven address
					 */

	__KH_STAT_MAX
};

#define KH_STAT_MAX (__KH_STAT_MAX - 1)

enum kh_source {
	KH_SOURCE_OBSERVED = 1,	/* from an authenticated probe we answered */
	KH_SOURCE_PUSHED = 2,	/* set by an administrator */
	KH_SOURCE_LEARNED = 3,	/* from a reflector's answer or update */
};

enum kh_bday_mode {
	KH_BDAY_SPRAY = 1,	/* our NAT is symmetric: open many ports */
	KH_BDAY_PROBE = 2,	/* the peer's is: probe its random ports */
};

enum kh_bday_state {
	KH_BDAY_RUNNING = 1,
	KH_BDAY_FOUND = 2,
	KH_BDAY_FAILED = 3,	/* the time limit passed */
};

enum kh_event {
	KH_EVENT_ADDED = 1,
	KH_EVENT_CHANGED = 2,	/* endpoint changed */
	KH_EVENT_REMOVED = 3,
};

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
 *
 * An authenticated request carries the sender's own addresses on its port
 * (KH_PF_CAND_*, at most KH_MAX_CANDS); the reflector keeps them with the
 * sender's record and puts them right after that record in answers and
 * updates, as long as the answer keeps room for every record still to
 * come in it.
 *
 * An update carries a KH_PF_SEQ; a receiver accepts only a sequence number
 * above the last one it took from that reflector, and above the one the
 * reflector's last authenticated answer carried (where its updates
 * begin).  So does an authenticated request, with the sender's
 * KH_PF_PUBKEY: a reflector takes it only with a
 * sequence number above the last one it took under that key (kept with the
 * key's record), and answers a replay with nothing.  And a reflector takes
 * an authenticated request only from an address the sender proved: it must
 * carry the KH_PF_COOKIE that the reflector's last authenticated answer to
 * that address gave (a keyed hash of the address and port under a secret
 * of the reflector's that changes every two minutes, the one before still
 * good).  Without it the answer says KH_PF_RETRY, gives the cookie and
 * nothing else, and is no larger than the request; the sender asks again.
 *
 * Authenticated messages (flag KH_PROBE_F_AUTH) end with a KH_PF_MAC field:
 * keyed BLAKE2s-128 (key: the mesh key) over every byte before the MAC's
 * value.  Only they may carry KH_PF_PUBKEY, KH_PF_WANT and KH_PF_RECORD_*,
 * and only their answers may be larger than the request.  A request whose
 * MAC does not verify is answered as if it were unauthenticated.
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
	KH_PROBE_UPDATE = 3,	/* unsolicited, authenticated: records */
	KH_PROBE_BIRTHDAY = 4,	/* authenticated, KH_PF_PUBKEY: birthday
				 * probing (KH_CMD_BIRTHDAY); the receiver
				 * of one that got through answers with
				 */
	KH_PROBE_BIRTHDAY_ACK = 5,	/* the same nonce, its own key */
};

#define KH_PROBE_F_AUTH		0x01

enum kh_probe_field {
	KH_PF_PAD = 0,		/* any length, ignored */
	KH_PF_OBSERVED_V4 = 1,	/* 4 bytes address, 2 bytes port */
	KH_PF_OBSERVED_V6 = 2,	/* 16 bytes address, 2 bytes port */
	KH_PF_PUBKEY = 3,	/* the sender's WireGuard public key */
	KH_PF_WANT = 4,		/* a key whose record is wanted; repeated */
	KH_PF_RECORD_V4 = 5,	/* key, address, port, u32 age in seconds */
	KH_PF_RECORD_V6 = 6,	/* key, address, port, u32 age in seconds */
	KH_PF_MAC = 7,		/* last field of an authenticated message */
	KH_PF_SEQ = 8,		/* u64, grows with every authenticated
				 * request and update a sender sends (its
				 * wall clock in ns, or the last one + 1):
				 * a replayed one is refused
				 */
	KH_PF_WAITING = 9,	/* empty, right after a record in an answer:
				 * the record's peer was given the receiver's
				 * current endpoint and holds its first
				 * packets (a safe start): the receiver sends
				 * first
				 */
	KH_PF_ALT_PORT = 10,	/* empty, in an authenticated request: answer
				 * from the second port after the one it
				 * came to (a filtering check for the
				 * asker's NAT; not the next port, whose
				 * plain probes the asker may have sent)
				 */
	KH_PF_RELAY = 11,	/* a peer's key, in a request: relay between
				 * the sender (KH_PF_PUBKEY) and that peer;
				 * honoured only under the mesh key.  In an
				 * authenticated answer: that relay is ready
				 * (the peer asked too)
				 */
	KH_PF_RELAY_END = 12,	/* a peer's key, in a request: stop that */
	KH_PF_NAT = 13,		/* u8: KH_RECORD_F_NAT bits (others are
				 * ignored).  In an authenticated request:
				 * the sender's NAT.  Right after a record:
				 * that record's peer's, as it said
				 */
	KH_PF_COOKIE = 14,	/* KH_COOKIE_LEN bytes.  In an authenticated
				 * answer: proof of the address the request
				 * came from, for the next request from there
				 * to carry.  In an authenticated request:
				 * the last one the reflector gave
				 */
	KH_PF_RETRY = 15,	/* empty, in an authenticated answer: the
				 * request was not taken (no cookie, or not
				 * one for its address): send it again with
				 * the answer's KH_PF_COOKIE
				 */
	KH_PF_CAND_V4 = 16,	/* 4 bytes address, 2 bytes port; repeated.
				 * In an authenticated request: an address
				 * of the sender's own on its port (at most
				 * KH_MAX_CANDS, with _V6; none: the last
				 * ones said still hold).  Right after a
				 * record: one of that record's peer
				 */
	KH_PF_CAND_V6 = 17,	/* 16 bytes address, 2 bytes port: the same */
};

#define KH_PF_SEQ_LEN		8
#define KH_COOKIE_LEN		16

#define KH_PF_OBSERVED_V4_LEN	6
#define KH_PF_OBSERVED_V6_LEN	18
#define KH_PF_CAND_V4_LEN	6
#define KH_PF_CAND_V6_LEN	18
#define KH_PF_RECORD_V4_LEN	(KH_KEY_LEN + 4 + 2 + 4)
#define KH_PF_RECORD_V6_LEN	(KH_KEY_LEN + 16 + 2 + 4)
#define KH_MAC_LEN		16

/* The largest unauthenticated answer: header and an IPv6 observation. */
#define KH_PROBE_REQ_MIN_LEN \
	(KH_PROBE_HDR_LEN + KH_PF_HDR_LEN + KH_PF_OBSERVED_V6_LEN)

#endif /* _UAPI_LINUX_KH_REFLECT_H */
