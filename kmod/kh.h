/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state shared by the files of the module.
 */
#ifndef _KH_H
#define _KH_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/spinlock.h>
#include <linux/kh_reflect.h>

#define KH_MAX_PENDING		64	/* probes awaiting an answer */
#define KH_PENDING_TIMEOUT_MS	10000	/* after which an answer is stale */
#define KH_MAX_REFLECTIONS	32	/* stored results per namespace */

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
};

struct kh_watch {
	__be16 port;		/* 0: slot free */
	int ifindex;
	char ifname[IFNAMSIZ];
};

struct kh_pending {
	u8 nonce[KH_NONCE_LEN];
	struct kh_endpoint reflector;
	__be16 lport;
	bool used;
	u64 sent_ns;
};

struct kh_reflection {
	struct kh_endpoint reflector;
	struct kh_endpoint endpoint;
	__be16 lport;		/* 0: slot free */
	u32 rtt_us;
	u64 received_ns;
};

struct kh_stats {
	u64 v[__KH_STAT_MAX];
};

struct kh_net {
	struct net *net;

	/* Configuration: the watches and the hooks' registration. */
	struct mutex lock;
	struct kh_watch watches[KH_MAX_WATCHES];
	bool hooked;
	struct nf_hook_ops hook_ops[2];

	/*
	 * The hook's view of the watched ports, read locklessly: a packet that
	 * races a change is either seen by the old or by the new set.
	 */
	__be16 ports[KH_MAX_WATCHES];

	struct socket *sock4;	/* unbound, only to send from */
	struct socket *sock6;	/* NULL when IPv6 is disabled */

	spinlock_t probe_lock;	/* pending and reflections, taken in BH */
	struct kh_pending pending[KH_MAX_PENDING];
	struct kh_reflection reflections[KH_MAX_REFLECTIONS];

	struct kh_stats __percpu *stats;
};

#define kh_stat_inc(kn, stat) this_cpu_inc((kn)->stats->v[stat])

struct kh_net *kh_net(struct net *net);
u64 kh_stat_read(struct kh_net *kn, enum kh_stat stat);

/* hook.c */
int kh_hook_watch(struct kh_net *kn, __be16 port, int ifindex,
		  const char *ifname);
int kh_hook_unwatch(struct kh_net *kn, __be16 port);
bool kh_hook_is_watched(struct kh_net *kn, __be16 port);
void kh_hook_init(struct kh_net *kn);
void kh_hook_exit(struct kh_net *kn);

/* socket.c */
int kh_socket_init(struct kh_net *kn);
void kh_socket_exit(struct kh_net *kn);
int kh_socket_send(struct kh_net *kn, const struct kh_flow *flow,
		   const void *data, size_t len);

/* reflect.c */
void kh_reflect_rx(struct kh_net *kn, const struct kh_flow *flow,
		   const u8 *data, size_t len);
int kh_reflect_probe(struct kh_net *kn, __be16 lport,
		     const struct kh_endpoint *reflector, u8 *nonce);

/* netlink.c */
int kh_netlink_init(void);
void kh_netlink_exit(void);
void kh_netlink_reflection_event(struct kh_net *kn,
				 const struct kh_reflection *r,
				 const u8 *nonce);
int kh_netlink_put_endpoint(struct sk_buff *skb, int attr,
			    const struct kh_endpoint *ep);

#endif /* _KH_H */
