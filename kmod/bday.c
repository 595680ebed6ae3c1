// SPDX-License-Identifier: GPL-2.0
/*
 * Birthday probing.  A symmetric NAT gives every destination a new random
 * public port, so the port a reflector saw is useless to the peer.  The
 * symmetric side (spray) opens many kernel UDP sockets and sends from each
 * to the peer's public endpoint: each opens one mapping in its NAT, and a
 * TTL keeps the packets from reaching the far NAT, where they could leave
 * entries in the way.  The other side (probe) sends from its WireGuard port
 * to random ports of the symmetric side's address.  The first probe that
 * hits an open mapping arrives on one of the sockets: that socket's port
 * and its public port are a working pair.  From then on the spray side
 * rewrites WireGuard's packets to the peer to leave from that port, and
 * the peer's packets to that port to arrive at WireGuard's: WireGuard
 * itself needs no change.  Both rewrites sit before connection tracking
 * on the way out and after it on the way in, so the local tracker sees the
 * socket's flow throughout.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/genetlink.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>
#include "kh.h"
#include "probe.h"

#define BDAY_DEFAULT_PORTS	256
/*
 * A probe hits one of 256 mappings among some 64,500 ports with a chance of
 * 1 in 252.  The spray opens its ports over its first 2.6 s and the probe
 * side may start before it (measured: a hit took 390 probes on average, not
 * 252), so the probes fill the whole time limit at the rate: 2000 miss all
 * the mappings about once in 1,400 tries, where 1024 missed once in 18.
 */
#define BDAY_DEFAULT_PROBES	2000
#define BDAY_DEFAULT_RATE	100
#define BDAY_DEFAULT_TIME_MS	20000
#define BDAY_TICK_MS		10
#define BDAY_MSG_LEN	(KH_PROBE_HDR_LEN + 2 * KH_PF_HDR_LEN + KH_KEY_LEN + \
			 KH_MAC_LEN)
#define BDAY_FIRST_PORT		1024	/* NATs seldom map below it */

struct kh_bday {
	struct kh_net *kn;
	struct delayed_work work;
	struct rcu_head rcu;
	u8 self[KH_KEY_LEN];
	u8 peer[KH_KEY_LEN];
	u8 nonce[KH_NONCE_LEN];
	struct kh_endpoint target;
	struct kh_endpoint found;	/* where the peer's message came from */
	__be16 lport;			/* the watched (WireGuard) port */
	__be16 bound;			/* spray: the socket's port that works */
	u8 mode, state, ttl;
	bool dead;			/* ended: nothing schedules it again */
	u32 count, rate, time_ms;
	u32 ports, probes;		/* opened, sent */
	unsigned long started, took;	/* jiffies */
	struct socket **socks;		/* spray: @ports of them, NULL once
					 * closed
					 */
};

void kh_bday_init(struct kh_net *kn)
{
	spin_lock_init(&kn->bday_lock);
	mutex_init(&kn->bday_mutex);
}

/* Slot @i, for a holder of bday_mutex or bday_lock. */
static struct kh_bday *slot_of(struct kh_net *kn, int i)
{
	return rcu_dereference_protected(kn->bdays[i],
					 lockdep_is_held(&kn->bday_mutex) ||
					 lockdep_is_held(&kn->bday_lock));
}

/* The session of @peer on @lport; under bday_lock. */
static struct kh_bday *find(struct kh_net *kn, __be16 lport, const u8 *peer)
{
	int i;

	for (i = 0; i < KH_MAX_BDAYS; i++) {
		struct kh_bday *b = slot_of(kn, i);

		if (b && b->lport == lport &&
		    !memcmp(b->peer, peer, KH_KEY_LEN))
			return b;
	}
	return NULL;
}

