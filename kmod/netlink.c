// SPDX-License-Identifier: GPL-2.0
/*
 * The generic-netlink family: configuration, probes, results and events.
 * Every command needs CAP_NET_ADMIN in the namespace's user namespace, reads
 * included: what the module knows about endpoints is sensitive.  The ops and
 * their policies are generated from the family's spec (netlink-gen.c).
 */
#include <linux/if.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include "kh.h"
#include "netlink-gen.h"

static struct genl_family kh_family;

/*
 * Events go out only while this is set, and under rcu_read_lock().  rmmod
 * unregisters the family before the namespaces go, as no command may find
 * their state freed, so their hooks and work can still have something to
 * announce: kh_netlink_exit() clears it and waits out, by RCU, whoever saw
 * it set, before the family (its id and groups) goes.
 */
static bool kh_events_open __read_mostly;

/* A struct sockaddr_in or sockaddr_in6, unicast, with a port. */
static int validate_sockaddr(const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	const void *data = nla_data(attr);
	int len = nla_len(attr);

	if (len == sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = data;
		__be32 a = sin->sin_addr.s_addr;

		if (sin->sin_family != AF_INET)
			goto bad;
		if (!sin->sin_port || ipv4_is_zeronet(a) ||
		    ipv4_is_multicast(a) || ipv4_is_lbcast(a)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "address must be unicast with a port");
			return -EINVAL;
		}
		return 0;
	}
	if (len == sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = data;

		if (sin6->sin6_family != AF_INET6)
			goto bad;
		if (!sin6->sin6_port || ipv6_addr_any(&sin6->sin6_addr) ||
		    ipv6_addr_is_multicast(&sin6->sin6_addr)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "address must be unicast with a port");
			return -EINVAL;
		}
		return 0;
	}
bad:
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "expected a struct sockaddr_in or sockaddr_in6");
	return -EINVAL;
}

/*
 * An endpoint or reflector, checked before anything else as a policy would
 * (ynl-gen-c has no validation function to call): false if it is absent or
 * good, else true with the extack set.
 */
static bool bad_sockaddr(struct genl_info *info, int attr)
{
	return info->attrs[attr] &&
	       validate_sockaddr(info->attrs[attr], info->extack);
}

int kh_netlink_put_endpoint(struct sk_buff *skb, int attr,
			    const struct kh_endpoint *ep)
{
	if (ep->addr.sa_family == AF_INET)
		return nla_put(skb, attr, sizeof(ep->addr4), &ep->addr4);
	return nla_put(skb, attr, sizeof(ep->addr6), &ep->addr6);
}

/* A missing attribute: which one (for tools) and a word for people. */
static bool required(struct genl_info *info, int attr)
{
	if (!GENL_REQ_ATTR_CHECK(info, attr))
		return false;
	NL_SET_ERR_MSG(info->extack, "an attribute this command needs is missing");
	return true;
}

static int put_watches(struct sk_buff *skb, struct kh_net *kn)
{
	int i, ret = 0;

	mutex_lock(&kn->lock);
	for (i = 0; i < KH_MAX_WATCHES && !ret; i++) {
		const struct kh_watch *w = &kn->watches[i];
		struct nlattr *nest;

		if (!w->port)
			continue;
		nest = nla_nest_start(skb, KH_A_WATCH);
		if (!nest ||
		    nla_put_u16(skb, KH_WATCH_A_PORT, ntohs(w->port)) ||
		    nla_put_u32(skb, KH_WATCH_A_IFINDEX, w->ifindex) ||
		    nla_put_string(skb, KH_WATCH_A_IFNAME, w->ifname) ||
		    nla_put_u8(skb, KH_WATCH_A_HAS_KEY,
			       !!rcu_access_pointer(kn->keys[i])) ||
		    nla_put_u8(skb, KH_WATCH_A_NAT, READ_ONCE(kn->nat[i])) ||
		    nla_put_u32(skb, KH_WATCH_A_FWMARK, READ_ONCE(kn->marks[i])))
			ret = -EMSGSIZE;
		else
			nla_nest_end(skb, nest);
	}
	mutex_unlock(&kn->lock);
	return ret;
}

