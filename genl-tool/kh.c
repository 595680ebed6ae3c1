// SPDX-License-Identifier: GPL-2.0
/* Requests to the kh_reflect family, and parsers for what it sends back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "kh.h"
#include "util.h"

static struct nla_policy kh_policy[KH_A_MAX + 1] = {
	[KH_A_VERSION]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_PORT]	 = { .type = NLA_U16, .maxlen = 2 },
	[KH_A_IFINDEX]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_IFNAME]	 = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
	[KH_A_WATCH]	 = { .type = NLA_NESTED },
	[KH_A_STATS]	 = { .type = NLA_NESTED },
	[KH_A_REFLECTOR] = { .minlen = sizeof(struct sockaddr_in),
			     .maxlen = sizeof(struct sockaddr_in6) },
	[KH_A_ENDPOINT]	 = { .minlen = sizeof(struct sockaddr_in),
			     .maxlen = sizeof(struct sockaddr_in6) },
	[KH_A_NONCE]	 = { .minlen = KH_NONCE_LEN, .maxlen = KH_NONCE_LEN },
	[KH_A_RTT_US]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_AGE_MS]	 = { .type = NLA_U32, .maxlen = 4 },
};

static struct nla_policy watch_policy[KH_WATCH_A_MAX + 1] = {
	[KH_WATCH_A_PORT]    = { .type = NLA_U16, .maxlen = 2 },
	[KH_WATCH_A_IFINDEX] = { .type = NLA_U32, .maxlen = 4 },
	[KH_WATCH_A_IFNAME]  = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
};

static const char *const stat_names[] = {
	[KH_STAT_RX_REQUESTS]		= "rx_requests",
	[KH_STAT_TX_ANSWERS]		= "tx_answers",
	[KH_STAT_TX_PROBES]		= "tx_probes",
	[KH_STAT_RX_ANSWERS]		= "rx_answers",
	[KH_STAT_DROP_MALFORMED]	= "drop_malformed",
	[KH_STAT_DROP_UNKNOWN_TYPE]	= "drop_unknown_type",
	[KH_STAT_DROP_UNMATCHED]	= "drop_unmatched",
	[KH_STAT_DROP_AMPLIFY]		= "drop_amplify",
	[KH_STAT_DROP_CSUM]		= "drop_csum",
	[KH_STAT_TX_ERRORS]		= "tx_errors",
	[KH_STAT_DROP_AUTH]		= "drop_auth",
	[KH_STAT_TX_UPDATES]		= "tx_updates",
	[KH_STAT_RX_UPDATES]		= "rx_updates",
	[KH_STAT_RECORDS_REFUSED]	= "records_refused",
	[KH_STAT_RECORDS_EXPIRED]	= "records_expired",
};

/* NULL for counters newer than this khctl. */
const char *kh_stat_name(unsigned int id)
{
	if (id >= ARRAY_SIZE(stat_names))
		return NULL;
	return stat_names[id];
}

/* Opens the socket and finds kh_reflect, or says why not. */
int kh_open(struct khnl *nl)
{
	int ret;

	ret = khnl_open(nl);
	if (ret) {
		kh_err("cannot open a generic netlink socket: %s",
		       strerror(-ret));
		return ret;
	}
	ret = khnl_resolve(nl, KH_GENL_NAME);
	if (ret < 0) {
		if (ret == -ENOENT)
			kh_err("kh_reflect is not loaded: modprobe kh_reflect (or insmod kh_reflect.ko)");
		else
			khnl_perror(nl, ret, "looking up %s", KH_GENL_NAME);
		khnl_close(nl);
		return ret;
	}
	nl->kh_family = ret;
	return 0;
}

static struct nl_msg *kh_msg(struct khnl *nl, uint8_t cmd, int flags)
{
	return khnl_msg(nl->kh_family, cmd, KH_GENL_VERSION, flags);
}

uint8_t kh_msg_cmd(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (!genlmsg_valid_hdr(nlh, 0))
		return KH_CMD_UNSPEC;
	return genlmsg_hdr(nlh)->cmd;
}

static int parse_watch(struct kh_status *st, struct nlattr *nest)
{
	struct nlattr *tb[KH_WATCH_A_MAX + 1];
	struct kh_watch *w;

	if (nla_parse_nested(tb, KH_WATCH_A_MAX, nest, watch_policy) < 0 ||
	    !tb[KH_WATCH_A_PORT])
		return -EBADMSG;
	w = reallocarray(st->watches, st->n_watches + 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	st->watches = w;
	w = &st->watches[st->n_watches++];
	memset(w, 0, sizeof(*w));
	w->port = nla_get_u16(tb[KH_WATCH_A_PORT]);
	if (tb[KH_WATCH_A_IFINDEX])
		w->ifindex = nla_get_u32(tb[KH_WATCH_A_IFINDEX]);
	if (tb[KH_WATCH_A_IFNAME])
		nla_strlcpy(w->ifname, tb[KH_WATCH_A_IFNAME],
			    sizeof(w->ifname));
	return 0;
}

static int parse_stats(struct kh_status *st, struct nlattr *nest)
{
	struct kh_counter *c;
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		int id = nla_type(a);

		if (id == KH_STAT_UNSPEC || id == KH_STAT_PAD)
			continue;
		if (nla_len(a) != sizeof(uint64_t))
			return -EBADMSG;
		c = reallocarray(st->counters, st->n_counters + 1,
				 sizeof(*c));
		if (!c)
			return -ENOMEM;
		st->counters = c;
		c = &st->counters[st->n_counters++];
		c->id = (uint16_t)id;
		c->value = nla_get_u64(a);
	}
	return 0;
}