/* A birthday message or its answer, authenticated; 0 without a key. */
static size_t build(const struct kh_bday *b, u8 type, const u8 *nonce, u8 *buf)
{
	const struct kh_key *key;
	struct kh_probe_writer w;
	size_t len;

	kh_probe_start(&w, buf, BDAY_MSG_LEN, type, KH_PROBE_F_AUTH, nonce);
	kh_probe_put(&w, KH_PF_PUBKEY, b->self, KH_KEY_LEN);
	len = kh_probe_finish(&w, 0);
	rcu_read_lock();
	key = kh_hook_key(b->kn, b->lport);
	if (key && len)
		kh_reflect_put_mac(key, buf, len);
	else
		len = 0;
	rcu_read_unlock();
	return len;
}

static void send_msg(struct kh_bday *b, u8 type, const u8 *nonce,
		     __be16 from, const struct kh_endpoint *to, u8 ttl)
{
	struct kh_flow flow = {
		.remote = *to,
		.lport = from,
		.ttl = ttl,
		/* a spray socket's port is not watched: the session's is */
		.mark = kh_hook_mark(b->kn, b->lport),
	};
	u8 buf[BDAY_MSG_LEN];
	size_t len;

	len = build(b, type, nonce, buf);
	if (!len || kh_socket_send(b->kn, &flow, buf, len))
		kh_stat_inc(b->kn, KH_STAT_TX_ERRORS);
	else
		kh_stat_inc(b->kn, KH_STAT_BDAY_PROBES);
}

/* The pair works: from @from, to our port @port.  Under bday_lock. */
static void found(struct kh_bday *b, const struct kh_endpoint *from,
		  __be16 port)
{
	struct kh_net *kn = b->kn;

	b->state = KH_BDAY_FOUND;
	b->found = *from;
	b->took = jiffies;
	if (b->mode == KH_BDAY_SPRAY) {
		/* Read by the hooks without the lock. */
		WRITE_ONCE(b->bound, port);
		WRITE_ONCE(kn->nr_binds, kn->nr_binds + 1);
	}
	kh_stat_inc(kn, KH_STAT_BDAY_FOUND);
	/* The work closes the sockets that did not make it. */
	mod_delayed_work(system_wq, &b->work, 0);
}

/* Is @msg a birthday message under @lport's mesh key?  Under RCU. */
static bool authentic(struct kh_net *kn, __be16 lport,
		      const struct kh_probe_msg *msg)
{
	return (msg->flags & KH_PROBE_F_AUTH) && msg->pubkey &&
	       kh_reflect_mac_ok(kh_hook_key(kn, lport), msg);
}

/*
 * A birthday message on a watched port (from the hook, under RCU): the
 * probe side hears the spray side's message or answer; the spray side,
 * found already, hears probes through its rewrite.
 */
void kh_bday_rx(struct kh_net *kn, const struct kh_flow *flow,
		const struct kh_probe_msg *msg)
{
	struct kh_bday *b;
	bool reply = false;

	if (!authentic(kn, flow->lport, msg)) {
		kh_stat_inc(kn, KH_STAT_BDAY_REFUSED);
		return;
	}
	spin_lock_bh(&kn->bday_lock);
	b = find(kn, flow->lport, msg->pubkey);
	if (!b || b->dead || !kh_addr_eq(&b->target, &flow->remote)) {
		spin_unlock_bh(&kn->bday_lock);
		kh_stat_inc(kn, KH_STAT_BDAY_REFUSED);
		return;
	}
	if (b->mode == KH_BDAY_PROBE && b->state == KH_BDAY_RUNNING)
		found(b, &flow->remote, 0);
	if (msg->type == KH_PROBE_BIRTHDAY && b->state == KH_BDAY_FOUND)
		reply = true;
	spin_unlock_bh(&kn->bday_lock);
	/* b lives until a grace period after it was unlinked. */
	if (reply)
		send_msg(b, KH_PROBE_BIRTHDAY_ACK, msg->nonce, flow->lport,
			 &flow->remote, 0);
}