static int put_stats(struct sk_buff *skb, struct kh_net *kn)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(skb, KH_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = KH_STAT_PAD + 1; i <= KH_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, kh_stat_read(kn, i), KH_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

int kh_reflect_nl_get_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	unsigned int count, max, ttl_s;
	u32 rate, burst, total;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	kh_records_limits(kn, &count, &max, &ttl_s);
	kh_ratelimit_get(kn, &rate, &burst, &total);
	hdr = genlmsg_put_reply(msg, info, &kh_family, 0, KH_CMD_GET_STATUS);
	if (!hdr ||
	    nla_put_u32(msg, KH_A_VERSION, KH_GENL_VERSION) ||
	    nla_put_u32(msg, KH_A_RECORDS, count) ||
	    nla_put_u32(msg, KH_A_MAX_RECORDS, max) ||
	    nla_put_u32(msg, KH_A_RECORD_TTL, ttl_s) ||
	    nla_put_u32(msg, KH_A_RL_RATE, rate) ||
	    nla_put_u32(msg, KH_A_RL_BURST, burst) ||
	    nla_put_u32(msg, KH_A_RL_TOTAL, total) ||
	    nla_put_u32(msg, KH_A_RELAY_RATE, kh_relay_rate(kn)) ||
	    put_watches(msg, kn) || put_stats(msg, kn)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int kh_reflect_nl_watch_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	const char *ifname = "";
	u32 fwmark = 0;
	int ret;

	if (required(info, KH_A_PORT) ||
	    required(info, KH_A_IFINDEX))
		return -EINVAL;
	if (info->attrs[KH_A_IFNAME])
		ifname = nla_data(info->attrs[KH_A_IFNAME]);
	if (info->attrs[KH_A_FWMARK])
		fwmark = nla_get_u32(info->attrs[KH_A_FWMARK]);
	ret = kh_hook_watch(kn, htons(nla_get_u16(info->attrs[KH_A_PORT])),
			    nla_get_u32(info->attrs[KH_A_IFINDEX]), ifname,
			    fwmark);
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack,
			       "every watch slot of this namespace is in use");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "could not register the hooks");
	return ret;
}

int kh_reflect_nl_unwatch_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	int ret;

	if (required(info, KH_A_PORT))
		return -EINVAL;
	ret = kh_hook_unwatch(kn, htons(nla_get_u16(info->attrs[KH_A_PORT])));
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PORT],
				    "port is not watched");
	return ret;
}

