/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state shared by the files of the module.
 */
#ifndef _KH_H
#define _KH_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/siphash.h>
#include <linux/netfilter.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/ipv6.h>
#include <linux/kh_reflect.h>
#include "probe.h"

#define KH_MAX_REFLECTIONS	32	/* stored results per namespace */
#define KH_MAX_ASKERS		128	/* remembered "who wants K" */
#define KH_ASKER_TTL_S		600	/* how long a want is remembered */
#define KH_REC_HASH_BITS	14
#define KH_REC_DEFAULT_MAX	131072
#define KH_REC_DEFAULT_TTL_S	600
#define KH_REC_MAX_TTL_S	86400
#define KH_REC_MAX_MAX		1048576
#define KH_RL_DEFAULT_RATE	20	/* like WireGuard's own ratelimiter */
#define KH_RL_DEFAULT_BURST	5
#define KH_RL_DEFAULT_TOTAL	10000
#define KH_RL_MAX		10000000
#define KH_MAX_GRANTS		32	/* relay grants per namespace */
#define KH_MAX_RELAY_SESSIONS	256	/* relayed handshakes remembered */
#define KH_RELAY_DEFAULT_RATE	4194304	/* bytes/s one relayed peer sends */
#define KH_RELAY_MAX_RATE	1000000000

struct kh_endpoint {
	union {
		struct sockaddr addr;
		struct sockaddr_in addr4;
		struct sockaddr_in6 addr6;
	};
};

/* What a received probe came from and went to. */
struct kh_flow {
	struct kh_endpoint remote;
	union {
		struct in_addr local4;
		struct in6_addr local6;
	};
	__be16 lport;
	u8 ttl;			/* to send: 0 for the route's */
	u32 mark;		/* to send: 0 for @lport's watch's fwmark */
};

/* The address alone; the IPv6 scope only matters to send. */
static inline bool kh_addr_eq(const struct kh_endpoint *a,
			      const struct kh_endpoint *b)
{
	if (a->addr.sa_family != b->addr.sa_family)
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_addr.s_addr == b->addr4.sin_addr.s_addr;
	return ipv6_addr_equal(&a->addr6.sin6_addr, &b->addr6.sin6_addr);
}

/* Address and port. */
static inline bool kh_endpoint_eq(const struct kh_endpoint *a,
				  const struct kh_endpoint *b)
{
	if (!kh_addr_eq(a, b))
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_port == b->addr4.sin_port;
	return a->addr6.sin6_port == b->addr6.sin6_port;
}

/*
 * A watched port's second port, the next one (65535's is 1): plain probes
 * are answered there too, so that one reflector tells a mapping that
 * depends on the destination port.  KH_PF_ALT_PORT answers leave from the
 * one after it, which the asker never sent to: its NAT's filter must not
 * have been opened by the probe of the second port.
 */
static inline __be16 kh_alt_port(__be16 port)
{
	return htons(ntohs(port) % 65535 + 1);
}

static inline __be16 kh_alt_answer_port(__be16 port)
{
	return kh_alt_port(kh_alt_port(port));
}

struct kh_watch {
	__be16 port;		/* 0: slot free */
	int ifindex;
	char ifname[IFNAMSIZ];
};

enum kh_pending_state {
	KH_PENDING_FREE,
	KH_PENDING_SENT,
	KH_PENDING_ANSWERED,	/* kept to tell a replay from a stranger */
};

struct kh_pending {
	u8 nonce[KH_NONCE_LEN];
	struct kh_endpoint reflector;
	__be16 lport;
	u8 state;		/* enum kh_pending_state */
	bool alt;		/* answered from another port: any port matches */
	bool retried;		/* sent again with a cookie already */
	u64 sent_ns;
	u8 *req;		/* an authenticated request as sent, to send
				 * again with a cookie; NULL once answered
				 */
	u16 req_len;
};

/* The cookie a reflector gave us for its next request from our port. */
struct kh_cookie {
	struct kh_endpoint reflector;
	__be16 lport;			/* 0: slot free */
	u8 cookie[KH_COOKIE_LEN];
	unsigned long at;		/* jiffies */
};

struct kh_reflection {
	struct kh_endpoint reflector;
	struct kh_endpoint endpoint;
	__be16 lport;		/* 0: slot free */
	u32 rtt_us;
	u64 received_ns;
	u64 update_seq;		/* highest update sequence number taken */
};