/* A datagram on one of a spray's sockets, in softirq. */
static int bday_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct kh_bday *b = rcu_dereference_sk_user_data(sk);
	struct kh_flow flow = {};
	struct kh_probe_msg msg;
	const struct udphdr *uh;
	bool reply = false;
	unsigned int ulen;

	if (!b || udp_lib_checksum_complete(skb) ||
	    !pskb_may_pull(skb, sizeof(*uh)))
		goto drop;
	uh = udp_hdr(skb);
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > skb->len ||
	    ulen - sizeof(*uh) > KH_PROBE_MAX_LEN || !pskb_may_pull(skb, ulen))
		goto drop;
	uh = udp_hdr(skb);
	if (kh_probe_parse((const u8 *)(uh + 1), ulen - sizeof(*uh), &msg) !=
	    KH_PROBE_OK ||
	    (msg.type != KH_PROBE_BIRTHDAY && msg.type != KH_PROBE_BIRTHDAY_ACK))
		goto refuse;
	flow.lport = uh->dest;
	kh_skb_endpoint(skb, uh, true, &flow.remote);
	if (!authentic(b->kn, b->lport, &msg) ||
	    memcmp(msg.pubkey, b->peer, KH_KEY_LEN) ||
	    !kh_endpoint_eq(&flow.remote, &b->target))
		goto refuse;
	spin_lock_bh(&b->kn->bday_lock);
	if (!b->dead && b->state == KH_BDAY_RUNNING)
		found(b, &flow.remote, flow.lport);
	reply = !b->dead && msg.type == KH_PROBE_BIRTHDAY &&
		b->state == KH_BDAY_FOUND && b->bound == flow.lport;
	spin_unlock_bh(&b->kn->bday_lock);
	if (reply)
		send_msg(b, KH_PROBE_BIRTHDAY_ACK, msg.nonce, flow.lport,
			 &flow.remote, 0);
	consume_skb(skb);
	return 0;
refuse:
	kh_stat_inc(b->kn, KH_STAT_BDAY_REFUSED);
drop:
	kfree_skb(skb);
	return 0;
}

/* Open one more socket of a spray and send from it. */
static int open_one(struct kh_bday *b)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = b,
		.encap_type = 1,
		.encap_rcv = bday_encap_rcv,
	};
	struct udp_port_cfg cfg = {};
	struct socket *sock;
	__be16 port;
	int ret;

	if (b->target.addr.sa_family == AF_INET) {
		cfg.family = AF_INET;
	} else {
		cfg.family = AF_INET6;
		cfg.ipv6_v6only = 1;
	}
	/* Port 0: the kernel picks a free one at random. */
	ret = udp_sock_create(b->kn->net, &cfg, &sock);
	if (ret)
		return ret;
	setup_udp_tunnel_sock(b->kn->net, sock->sk, &tcfg);
	port = inet_sk(sock->sk)->inet_sport;
	b->socks[b->ports++] = sock;
	kh_stat_inc(b->kn, KH_STAT_BDAY_PORTS);
	send_msg(b, KH_PROBE_BIRTHDAY, b->nonce, port, &b->target, b->ttl);
	return 0;
}

static bool closing(const struct kh_bday *b, const struct socket *s, bool all)
{
	return s && (all || inet_sk(s->sk)->inet_sport != b->bound);
}

/*
 * Close the spray's sockets but the one bound (every one if @all); b->bound
 * no longer changes when this runs.
 */
static void close_socks(struct kh_bday *b, bool all)
{
	bool any = false;
	u32 i;

	if (!b->socks)
		return;
	for (i = 0; i < b->ports; i++) {
		if (!closing(b, b->socks[i], all))
			continue;
		rcu_assign_sk_user_data(b->socks[i]->sk, NULL);
		any = true;
	}
	/* One grace period for them all: no receive still sees b. */
	if (any)
		synchronize_rcu();
	for (i = 0; i < b->ports; i++) {
		struct socket *s = b->socks[i];

		if (!closing(b, s, all))
			continue;
		kernel_sock_shutdown(s, SHUT_RDWR);
		sock_release(s);
		b->socks[i] = NULL;
	}
}