int kh_reflect_nl_probe_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	u8 wants[KH_MAX_WANT * KH_KEY_LEN];
	struct kh_endpoint reflector = {};
	struct kh_probe_ask ask = { .wants = wants };
	u8 nonce[KH_NONCE_LEN];
	struct nlattr *attr;
	struct sk_buff *msg;
	__be16 port;
	void *hdr;
	int ret, rem;

	if (bad_sockaddr(info, KH_A_REFLECTOR) ||
	    required(info, KH_A_PORT) || required(info, KH_A_REFLECTOR))
		return -EINVAL;
	port = htons(nla_get_u16(info->attrs[KH_A_PORT]));
	if (!kh_hook_is_watched(kn, port)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PORT],
				    "port is not watched: the answer would go unseen");
		return -ENOENT;
	}
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != KH_A_WANT)
			continue;
		if (ask.nr_wants == KH_MAX_WANT) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "too many wanted keys in one probe");
			return -E2BIG;
		}
		memcpy(wants + ask.nr_wants++ * KH_KEY_LEN, nla_data(attr),
		       KH_KEY_LEN);
	}
	if (info->attrs[KH_A_PUBKEY])
		ask.pubkey = nla_data(info->attrs[KH_A_PUBKEY]);
	if (info->attrs[KH_A_RELAY])
		ask.relay = nla_data(info->attrs[KH_A_RELAY]);
	if (info->attrs[KH_A_RELAY_END])
		ask.relay_end = nla_data(info->attrs[KH_A_RELAY_END]);
	ask.alt = nla_get_flag(info->attrs[KH_A_ALT_PORT]);
	if (info->attrs[KH_A_NAT])
		kh_hook_set_nat(kn, port, nla_get_u8(info->attrs[KH_A_NAT]));
	if ((ask.nr_wants || ask.relay || ask.relay_end) && !ask.pubkey) {
		NL_SET_ERR_MSG(info->extack,
			       "wanted keys and relays need KH_A_PUBKEY");
		return -EINVAL;
	}
	attr = info->attrs[KH_A_REFLECTOR];
	memcpy(&reflector, nla_data(attr), nla_len(attr));

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = kh_reflect_probe(kn, port, &reflector, &ask, nonce);
	if (ret) {
		nlmsg_free(msg);
		if (ret == -ENOKEY)
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PORT],
					    "no mesh key on this port: records, relays and answers from another port need one");
		else
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "could not send the probe: no route?");
		return ret;
	}
	hdr = genlmsg_put_reply(msg, info, &kh_family, 0, KH_CMD_PROBE);
	if (!hdr || nla_put(msg, KH_A_NONCE, KH_NONCE_LEN, nonce)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int put_reflection(struct sk_buff *skb, const struct kh_reflection *r,
			  u64 now)
{
	u64 age_ms = div_u64(now - r->received_ns, NSEC_PER_MSEC);

	if (nla_put_u16(skb, KH_A_PORT, ntohs(r->lport)) ||
	    kh_netlink_put_endpoint(skb, KH_A_REFLECTOR, &r->reflector) ||
	    kh_netlink_put_endpoint(skb, KH_A_ENDPOINT, &r->endpoint) ||
	    nla_put_u32(skb, KH_A_RTT_US, r->rtt_us) ||
	    nla_put_u32(skb, KH_A_AGE_MS, min_t(u64, age_ms, U32_MAX)))
		return -EMSGSIZE;
	return 0;
}

int kh_reflect_nl_get_reflections_dumpit(struct sk_buff *skb,
					 struct netlink_callback *cb)
{
	struct kh_net *kn = kh_net(sock_net(skb->sk));
	u64 now = ktime_get_ns();
	unsigned long i;

	for (i = cb->args[0]; i < KH_MAX_REFLECTIONS; i++) {
		struct kh_reflection r;
		void *hdr;

		spin_lock_bh(&kn->probe_lock);
		r = kn->reflections[i];
		spin_unlock_bh(&kn->probe_lock);
		if (!r.lport)
			continue;
		hdr = kh_netlink_dump_hdr(skb, cb, KH_CMD_GET_REFLECTIONS);
		if (!hdr)
			break;
		if (put_reflection(skb, &r, now)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = i;
	return skb->len;
}

/* Under rcu_read_lock(): may an event go out, and would anyone hear it? */
static bool events_wanted(struct kh_net *kn)
{
	return READ_ONCE(kh_events_open) &&
	       genl_has_listeners(&kh_family, kn->net,
				  KH_REFLECT_NLGRP_EVENTS);
}

/* Called in softirq when an answer matched one of our probes. */
void kh_netlink_reflection_event(struct kh_net *kn,
				 const struct kh_reflection *r,
				 const u8 *nonce, bool auth, const u8 *relay)
{
	struct sk_buff *msg;
	void *hdr;

	rcu_read_lock();
	if (!events_wanted(kn))
		goto out;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		goto out;
	hdr = genlmsg_put(msg, 0, 0, &kh_family, 0, KH_CMD_REFLECTION);
	if (!hdr || put_reflection(msg, r, r->received_ns) ||
	    nla_put(msg, KH_A_NONCE, KH_NONCE_LEN, nonce) ||
	    nla_put_u8(msg, KH_A_AUTH, auth) ||
	    (relay && nla_put(msg, KH_A_RELAY, KH_KEY_LEN, relay))) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&kh_family, kn->net, msg, 0,
				KH_REFLECT_NLGRP_EVENTS, GFP_ATOMIC);
out:
	rcu_read_unlock();
}

void *kh_netlink_dump_hdr(struct sk_buff *skb, struct netlink_callback *cb,
			  u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kh_family, NLM_F_MULTI, cmd);
	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/* The record's candidates, each a sockaddr as KH_A_ENDPOINT is. */
static int put_cands(struct sk_buff *skb, const struct kh_record *rec)
{
	unsigned int i;

	for (i = 0; i < rec->nr_cands && i < KH_MAX_CANDS; i++) {
		const struct kh_probe_addr *a = &rec->cands[i];
		struct kh_endpoint ep = {};

		if (a->family == KH_PF_OBSERVED_V4) {
			ep.addr4.sin_family = AF_INET;
			memcpy(&ep.addr4.sin_addr, a->addr, 4);
			ep.addr4.sin_port = htons(a->port);
		} else {
			ep.addr6.sin6_family = AF_INET6;
			memcpy(&ep.addr6.sin6_addr, a->addr, 16);
			ep.addr6.sin6_port = htons(a->port);
		}
		if (kh_netlink_put_endpoint(skb, KH_A_CANDIDATE, &ep))
			return -EMSGSIZE;
	}
	return 0;
}

int kh_netlink_put_record(struct sk_buff *skb, const struct kh_record *rec)
{
	unsigned long now = jiffies;
	u32 age = jiffies_to_msecs(now - rec->confirmed);
	u32 left = time_after(rec->expires, now) ?
		   jiffies_to_msecs(rec->expires - now) : 0;

	if (nla_put(skb, KH_A_PUBKEY, KH_KEY_LEN, rec->key) ||
	    kh_netlink_put_endpoint(skb, KH_A_ENDPOINT, &rec->endpoint) ||
	    nla_put_u8(skb, KH_A_SOURCE, rec->source) ||
	    nla_put_u16(skb, KH_A_PORT, ntohs(rec->lport)) ||
	    (rec->reflector.addr.sa_family &&
	     kh_netlink_put_endpoint(skb, KH_A_REFLECTOR, &rec->reflector)) ||
	    nla_put_u32(skb, KH_A_AGE_MS, age) ||
	    nla_put_u32(skb, KH_A_EXPIRES_MS, left) ||
	    nla_put_u32(skb, KH_A_RECORD_FLAGS, rec->flags))
		return -EMSGSIZE;
	return put_cands(skb, rec);
}

/* From any context, with no lock held. */
void kh_netlink_peer_event(struct kh_net *kn, enum kh_event event,
			   const struct kh_record *rec)
{
	struct sk_buff *msg;
	void *hdr;

	rcu_read_lock();
	if (!events_wanted(kn))
		goto out;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		goto out;
	hdr = genlmsg_put(msg, 0, 0, &kh_family, 0, KH_CMD_PEER_EVENT);
	if (!hdr || nla_put_u8(msg, KH_A_EVENT, event) ||
	    kh_netlink_put_record(msg, rec)) {
		nlmsg_free(msg);
		goto out;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&kh_family, kn->net, msg, 0,
				KH_REFLECT_NLGRP_EVENTS, GFP_ATOMIC);
out:
	rcu_read_unlock();
}

int kh_reflect_nl_start_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	struct kh_endpoint to = {};
	struct nlattr *attr;
	__be16 port;
	int ret;

	if (bad_sockaddr(info, KH_A_ENDPOINT) ||
	    required(info, KH_A_PORT) || required(info, KH_A_ENDPOINT) ||
	    required(info, KH_A_START_TTL) ||
	    required(info, KH_A_START_HOLD_MS))
		return -EINVAL;
	port = htons(nla_get_u16(info->attrs[KH_A_PORT]));
	if (!kh_hook_is_watched(kn, port)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PORT],
				    "port is not watched: its packets are not seen");
		return -ENOENT;
	}
	attr = info->attrs[KH_A_ENDPOINT];
	memcpy(&to, nla_data(attr), nla_len(attr));
	ret = kh_start_add(kn, port, &to,
			   nla_get_u8(info->attrs[KH_A_START_TTL]),
			   nla_get_u32(info->attrs[KH_A_START_HOLD_MS]));
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack, "too many safe starts held at once");
	return ret;
}