struct kh_rl_slot;

struct kh_key {
	struct rcu_head rcu;
	u8 key[KH_KEY_LEN];
};

/* A peer endpoint record; kept under kh_net.rec_lock. */
struct kh_record {
	struct hlist_node node;
	u8 key[KH_KEY_LEN];
	struct kh_endpoint endpoint;
	struct kh_endpoint reflector;	/* learned from; AF_UNSPEC if not */
	__be16 lport;
	u8 source;			/* enum kh_source */
	u8 flags;			/* KH_RECORD_F_* */
	unsigned long confirmed;	/* jiffies */
	unsigned long expires;		/* jiffies */
	u64 req_seq;			/* KH_PF_SEQ of the key's newest request
					 * that we answered; 0: none
					 */
	u8 nr_cands;			/* the peer's own addresses, as its
					 * requests (or its reflector) said;
					 * an update without any keeps them
					 */
	struct kh_probe_addr cands[KH_MAX_CANDS];
};

struct kh_asker {
	u8 want[KH_KEY_LEN];
	u8 who[KH_KEY_LEN];		/* the asker's key; zero: not given */
	struct kh_endpoint asker;
	struct kh_endpoint given;	/* want's endpoint as last sent to the
					 * asker; AF_UNSPEC: none yet
					 */
	__be16 lport;			/* 0: slot free */
	unsigned long expires;
};

/* A safe start: packets from lport to @to leave with at most @ttl. */
struct kh_start {
	struct kh_endpoint to;
	__be16 lport;			/* 0: slot free */
	u8 ttl;
	unsigned long until;		/* jiffies */
};

/* A peer (@who, at @from) asked us to relay to @peer. */
struct kh_relay_grant {
	u8 who[KH_KEY_LEN];
	u8 peer[KH_KEY_LEN];
	u8 mac1_key[KH_KEY_LEN];	/* @peer's, as WireGuard's mac1 uses */
	struct kh_endpoint from;
	__be16 lport;			/* 0: slot free */
	unsigned long expires;		/* jiffies */
	u64 tokens;			/* bytes @who may send now */
	u64 refill_ns;
};

/* Packets to receiver @index from @from go to @to. */
struct kh_relay_session {
	__le32 index;
	__be16 lport;			/* 0: slot free */
	u8 src, dst;			/* the grants of @from's and @to's peer */
	struct kh_endpoint from;
	struct kh_endpoint to;
	unsigned long expires;		/* jiffies */
};

struct kh_bday;

struct kh_stats {
	u64 v[__KH_STAT_MAX];
};

struct kh_net {
	struct net *net;

	/* Configuration: the watches and the hooks' registration. */
	struct mutex lock;
	struct kh_watch watches[KH_MAX_WATCHES];
	bool hooked;
	struct nf_hook_ops hook_ops[4];

	/*
	 * The hook's view of the watched ports, read locklessly: a packet that
	 * races a change is either seen by the old or by the new set.
	 */
	__be16 ports[KH_MAX_WATCHES];
	struct kh_key __rcu *keys[KH_MAX_WATCHES];
	u8 nat[KH_MAX_WATCHES];		/* KH_RECORD_F_NAT bits of the port */
	u32 marks[KH_MAX_WATCHES];	/* the WireGuard device's fwmark */

	struct socket *sock4;	/* unbound, only to send from */
	struct socket *sock6;	/* NULL when IPv6 is disabled */

	atomic64_t seq;		/* KH_PF_SEQ of what we last sent */
	/*
	 * Pending requests, reflections, cookies given to us, askers and
	 * starts; taken in BH.
	 */
	spinlock_t probe_lock;
	struct kh_pending pending[KH_MAX_PENDING];
	struct kh_cookie cookies[KH_MAX_REFLECTIONS];
	struct kh_reflection reflections[KH_MAX_REFLECTIONS];
	struct kh_asker askers[KH_MAX_ASKERS];
	struct kh_start starts[KH_MAX_STARTS];
	int nr_starts;			/* read locklessly by the hooks */

	/* The secrets of the cookies we give: see reflect.c. */
	spinlock_t cookie_lock;
	u8 cookie_secret[2][KH_KEY_LEN];	/* now, and the one before */
	unsigned long cookie_born;		/* jiffies: secret[0]'s */