static void bday_work(struct work_struct *work)
{
	struct kh_bday *b = container_of(to_delayed_work(work),
					 struct kh_bday, work);
	struct kh_net *kn = b->kn;
	unsigned long next = msecs_to_jiffies(BDAY_TICK_MS) ?: 1;
	u32 elapsed, due;
	u8 state;

	spin_lock_bh(&kn->bday_lock);
	elapsed = jiffies_to_msecs(jiffies - b->started);
	if (b->state == KH_BDAY_RUNNING && elapsed >= b->time_ms)
		b->state = KH_BDAY_FAILED;
	state = b->state;
	spin_unlock_bh(&kn->bday_lock);
	if (state != KH_BDAY_RUNNING) {
		/* Found: the bound socket stays, to keep its port ours. */
		close_socks(b, state == KH_BDAY_FAILED);
		/*
		 * And a safe start toward the peer is over: the pair is open
		 * both ways, so no colliding entry can come of WireGuard's
		 * packets, which a held TTL would keep from arriving.
		 */
		if (state == KH_BDAY_FOUND && b->mode == KH_BDAY_SPRAY)
			kh_start_rx(kn, b->lport, &b->target);
		return;
	}
	due = min_t(u64, b->count, (u64)b->rate * elapsed / 1000 + 1);
	if (b->mode == KH_BDAY_SPRAY) {
		while (b->ports < due)
			if (open_one(b))
				break;
	} else {
		while (b->probes < due) {
			struct kh_endpoint to = b->target;
			__be16 port = htons(BDAY_FIRST_PORT +
					    get_random_u32() %
					    (65536 - BDAY_FIRST_PORT));

			if (to.addr.sa_family == AF_INET)
				to.addr4.sin_port = port;
			else
				to.addr6.sin6_port = port;
			b->probes++;
			send_msg(b, KH_PROBE_BIRTHDAY, b->nonce, b->lport, &to,
				 0);
		}
	}
	/* Everything sent: wake only to tell the time limit. */
	if ((b->mode == KH_BDAY_SPRAY ? b->ports : b->probes) >= b->count)
		next = msecs_to_jiffies(b->time_ms - elapsed) ?: 1;
	queue_delayed_work(system_wq, &b->work, next);
}

/* Take slot @i out: nothing finds it or schedules its work after this. */
static struct kh_bday *unlink_slot(struct kh_net *kn, int i)
{
	struct kh_bday *b;

	spin_lock_bh(&kn->bday_lock);
	b = slot_of(kn, i);
	RCU_INIT_POINTER(kn->bdays[i], NULL);
	b->dead = true;
	if (b->bound)
		WRITE_ONCE(kn->nr_binds, kn->nr_binds - 1);
	spin_unlock_bh(&kn->bday_lock);
	return b;
}

static void destroy(struct kh_bday *b)
{
	if (!b)
		return;
	cancel_delayed_work_sync(&b->work);
	close_socks(b, true);
	kfree(b->socks);
	/* The hooks and the sockets' receive may still look at it. */
	kfree_rcu(b, rcu);
}