/* 0 for an absent attribute: "leave it as it is" to the setters. */
static u32 attr_u32_or_0(const struct nlattr *attr)
{
	return attr ? nla_get_u32(attr) : 0;
}

int kh_reflect_nl_birthday_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct kh_bday_ask ask = {};
	struct nlattr *attr;
	int ret;

	if (bad_sockaddr(info, KH_A_ENDPOINT) ||
	    required(info, KH_A_PORT) || required(info, KH_A_PUBKEY) ||
	    required(info, KH_A_PEER) || required(info, KH_A_ENDPOINT) ||
	    required(info, KH_A_BDAY_MODE))
		return -EINVAL;
	ask.lport = htons(nla_get_u16(a[KH_A_PORT]));
	if (!kh_hook_has_key(kn, ask.lport)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[KH_A_PORT],
				    "port is not watched or has no mesh key");
		return -ENOKEY;
	}
	ask.self = nla_data(a[KH_A_PUBKEY]);
	ask.peer = nla_data(a[KH_A_PEER]);
	attr = a[KH_A_ENDPOINT];
	memcpy(&ask.target, nla_data(attr), nla_len(attr));
	ask.mode = nla_get_u8(a[KH_A_BDAY_MODE]);
	ask.count = attr_u32_or_0(a[KH_A_BDAY_COUNT]);
	if (ask.mode == KH_BDAY_SPRAY && ask.count > KH_BDAY_MAX_PORTS) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[KH_A_BDAY_COUNT],
				    "a spray opens at most 1024 ports");
		return -EINVAL;
	}
	ask.rate = attr_u32_or_0(a[KH_A_BDAY_RATE]);
	ask.time_ms = attr_u32_or_0(a[KH_A_BDAY_TIME_MS]);
	if (a[KH_A_START_TTL])
		ask.ttl = nla_get_u8(a[KH_A_START_TTL]);
	ret = kh_bday_start(kn, &ask);
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack, "too many birthday sessions");
	else if (ret == -EAFNOSUPPORT)
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no IPv6 in this namespace");
	return ret;
}