int kh_parse_status(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[KH_A_MAX + 1], *a;
	struct kh_status *st = arg;
	int rem, ret;

	/* validates every attribute, repeated ones included */
	if (genlmsg_parse(nlh, 0, tb, KH_A_MAX, kh_policy) < 0)
		return -EBADMSG;
	if (tb[KH_A_VERSION])
		st->version = nla_get_u32(tb[KH_A_VERSION]);
	/* KH_A_WATCH repeats, and the parse above kept only the last */
	nla_for_each_attr(a, genlmsg_attrdata(genlmsg_hdr(nlh), 0),
			  genlmsg_attrlen(genlmsg_hdr(nlh), 0), rem) {
		if (nla_type(a) != KH_A_WATCH)
			continue;
		ret = parse_watch(st, a);
		if (ret)
			return ret;
	}
	if (tb[KH_A_STATS])
		return parse_stats(st, tb[KH_A_STATS]);
	return 0;
}

void kh_status_free(struct kh_status *st)
{
	free(st->watches);
	free(st->counters);
	memset(st, 0, sizeof(*st));
}

int kh_get_status(struct khnl *nl, struct kh_status *st)
{
	struct nl_msg *msg;
	int ret;

	memset(st, 0, sizeof(*st));
	msg = kh_msg(nl, KH_CMD_GET_STATUS, 0);
	if (!msg)
		return -ENOMEM;
	ret = khnl_request(nl, msg, kh_parse_status, st);
	if (ret)
		kh_status_free(st);
	return ret;
}

int kh_watch(struct khnl *nl, uint16_t port, uint32_t ifindex,
	     const char *ifname)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_WATCH, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put_u32(msg, KH_A_IFINDEX, ifindex) < 0 ||
	    (ifname && *ifname && nla_put_string(msg, KH_A_IFNAME, ifname) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

int kh_unwatch(struct khnl *nl, uint16_t port)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_UNWATCH, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

struct probe_reply {
	uint8_t *nonce;
	bool seen;
};

static int parse_probe_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[KH_A_MAX + 1];
	struct probe_reply *pr = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, kh_policy) < 0 ||
	    !tb[KH_A_NONCE])
		return -EBADMSG;
	memcpy(pr->nonce, nla_data(tb[KH_A_NONCE]), KH_NONCE_LEN);
	pr->seen = true;
	return 0;
}

int kh_probe(struct khnl *nl, uint16_t port,
	     const struct sockaddr_storage *reflector,
	     uint8_t nonce[KH_NONCE_LEN])
{
	struct probe_reply pr = { .nonce = nonce };
	struct nl_msg *msg;
	int ret;

	msg = kh_msg(nl, KH_CMD_PROBE, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put(msg, KH_A_REFLECTOR, (int)sockaddr_len(reflector),
		    reflector) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = khnl_request(nl, msg, parse_probe_reply, &pr);
	if (!ret && !pr.seen)
		ret = -EBADMSG;
	return ret;
}

/* For events and dump entries alike; checks every address it copies. */
int kh_parse_reflection(struct nl_msg *msg, struct kh_reflection *r)
{
	struct nlattr *tb[KH_A_MAX + 1];

	memset(r, 0, sizeof(*r));
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, kh_policy) < 0 ||
	    !tb[KH_A_PORT] || !tb[KH_A_REFLECTOR] || !tb[KH_A_ENDPOINT])
		return -EBADMSG;
	if (sockaddr_from_bytes(nla_data(tb[KH_A_REFLECTOR]),
				nla_len(tb[KH_A_REFLECTOR]), &r->reflector) ||
	    sockaddr_from_bytes(nla_data(tb[KH_A_ENDPOINT]),
				nla_len(tb[KH_A_ENDPOINT]), &r->endpoint))
		return -EBADMSG;
	r->port = nla_get_u16(tb[KH_A_PORT]);
	if (tb[KH_A_NONCE]) {
		memcpy(r->nonce, nla_data(tb[KH_A_NONCE]), KH_NONCE_LEN);
		r->has_nonce = true;
	}
	if (tb[KH_A_RTT_US]) {
		r->rtt_us = nla_get_u32(tb[KH_A_RTT_US]);
		r->has_rtt = true;
	}
	if (tb[KH_A_AGE_MS]) {
		r->age_ms = nla_get_u32(tb[KH_A_AGE_MS]);
		r->has_age = true;
	}
	return 0;
}

struct reflections {
	int (*fn)(const struct kh_reflection *r, void *arg);
	void *arg;
	unsigned int bad;
};

static int parse_dump_entry(struct nl_msg *msg, void *arg)
{
	struct reflections *d = arg;
	struct kh_reflection r;

	/* one bad entry should not hide the others */
	if (kh_parse_reflection(msg, &r)) {
		d->bad++;
		return 0;
	}
	return d->fn(&r, d->arg);
}

/* Calls fn for every stored result; -EBADMSG at the end if some were bad. */
int kh_dump_reflections(struct khnl *nl,
			int (*fn)(const struct kh_reflection *r, void *arg),
			void *arg)
{
	struct reflections d = { .fn = fn, .arg = arg };
	struct nl_msg *msg;
	int ret;

	msg = kh_msg(nl, KH_CMD_GET_REFLECTIONS, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	ret = khnl_request(nl, msg, parse_dump_entry, &d);
	if (!ret && d.bad)
		ret = -EBADMSG;
	return ret;
}

int kh_events_open(struct khnl *nl, struct nl_sock **out)
{
	return khnl_events_open(nl, KH_GENL_NAME, KH_MCGRP_EVENTS, out);
}