int kh_bday_start(struct kh_net *kn, const struct kh_bday_ask *ask)
{
	struct kh_bday *b, *old = NULL, *gone = NULL;
	int i, slot = -1, ret = 0;

	if (ask->target.addr.sa_family == AF_INET6 && !kn->sock6)
		return -EAFNOSUPPORT;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->kn = kn;
	INIT_DELAYED_WORK(&b->work, bday_work);
	memcpy(b->self, ask->self, KH_KEY_LEN);
	memcpy(b->peer, ask->peer, KH_KEY_LEN);
	get_random_bytes(b->nonce, sizeof(b->nonce));
	b->target = ask->target;
	if (b->target.addr.sa_family == AF_INET6)
		b->target.addr6.sin6_scope_id = 0;
	b->lport = ask->lport;
	b->mode = ask->mode;
	b->state = KH_BDAY_RUNNING;
	b->ttl = ask->ttl;
	b->count = ask->count ?: (ask->mode == KH_BDAY_SPRAY ?
				  BDAY_DEFAULT_PORTS : BDAY_DEFAULT_PROBES);
	b->rate = ask->rate ?: BDAY_DEFAULT_RATE;
	b->time_ms = ask->time_ms ?: BDAY_DEFAULT_TIME_MS;
	if (b->mode == KH_BDAY_SPRAY) {
		b->socks = kcalloc(b->count, sizeof(*b->socks), GFP_KERNEL);
		if (!b->socks) {
			kfree(b);
			return -ENOMEM;
		}
	}

	mutex_lock(&kn->bday_mutex);
	for (i = 0; i < KH_MAX_BDAYS; i++) {
		struct kh_bday *c = slot_of(kn, i);

		if (c && c->lport == b->lport &&
		    !memcmp(c->peer, b->peer, KH_KEY_LEN)) {
			old = unlink_slot(kn, i);
			slot = i;
			break;
		}
	}
	for (i = 0; i < KH_MAX_BDAYS && slot < 0; i++)
		if (!slot_of(kn, i))
			slot = i;
	/* Full: a session that ran out gives way. */
	for (i = 0; i < KH_MAX_BDAYS && slot < 0; i++)
		if (READ_ONCE(slot_of(kn, i)->state) == KH_BDAY_FAILED) {
			gone = unlink_slot(kn, i);
			slot = i;
		}
	if (slot < 0) {
		ret = -ENOSPC;
	} else {
		b->started = jiffies;
		spin_lock_bh(&kn->bday_lock);
		rcu_assign_pointer(kn->bdays[slot], b);
		spin_unlock_bh(&kn->bday_lock);
		queue_delayed_work(system_wq, &b->work, 0);
	}
	mutex_unlock(&kn->bday_mutex);
	destroy(old);
	destroy(gone);
	if (ret) {
		kfree(b->socks);
		kfree(b);
	}
	return ret;
}

/*
 * End @peer's session on @lport: on every port if @lport is 0, every peer's
 * if @peer is NULL.
 */
static int end(struct kh_net *kn, __be16 lport, const u8 *peer)
{
	struct kh_bday *gone[KH_MAX_BDAYS] = {};
	int i, n = 0;

	mutex_lock(&kn->bday_mutex);
	for (i = 0; i < KH_MAX_BDAYS; i++) {
		struct kh_bday *c = slot_of(kn, i);

		if (c && (!lport || c->lport == lport) &&
		    (!peer || !memcmp(c->peer, peer, KH_KEY_LEN)))
			gone[n++] = unlink_slot(kn, i);
	}
	mutex_unlock(&kn->bday_mutex);
	for (i = 0; i < n; i++)
		destroy(gone[i]);
	return n ? 0 : -ENOENT;
}

int kh_bday_end(struct kh_net *kn, __be16 lport, const u8 *peer)
{
	return end(kn, lport, peer);
}

void kh_bday_flush(struct kh_net *kn, __be16 lport)
{
	end(kn, lport, NULL);
}

/* Rewrite one port of the UDP header at @uoff. */
static bool rewrite(struct kh_net *kn, struct sk_buff *skb, unsigned int uoff,
		    u8 pf, bool source, __be16 to)
{
	struct udphdr *uh;
	__be16 *p;

	if (skb_ensure_writable(skb, uoff + sizeof(*uh)))
		return false;
	uh = (struct udphdr *)(skb->data + uoff);
	p = source ? &uh->source : &uh->dest;
	/* An IPv4 datagram may go without a checksum. */
	if (uh->check || pf == NFPROTO_IPV6) {
		inet_proto_csum_replace2(&uh->check, skb, *p, to, false);
		if (!uh->check)
			uh->check = CSUM_MANGLED_0;
	}
	*p = to;
	kh_stat_inc(kn, KH_STAT_BDAY_REWRITTEN);
	return true;
}

/*
 * The other port of a found spray's pair with the far end of @skb (header
 * @uh): for a datagram leaving the watched port (@out), the socket's port;
 * for one arriving at the socket's port, the watched port.  0: none.  From
 * the hooks, under RCU and without the lock: a session's target and lport
 * never change, its bound port is set once, and it is freed a grace period
 * after it left its slot.  A packet that races a session's end may still be
 * rewritten, as one that races its start may not be.  The far end is only
 * built once a port matches.
 */