int kh_reflect_nl_birthday_end_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	int ret;

	if (required(info, KH_A_PORT) || required(info, KH_A_PEER))
		return -EINVAL;
	ret = kh_bday_end(kn, htons(nla_get_u16(info->attrs[KH_A_PORT])),
			  nla_data(info->attrs[KH_A_PEER]));
	if (ret == -ENOENT)
		NL_SET_ERR_MSG(info->extack, "no birthday session for that peer on that port");
	return ret;
}

int kh_reflect_nl_get_birthdays_dumpit(struct sk_buff *skb,
				       struct netlink_callback *cb)
{
	return kh_bday_dump(kh_net(sock_net(skb->sk)), skb, cb);
}

int kh_reflect_nl_set_key_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	int ret;

	if (required(info, KH_A_PORT) ||
	    required(info, KH_A_KEY))
		return -EINVAL;
	ret = kh_records_prepare(kn);
	if (ret)
		return ret;
	ret = kh_hook_set_key(kn, htons(nla_get_u16(info->attrs[KH_A_PORT])),
			      nla_data(info->attrs[KH_A_KEY]));
	if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PORT],
				    "port is not watched");
	return ret;
}

int kh_reflect_nl_set_config_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	struct nlattr **a = info->attrs;

	if (!a[KH_A_MAX_RECORDS] && !a[KH_A_RECORD_TTL] && !a[KH_A_RL_RATE] &&
	    !a[KH_A_RL_BURST] && !a[KH_A_RL_TOTAL] && !a[KH_A_RELAY_RATE]) {
		NL_SET_ERR_MSG(info->extack, "nothing to set");
		return -EINVAL;
	}
	if (a[KH_A_RELAY_RATE])
		kh_relay_set_rate(kn, nla_get_u32(a[KH_A_RELAY_RATE]));
	kh_records_set_limits(kn, attr_u32_or_0(a[KH_A_MAX_RECORDS]),
			      attr_u32_or_0(a[KH_A_RECORD_TTL]));
	kh_ratelimit_set(kn, attr_u32_or_0(a[KH_A_RL_RATE]),
			 attr_u32_or_0(a[KH_A_RL_BURST]),
			 attr_u32_or_0(a[KH_A_RL_TOTAL]));
	return 0;
}