	/* The relay: see relay.c. */
	spinlock_t relay_lock;
	struct kh_relay_grant grants[KH_MAX_GRANTS];
	struct kh_relay_session sessions[KH_MAX_RELAY_SESSIONS];
	int nr_grants;			/* read locklessly by the hooks */
	u32 relay_rate;
	unsigned long relay_reap;	/* jiffies: next look for old grants */

	/* Birthday probing: see bday.c. */
	struct mutex bday_mutex;	/* starts and ends */
	spinlock_t bday_lock;		/* the slots, taken in BH */
	struct kh_bday __rcu *bdays[KH_MAX_BDAYS];	/* the hooks: RCU */
	int nr_binds;			/* found sprays: read by the hooks */

	/*
	 * The records: the table is made when a mesh key or a record is
	 * first set (kh_records_prepare()), then kept.
	 */
	spinlock_t rec_lock;
	struct hlist_head *rec_hash;
	siphash_key_t rec_hash_key;
	unsigned int rec_count;
	unsigned int rec_max;
	unsigned int rec_ttl_s;
	u32 rec_gen;			/* changes when a record comes or goes */
	struct delayed_work rec_gc;

	/* Answers: see ratelimit.c. */
	spinlock_t rl_lock;
	struct kh_rl_slot *rl_slots;
	hsiphash_key_t rl_hash_key;
	u32 rl_rate, rl_burst, rl_total;
	u64 rl_total_tokens, rl_total_last;

	struct kh_stats __percpu *stats;
};

#define kh_stat_inc(kn, stat) this_cpu_inc((kn)->stats->v[stat])

struct netlink_callback;
struct udphdr;

struct kh_net *kh_net(struct net *net);
u64 kh_stat_read(struct kh_net *kn, enum kh_stat stat);

/* hook.c */
int kh_hook_watch(struct kh_net *kn, __be16 port, int ifindex,
		  const char *ifname, u32 fwmark);
int kh_hook_unwatch(struct kh_net *kn, __be16 port);
int kh_hook_set_key(struct kh_net *kn, __be16 port, const u8 *key);
bool kh_hook_is_watched(struct kh_net *kn, __be16 port);
bool kh_hook_has_key(struct kh_net *kn, __be16 port);
void kh_hook_set_nat(struct kh_net *kn, __be16 port, u8 nat);
u8 kh_hook_nat(struct kh_net *kn, __be16 port);
u32 kh_hook_mark(struct kh_net *kn, __be16 port);
int kh_hook_ifindex(struct kh_net *kn, __be16 port);
const struct kh_key *kh_hook_key(struct kh_net *kn, __be16 port);
void kh_skb_endpoint(const struct sk_buff *skb, const struct udphdr *uh,
		     bool src, struct kh_endpoint *ep);
void kh_hook_init(struct kh_net *kn);
void kh_hook_exit(struct kh_net *kn);

/* cands.c */
u8 kh_cands_local(struct kh_net *kn, __be16 lport, struct kh_probe_addr *out);

/* start.c */
int kh_start_add(struct kh_net *kn, __be16 lport, const struct kh_endpoint *to,
		 u8 ttl, u32 hold_ms);
void kh_start_rx(struct kh_net *kn, __be16 lport,
		 const struct kh_endpoint *from);
void kh_start_tx(struct kh_net *kn, struct sk_buff *skb, __be16 sport,
		 const struct kh_endpoint *to);
void kh_start_flush(struct kh_net *kn);

/* relay.c */
void kh_relay_init(struct kh_net *kn);
bool kh_relay_grant(struct kh_net *kn, const struct kh_flow *flow,
		    const u8 *who, const u8 *peer);
void kh_relay_end(struct kh_net *kn, __be16 lport, const u8 *who,
		  const u8 *peer);
void kh_relay_forget(struct kh_net *kn, const u8 *key);
void kh_relay_flush(struct kh_net *kn);
u32 kh_relay_rate(struct kh_net *kn);
void kh_relay_set_rate(struct kh_net *kn, u32 rate);
unsigned int kh_relay_rx(struct kh_net *kn, struct sk_buff *skb,
			 unsigned int uoff, const struct nf_hook_state *state,
			 u8 pf);

/* bday.c */
struct kh_bday_ask {
	__be16 lport;
	const u8 *self, *peer;
	struct kh_endpoint target;
	u8 mode, ttl;
	u32 count, rate, time_ms;	/* 0: the default */
};

struct kh_probe_msg;