static __be16 pair_port(struct kh_net *kn, bool out, const struct sk_buff *skb,
			const struct udphdr *uh)
{
	__be16 port = out ? uh->source : uh->dest;
	struct kh_endpoint peer;
	bool have_peer = false;
	int i;

	for (i = 0; i < KH_MAX_BDAYS; i++) {
		const struct kh_bday *b = rcu_dereference(kn->bdays[i]);
		__be16 bound;

		if (!b)
			continue;
		bound = READ_ONCE(b->bound);
		if (!bound || (out ? b->lport : bound) != port)
			continue;
		if (!have_peer) {
			kh_skb_endpoint(skb, uh, !out, &peer);
			have_peer = true;
		}
		if (kh_endpoint_eq(&b->target, &peer))
			return out ? bound : b->lport;
	}
	return 0;
}

/* Leaving a watched port: true if rewritten to leave from the pair's port. */
bool kh_bday_out(struct kh_net *kn, struct sk_buff *skb, unsigned int uoff,
		 u8 pf, const struct udphdr *uh)
{
	__be16 port = pair_port(kn, true, skb, uh);

	return port && rewrite(kn, skb, uoff, pf, true, port);
}

/* Arriving: true if rewritten to arrive at the watched port. */
bool kh_bday_in(struct kh_net *kn, struct sk_buff *skb, unsigned int uoff,
		u8 pf, const struct udphdr *uh)
{
	__be16 port = pair_port(kn, false, skb, uh);

	return port && rewrite(kn, skb, uoff, pf, false, port);
}

static int put_bday(struct sk_buff *skb, const struct kh_bday *b)
{
	unsigned long now = jiffies;

	if (nla_put_u16(skb, KH_A_PORT, ntohs(b->lport)) ||
	    nla_put(skb, KH_A_PEER, KH_KEY_LEN, b->peer) ||
	    kh_netlink_put_endpoint(skb, KH_A_ENDPOINT, &b->target) ||
	    nla_put_u8(skb, KH_A_BDAY_MODE, b->mode) ||
	    nla_put_u8(skb, KH_A_BDAY_STATE, b->state) ||
	    nla_put_u32(skb, KH_A_BDAY_COUNT, b->count) ||
	    nla_put_u32(skb, KH_A_BDAY_RATE, b->rate) ||
	    nla_put_u32(skb, KH_A_BDAY_TIME_MS, b->time_ms) ||
	    nla_put_u32(skb, KH_A_BDAY_PORTS, b->ports) ||
	    nla_put_u32(skb, KH_A_BDAY_PROBES, b->probes) ||
	    nla_put_u32(skb, KH_A_AGE_MS,
			jiffies_to_msecs(now - b->started)))
		return -EMSGSIZE;
	if (b->state != KH_BDAY_FOUND)
		return 0;
	if (kh_netlink_put_endpoint(skb, KH_A_BDAY_FOUND, &b->found) ||
	    nla_put_u32(skb, KH_A_BDAY_TOOK_MS,
			jiffies_to_msecs(b->took - b->started)) ||
	    (b->bound &&
	     nla_put_u16(skb, KH_A_BDAY_LOCAL_PORT, ntohs(b->bound))))
		return -EMSGSIZE;
	return 0;
}

int kh_bday_dump(struct kh_net *kn, struct sk_buff *skb,
		 struct netlink_callback *cb)
{
	int i;

	mutex_lock(&kn->bday_mutex);
	for (i = cb->args[0]; i < KH_MAX_BDAYS; i++) {
		struct kh_bday snap, *b;
		void *hdr;

		spin_lock_bh(&kn->bday_lock);
		b = slot_of(kn, i);
		if (b)
			snap = *b;
		spin_unlock_bh(&kn->bday_lock);
		if (!b)
			continue;
		hdr = kh_netlink_dump_hdr(skb, cb, KH_CMD_GET_BIRTHDAYS);
		if (!hdr)
			break;
		if (put_bday(skb, &snap)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&kn->bday_mutex);
	cb->args[0] = i;
	return skb->len;
}

void kh_bday_exit(struct kh_net *kn)
{
	end(kn, 0, NULL);
	mutex_destroy(&kn->bday_mutex);
}