int kh_reflect_nl_get_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	struct kh_record rec;
	struct sk_buff *msg;
	void *hdr;

	if (required(info, KH_A_PUBKEY))
		return -EINVAL;
	if (!kh_records_get(kn, nla_data(info->attrs[KH_A_PUBKEY]), &rec)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PUBKEY],
				    "no record for this key");
		return -ENOENT;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kh_family, 0, KH_CMD_GET_PEER);
	if (!hdr || kh_netlink_put_record(msg, &rec)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int kh_reflect_nl_get_peers_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	return kh_records_dump(kh_net(sock_net(skb->sk)), skb, cb);
}

int kh_reflect_nl_set_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	struct kh_record rec = {
		.source = KH_SOURCE_PUSHED,
		.confirmed = jiffies,
	};
	struct nlattr *ep;
	int ret;

	if (bad_sockaddr(info, KH_A_ENDPOINT) ||
	    required(info, KH_A_PUBKEY) || required(info, KH_A_ENDPOINT))
		return -EINVAL;
	ep = info->attrs[KH_A_ENDPOINT];
	memcpy(rec.key, nla_data(info->attrs[KH_A_PUBKEY]), KH_KEY_LEN);
	memcpy(&rec.endpoint, nla_data(ep), nla_len(ep));
	if (rec.endpoint.addr.sa_family == AF_INET6)
		rec.endpoint.addr6.sin6_scope_id = 0;
	ret = kh_records_prepare(kn);
	if (ret)
		return ret;
	ret = kh_records_update(kn, &rec,
				attr_u32_or_0(info->attrs[KH_A_RECORD_TTL]));
	if (ret == -ENOSPC)
		NL_SET_ERR_MSG(info->extack,
			       "the record table is full (see max-records)");
	return ret;
}

int kh_reflect_nl_del_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct kh_net *kn = kh_net(genl_info_net(info));
	int ret;

	if (required(info, KH_A_PUBKEY))
		return -EINVAL;
	ret = kh_records_del(kn, nla_data(info->attrs[KH_A_PUBKEY]));
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KH_A_PUBKEY],
				    "no record for this key");
	return ret;
}

int kh_reflect_nl_flush_peers_doit(struct sk_buff *skb, struct genl_info *info)
{
	kh_records_flush(kh_net(genl_info_net(info)));
	return 0;
}

/*
 * The commands whose request lists no attribute (status, flush and the
 * dumps) have no policy of their own: this one refuses everything, as the
 * family's and as each such op's (kh_netlink_init()).  5.10 would take
 * anything without it, and 6.12 runs a split dump op without a policy
 * unchecked.
 */
static const struct nla_policy kh_reject_all[KH_A_MAX + 1] = {
	[KH_A_UNSPEC + 1 ... KH_A_MAX] = { .type = NLA_REJECT },
};

/* The generated ops, with kh_reject_all where they have no policy. */
static struct genl_split_ops kh_ops[ARRAY_SIZE(kh_reflect_nl_ops)]
	__ro_after_init;

/* Events carry endpoints: only for those who may read them. */
static const struct genl_multicast_group kh_mcgrps[] = {
	[KH_REFLECT_NLGRP_EVENTS] = {
		.name = KH_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family kh_family __ro_after_init = {
	.name = KH_GENL_NAME,
	.version = KH_GENL_VERSION,
	.maxattr = KH_A_MAX,
	.policy = kh_reject_all,
	.netnsok = true,
	.module = THIS_MODULE,
	.split_ops = kh_ops,
	.n_split_ops = ARRAY_SIZE(kh_ops),
	.mcgrps = kh_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kh_mcgrps),
};

int __init kh_netlink_init(void)
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(kh_ops); i++) {
		kh_ops[i] = kh_reflect_nl_ops[i];
		if (kh_ops[i].policy)
			continue;
		kh_ops[i].policy = kh_reject_all;
		kh_ops[i].maxattr = KH_A_MAX;
	}
	ret = genl_register_family(&kh_family);
	if (!ret)
		WRITE_ONCE(kh_events_open, true);
	return ret;
}

void __exit kh_netlink_exit(void)
{
	WRITE_ONCE(kh_events_open, false);
	synchronize_rcu();
	genl_unregister_family(&kh_family);
}