void kh_bday_init(struct kh_net *kn);
void kh_bday_exit(struct kh_net *kn);
int kh_bday_start(struct kh_net *kn, const struct kh_bday_ask *ask);
int kh_bday_end(struct kh_net *kn, __be16 lport, const u8 *peer);
void kh_bday_flush(struct kh_net *kn, __be16 lport);
void kh_bday_rx(struct kh_net *kn, const struct kh_flow *flow,
		const struct kh_probe_msg *msg);
bool kh_bday_out(struct kh_net *kn, struct sk_buff *skb, unsigned int uoff,
		 u8 pf, const struct udphdr *uh);
bool kh_bday_in(struct kh_net *kn, struct sk_buff *skb, unsigned int uoff,
		u8 pf, const struct udphdr *uh);
int kh_bday_dump(struct kh_net *kn, struct sk_buff *skb,
		 struct netlink_callback *cb);

/* socket.c */
int kh_socket_init(struct kh_net *kn);
void kh_socket_exit(struct kh_net *kn);
int kh_socket_send(struct kh_net *kn, const struct kh_flow *flow,
		   const void *data, size_t len);

/* reflect.c */
void kh_reflect_rx(struct kh_net *kn, const struct kh_flow *flow,
		   const u8 *data, size_t len);
/* What a probe asks for besides the reflection. */
struct kh_probe_ask {
	const u8 *pubkey;	/* ours; NULL: unauthenticated */
	const u8 *wants;	/* @nr_wants keys back to back */
	unsigned int nr_wants;
	bool alt;		/* answer from another port */
	const u8 *relay;	/* relay to this peer */
	const u8 *relay_end;	/* stop relaying to this peer */
};

void kh_reflect_put_mac(const struct kh_key *key, u8 *buf, size_t len);
u64 kh_reflect_next_seq(struct kh_net *kn);
void kh_reflect_init(struct kh_net *kn);
void kh_reflect_exit(struct kh_net *kn);
bool kh_reflect_mac_ok(const struct kh_key *key,
		       const struct kh_probe_msg *msg);

int kh_reflect_probe(struct kh_net *kn, __be16 lport,
		     const struct kh_endpoint *reflector,
		     const struct kh_probe_ask *ask, u8 *nonce);
void kh_reflect_push(struct kh_net *kn, const struct kh_record *rec);
void kh_reflect_forget_given(struct kh_net *kn);

/* ratelimit.c */
void kh_ratelimit_init(struct kh_net *kn);
int kh_ratelimit_prepare(struct kh_net *kn);
void kh_ratelimit_exit(struct kh_net *kn);
bool kh_ratelimit_allow(struct kh_net *kn, const struct kh_endpoint *src,
			bool *busy);
void kh_ratelimit_get(struct kh_net *kn, u32 *rate, u32 *burst, u32 *total);
void kh_ratelimit_set(struct kh_net *kn, u32 rate, u32 burst, u32 total);

/* records.c */
int kh_records_module_init(void);
void kh_records_module_exit(void);
void kh_records_init(struct kh_net *kn);
void kh_records_exit(struct kh_net *kn);
int kh_records_prepare(struct kh_net *kn);
int kh_records_update(struct kh_net *kn, const struct kh_record *in,
		      unsigned int ttl_s);
bool kh_records_get(struct kh_net *kn, const u8 *key, struct kh_record *out);
int kh_records_del(struct kh_net *kn, const u8 *key);
void kh_records_flush(struct kh_net *kn);
int kh_records_dump(struct kh_net *kn, struct sk_buff *skb,
		    struct netlink_callback *cb);
void kh_records_limits(struct kh_net *kn, unsigned int *count,
		       unsigned int *max, unsigned int *ttl_s);
void kh_records_set_limits(struct kh_net *kn, unsigned int max,
			   unsigned int ttl_s);

/* netlink.c */
int kh_netlink_init(void);
void kh_netlink_exit(void);
void kh_netlink_reflection_event(struct kh_net *kn,
				 const struct kh_reflection *r,
				 const u8 *nonce, bool auth, const u8 *relay);
int kh_netlink_put_endpoint(struct sk_buff *skb, int attr,
			    const struct kh_endpoint *ep);
int kh_netlink_put_record(struct sk_buff *skb, const struct kh_record *rec);
void *kh_netlink_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			  u8 cmd);
void kh_netlink_peer_event(struct kh_net *kn, enum kh_event event,
			   const struct kh_record *rec);

#endif /* _KH_H */
