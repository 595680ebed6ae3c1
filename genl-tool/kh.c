// SPDX-License-Identifier: GPL-2.0
/* Requests to the kh_reflect family, and parsers for what it sends back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

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
	[KH_A_AUTH]	 = { .type = NLA_U8, .maxlen = 1 },
	[KH_A_KEY]	 = { .minlen = KH_KEY_LEN, .maxlen = KH_KEY_LEN },
	[KH_A_PUBKEY]	 = { .minlen = KH_KEY_LEN, .maxlen = KH_KEY_LEN },
	[KH_A_WANT]	 = { .minlen = KH_KEY_LEN, .maxlen = KH_KEY_LEN },
	[KH_A_SOURCE]	 = { .type = NLA_U8, .maxlen = 1 },
	[KH_A_EXPIRES_MS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RECORD_FLAGS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RECORD_TTL] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_MAX_RECORDS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RECORDS]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_EVENT]	 = { .type = NLA_U8, .maxlen = 1 },
	[KH_A_RL_RATE]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RL_BURST]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RL_TOTAL]	 = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RELAY_RATE] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_RELAY]	 = { .minlen = KH_KEY_LEN, .maxlen = KH_KEY_LEN },
	[KH_A_PEER]	 = { .minlen = KH_KEY_LEN, .maxlen = KH_KEY_LEN },
	[KH_A_BDAY_MODE] = { .type = NLA_U8, .maxlen = 1 },
	[KH_A_BDAY_STATE] = { .type = NLA_U8, .maxlen = 1 },
	[KH_A_BDAY_COUNT] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_BDAY_RATE] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_BDAY_TIME_MS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_BDAY_PORTS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_BDAY_PROBES] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_BDAY_FOUND] = { .minlen = sizeof(struct sockaddr_in),
			      .maxlen = sizeof(struct sockaddr_in6) },
	[KH_A_BDAY_LOCAL_PORT] = { .type = NLA_U16, .maxlen = 2 },
	[KH_A_BDAY_TOOK_MS] = { .type = NLA_U32, .maxlen = 4 },
	[KH_A_CANDIDATE] = { .minlen = sizeof(struct sockaddr_in),
			     .maxlen = sizeof(struct sockaddr_in6) },
};

/* A dump that raced a change of the table is read again, this often. */
#define DUMP_TRIES	6
/* The receive buffer for dumps: fewer round trips for a big table. */
#define DUMP_RCVBUF	(4 << 20)

static struct nla_policy watch_policy[KH_WATCH_A_MAX + 1] = {
	[KH_WATCH_A_PORT]    = { .type = NLA_U16, .maxlen = 2 },
	[KH_WATCH_A_IFINDEX] = { .type = NLA_U32, .maxlen = 4 },
	[KH_WATCH_A_IFNAME]  = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
	[KH_WATCH_A_HAS_KEY] = { .type = NLA_U8, .maxlen = 1 },
	[KH_WATCH_A_NAT] = { .type = NLA_U8, .maxlen = 1 },
	[KH_WATCH_A_FWMARK] = { .type = NLA_U32, .maxlen = 4 },
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
	[KH_STAT_DROP_RATELIMIT]	= "drop_ratelimit",
	[KH_STAT_DROP_REPLAY]		= "drop_replay",
	[KH_STAT_START_CLAMPED]		= "start_clamped",
	[KH_STAT_START_RELEASED]	= "start_released",
	[KH_STAT_RELAY_GRANTED]		= "relay_granted",
	[KH_STAT_RELAY_REFUSED]		= "relay_refused",
	[KH_STAT_RELAY_PACKETS]		= "relay_packets",
	[KH_STAT_RELAY_BYTES]		= "relay_bytes",
	[KH_STAT_RELAY_LIMITED]		= "relay_limited",
	[KH_STAT_RELAY_NO_PEER]		= "relay_no_peer",
	[KH_STAT_BDAY_PORTS]		= "bday_ports",
	[KH_STAT_BDAY_PROBES]		= "bday_probes",
	[KH_STAT_BDAY_FOUND]		= "bday_found",
	[KH_STAT_BDAY_REFUSED]		= "bday_refused",
	[KH_STAT_BDAY_REWRITTEN]	= "bday_rewritten",
	[KH_STAT_TX_RETRIES]		= "tx_retries",
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
	if (tb[KH_WATCH_A_HAS_KEY])
		w->has_key = nla_get_u8(tb[KH_WATCH_A_HAS_KEY]) != 0;
	if (tb[KH_WATCH_A_NAT])
		w->nat = nla_get_u8(tb[KH_WATCH_A_NAT]) & KH_RECORD_F_NAT;
	if (tb[KH_WATCH_A_FWMARK])
		w->fwmark = nla_get_u32(tb[KH_WATCH_A_FWMARK]);
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
	if (tb[KH_A_RECORDS] && tb[KH_A_MAX_RECORDS] && tb[KH_A_RECORD_TTL]) {
		st->records = nla_get_u32(tb[KH_A_RECORDS]);
		st->max_records = nla_get_u32(tb[KH_A_MAX_RECORDS]);
		st->record_ttl = nla_get_u32(tb[KH_A_RECORD_TTL]);
		st->has_records = true;
	}
	if (tb[KH_A_RL_RATE] && tb[KH_A_RL_BURST] && tb[KH_A_RL_TOTAL]) {
		st->rl_rate = nla_get_u32(tb[KH_A_RL_RATE]);
		st->rl_burst = nla_get_u32(tb[KH_A_RL_BURST]);
		st->rl_total = nla_get_u32(tb[KH_A_RL_TOTAL]);
		st->has_ratelimit = true;
	}
	/* 0: a module without the relay */
	if (tb[KH_A_RELAY_RATE])
		st->relay_rate = nla_get_u32(tb[KH_A_RELAY_RATE]);
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
	     const char *ifname, uint32_t fwmark)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_WATCH, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put_u32(msg, KH_A_IFINDEX, ifindex) < 0 ||
	    (fwmark && nla_put_u32(msg, KH_A_FWMARK, fwmark) < 0) ||
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
	return kh_probe_keys(nl, port, reflector, NULL, NULL, 0, nonce);
}

/*
 * With pubkey (and a mesh key on the port) the probe is authenticated and
 * may ask for up to KH_MAX_WANT records.  NULL if it may not, or no memory.
 */
struct nl_msg *kh_probe_msg(int family, uint16_t port,
			    const struct sockaddr_storage *reflector,
			    const uint8_t *pubkey,
			    const uint8_t (*wants)[KH_KEY_LEN], size_t n_wants)
{
	struct nl_msg *msg;
	size_t i;
	int ret;

	if (n_wants > KH_MAX_WANT || (n_wants && !pubkey))
		return NULL;
	msg = khnl_msg(family, KH_CMD_PROBE, KH_GENL_VERSION, 0);
	if (!msg)
		return NULL;
	ret = nla_put_u16(msg, KH_A_PORT, port);
	if (!ret)
		ret = nla_put(msg, KH_A_REFLECTOR, (int)sockaddr_len(reflector),
			      reflector);
	if (!ret && pubkey)
		ret = nla_put(msg, KH_A_PUBKEY, KH_KEY_LEN, pubkey);
	for (i = 0; !ret && i < n_wants; i++)
		ret = nla_put(msg, KH_A_WANT, KH_KEY_LEN, wants[i]);
	if (ret < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int kh_probe_keys(struct khnl *nl, uint16_t port,
		  const struct sockaddr_storage *reflector,
		  const uint8_t *pubkey, const uint8_t (*wants)[KH_KEY_LEN],
		  size_t n_wants, uint8_t nonce[KH_NONCE_LEN])
{
	struct probe_reply pr = { .nonce = nonce };
	struct nl_msg *msg;
	int ret;

	if (n_wants > KH_MAX_WANT || (n_wants && !pubkey))
		return -EINVAL;
	msg = kh_probe_msg(nl->kh_family, port, reflector, pubkey, wants,
			   n_wants);
	if (!msg)
		return -ENOMEM;
	ret = khnl_request(nl, msg, parse_probe_reply, &pr);
	if (!ret && !pr.seen)
		ret = -EBADMSG;
	return ret;
}

/* An authenticated probe with one more attribute (len 0: a flag). */
static int probe_with(struct khnl *nl, uint16_t port,
		      const struct sockaddr_storage *reflector,
		      const uint8_t *pubkey, int attr, const void *data,
		      int len, uint8_t nonce[KH_NONCE_LEN])
{
	struct probe_reply pr = { .nonce = nonce };
	struct nl_msg *msg;
	int ret;

	if (!pubkey)
		return -EINVAL;
	msg = kh_probe_msg(nl->kh_family, port, reflector, pubkey, NULL, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, attr, len, data) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = khnl_request(nl, msg, parse_probe_reply, &pr);
	if (!ret && !pr.seen)
		ret = -EBADMSG;
	return ret;
}

/*
 * A probe whose answer comes from the port after the reflector's own: does
 * our NAT let in a packet from another port of the same address?  Needs the
 * mesh key on our port (-ENOKEY).
 */
int kh_probe_alt(struct khnl *nl, uint16_t port,
		 const struct sockaddr_storage *reflector,
		 const uint8_t *pubkey, uint8_t nonce[KH_NONCE_LEN])
{
	return probe_with(nl, port, reflector, pubkey, KH_A_ALT_PORT, NULL, 0,
			  nonce);
}

/*
 * Ask the reflector to relay WireGuard's packets between us (pubkey) and
 * peer, or with end, to stop.  Authenticated: needs the mesh key on our
 * port (-ENOKEY).  The answer's reflection event carries the peer's key
 * (relay_ready) once the peer has asked that reflector too.
 */
int kh_probe_relay(struct khnl *nl, uint16_t port,
		   const struct sockaddr_storage *reflector,
		   const uint8_t *pubkey, const uint8_t peer[KH_KEY_LEN],
		   bool end, uint8_t nonce[KH_NONCE_LEN])
{
	return probe_with(nl, port, reflector, pubkey,
			  end ? KH_A_RELAY_END : KH_A_RELAY, peer, KH_KEY_LEN,
			  nonce);
}

/*
 * Say what our port's NAT does (KH_RECORD_F_NAT bits): this probe and every
 * authenticated one after it tell the reflectors, which pass it on with our
 * record.
 */
int kh_probe_nat(struct khnl *nl, uint16_t port,
		 const struct sockaddr_storage *reflector,
		 const uint8_t *pubkey, uint8_t nat,
		 uint8_t nonce[KH_NONCE_LEN])
{
	return probe_with(nl, port, reflector, pubkey, KH_A_NAT, &nat, 1,
			  nonce);
}

int kh_bday_start(struct khnl *nl, const struct kh_bday_ask *ask)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_BIRTHDAY, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, ask->port) < 0 ||
	    nla_put(msg, KH_A_PUBKEY, KH_KEY_LEN, ask->self) < 0 ||
	    nla_put(msg, KH_A_PEER, KH_KEY_LEN, ask->peer) < 0 ||
	    nla_put(msg, KH_A_ENDPOINT, (int)sockaddr_len(&ask->target),
		    &ask->target) < 0 ||
	    nla_put_u8(msg, KH_A_BDAY_MODE, ask->mode) < 0 ||
	    (ask->count && nla_put_u32(msg, KH_A_BDAY_COUNT, ask->count) < 0) ||
	    (ask->rate && nla_put_u32(msg, KH_A_BDAY_RATE, ask->rate) < 0) ||
	    (ask->time_ms &&
	     nla_put_u32(msg, KH_A_BDAY_TIME_MS, ask->time_ms) < 0) ||
	    (ask->ttl && nla_put_u8(msg, KH_A_START_TTL, ask->ttl) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

/* -ENOENT: no session for peer on port. */
int kh_bday_end(struct khnl *nl, uint16_t port, const uint8_t peer[KH_KEY_LEN])
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_BIRTHDAY_END, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put(msg, KH_A_PEER, KH_KEY_LEN, peer) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

int kh_parse_bday(struct nl_msg *msg, struct kh_bday *b)
{
	struct nlattr *tb[KH_A_MAX + 1];

	memset(b, 0, sizeof(*b));
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, kh_policy) < 0 ||
	    !tb[KH_A_PORT] || !tb[KH_A_PEER] || !tb[KH_A_ENDPOINT] ||
	    !tb[KH_A_BDAY_MODE] || !tb[KH_A_BDAY_STATE] ||
	    sockaddr_from_bytes(nla_data(tb[KH_A_ENDPOINT]),
				nla_len(tb[KH_A_ENDPOINT]), &b->target))
		return -EBADMSG;
	b->port = nla_get_u16(tb[KH_A_PORT]);
	memcpy(b->peer, nla_data(tb[KH_A_PEER]), KH_KEY_LEN);
	b->mode = nla_get_u8(tb[KH_A_BDAY_MODE]);
	b->state = nla_get_u8(tb[KH_A_BDAY_STATE]);
	if (tb[KH_A_BDAY_COUNT])
		b->count = nla_get_u32(tb[KH_A_BDAY_COUNT]);
	if (tb[KH_A_BDAY_RATE])
		b->rate = nla_get_u32(tb[KH_A_BDAY_RATE]);
	if (tb[KH_A_BDAY_TIME_MS])
		b->time_ms = nla_get_u32(tb[KH_A_BDAY_TIME_MS]);
	if (tb[KH_A_BDAY_PORTS])
		b->ports = nla_get_u32(tb[KH_A_BDAY_PORTS]);
	if (tb[KH_A_BDAY_PROBES])
		b->probes = nla_get_u32(tb[KH_A_BDAY_PROBES]);
	if (tb[KH_A_AGE_MS])
		b->age_ms = nla_get_u32(tb[KH_A_AGE_MS]);
	if (tb[KH_A_BDAY_TOOK_MS])
		b->took_ms = nla_get_u32(tb[KH_A_BDAY_TOOK_MS]);
	if (tb[KH_A_BDAY_LOCAL_PORT])
		b->local_port = nla_get_u16(tb[KH_A_BDAY_LOCAL_PORT]);
	if (tb[KH_A_BDAY_FOUND] &&
	    sockaddr_from_bytes(nla_data(tb[KH_A_BDAY_FOUND]),
				nla_len(tb[KH_A_BDAY_FOUND]), &b->found))
		return -EBADMSG;
	if (b->state == KH_BDAY_FOUND && !b->found.ss_family)
		return -EBADMSG;
	return 0;
}

static int parse_dump_bday(struct nl_msg *msg, void *arg)
{
	struct kh_bdays *out = arg;
	struct kh_bday b, *v;

	if (kh_parse_bday(msg, &b)) {
		out->bad++;
		return 0;
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;

		v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = b;
	return 0;
}

/* Every birthday session; -EBADMSG at the end if some were bad. */
int kh_dump_bdays(struct khnl *nl, struct kh_bdays *out)
{
	struct nl_msg *msg;
	int ret;

	memset(out, 0, sizeof(*out));
	msg = kh_msg(nl, KH_CMD_GET_BIRTHDAYS, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	ret = khnl_request(nl, msg, parse_dump_bday, out);
	if (!ret && out->bad)
		ret = -EBADMSG;
	return ret;
}

/* The session of peer on port, found or not; NULL if none. */
const struct kh_bday *kh_bdays_find(const struct kh_bdays *b, uint16_t port,
				    const uint8_t peer[KH_KEY_LEN])
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].port == port &&
		    !memcmp(b->v[i].peer, peer, KH_KEY_LEN))
			return &b->v[i];
	return NULL;
}

void kh_bdays_free(struct kh_bdays *b)
{
	free(b->v);
	memset(b, 0, sizeof(*b));
}

const char *kh_bday_mode_name(unsigned int mode)
{
	return mode == KH_BDAY_SPRAY ? "spray" :
	       mode == KH_BDAY_PROBE ? "probe" : "?";
}

const char *kh_bday_state_name(unsigned int state)
{
	return state == KH_BDAY_RUNNING ? "running" :
	       state == KH_BDAY_FOUND ? "found" :
	       state == KH_BDAY_FAILED ? "failed" : "?";
}

/* All zeros removes the key.  The message is wiped before it is freed. */
int kh_set_key(struct khnl *nl, uint16_t port, const uint8_t key[KH_KEY_LEN])
{
	struct nlattr *a;
	struct nl_msg *msg;
	int ret;

	msg = kh_msg(nl, KH_CMD_SET_KEY, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put(msg, KH_A_KEY, KH_KEY_LEN, key) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	/* khnl_request() frees msg: take a reference to wipe it after */
	nlmsg_get(msg);
	ret = khnl_request(nl, msg, NULL, NULL);
	a = nlmsg_find_attr(nlmsg_hdr(msg), GENL_HDRLEN, KH_A_KEY);
	if (a)
		explicit_bzero(nla_data(a), KH_KEY_LEN);
	nlmsg_free(msg);
	return ret;
}

static int put_nonzero(struct nl_msg *msg, int attr, uint32_t v)
{
	return v ? nla_put_u32(msg, attr, v) : 0;
}

int kh_set_config(struct khnl *nl, const struct kh_config *cfg)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_SET_CONFIG, 0);
	if (!msg)
		return -ENOMEM;
	if (put_nonzero(msg, KH_A_MAX_RECORDS, cfg->max_records) < 0 ||
	    put_nonzero(msg, KH_A_RECORD_TTL, cfg->record_ttl) < 0 ||
	    put_nonzero(msg, KH_A_RL_RATE, cfg->rl_rate) < 0 ||
	    put_nonzero(msg, KH_A_RL_BURST, cfg->rl_burst) < 0 ||
	    put_nonzero(msg, KH_A_RL_TOTAL, cfg->rl_total) < 0 ||
	    put_nonzero(msg, KH_A_RELAY_RATE, cfg->relay_rate) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

static const char *const source_names[] = {
	[KH_SOURCE_OBSERVED]	= "observed",
	[KH_SOURCE_PUSHED]	= "pushed",
	[KH_SOURCE_LEARNED]	= "learned",
};

static const char *const event_names[] = {
	[KH_EVENT_ADDED]	= "added",
	[KH_EVENT_CHANGED]	= "changed",
	[KH_EVENT_REMOVED]	= "removed",
};

/* "unknown" for values newer than this khctl. */
const char *kh_source_name(unsigned int source)
{
	if (source >= ARRAY_SIZE(source_names) || !source_names[source])
		return "unknown";
	return source_names[source];
}

const char *kh_event_name(unsigned int event)
{
	if (event >= ARRAY_SIZE(event_names) || !event_names[event])
		return "unknown";
	return event_names[event];
}

/* A record message: GET_PEER's reply, a GET_PEERS entry, a PEER_EVENT. */
void kh_record_cand(const struct kh_record *rec, size_t i,
		    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &rec->cands[i], sizeof(rec->cands[i]));
}

/* Is @ep one of @rec's candidates? */
bool kh_record_is_cand(const struct kh_record *rec,
		       const struct sockaddr_storage *ep)
{
	struct sockaddr_storage c;
	size_t i;

	for (i = 0; i < rec->n_cands; i++) {
		kh_record_cand(rec, i, &c);
		if (sockaddr_same(&c, ep))
			return true;
	}
	return false;
}

/* Every KH_A_CANDIDATE of a record message (the parse keeps only one). */
static int parse_cands(struct nl_msg *msg, struct kh_record *rec)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		struct sockaddr_storage ss;

		if (nla_type(a) != KH_A_CANDIDATE ||
		    rec->n_cands == KH_MAX_CANDS)
			continue;
		if (sockaddr_from_bytes(nla_data(a), (size_t)nla_len(a), &ss))
			return -EBADMSG;
		memcpy(&rec->cands[rec->n_cands++], &ss,
		       sizeof(rec->cands[0]));
	}
	return 0;
}

int kh_parse_record(struct nl_msg *msg, struct kh_record *rec)
{
	struct nlattr *tb[KH_A_MAX + 1];

	memset(rec, 0, sizeof(*rec));
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, kh_policy) < 0 ||
	    !tb[KH_A_PUBKEY] || !tb[KH_A_ENDPOINT] ||
	    sockaddr_from_bytes(nla_data(tb[KH_A_ENDPOINT]),
				nla_len(tb[KH_A_ENDPOINT]), &rec->endpoint) ||
	    (tb[KH_A_REFLECTOR] &&
	     sockaddr_from_bytes(nla_data(tb[KH_A_REFLECTOR]),
				 nla_len(tb[KH_A_REFLECTOR]),
				 &rec->reflector)))
		return -EBADMSG;
	memcpy(rec->key, nla_data(tb[KH_A_PUBKEY]), KH_KEY_LEN);
	if (tb[KH_A_SOURCE])
		rec->source = nla_get_u8(tb[KH_A_SOURCE]);
	if (tb[KH_A_EVENT])
		rec->event = nla_get_u8(tb[KH_A_EVENT]);
	if (tb[KH_A_PORT])
		rec->port = nla_get_u16(tb[KH_A_PORT]);
	if (tb[KH_A_AGE_MS])
		rec->age_ms = nla_get_u32(tb[KH_A_AGE_MS]);
	if (tb[KH_A_EXPIRES_MS])
		rec->expires_ms = nla_get_u32(tb[KH_A_EXPIRES_MS]);
	if (tb[KH_A_RECORD_FLAGS])
		rec->flags = nla_get_u32(tb[KH_A_RECORD_FLAGS]);
	return parse_cands(msg, rec);
}

static int parse_one_record(struct nl_msg *msg, void *arg)
{
	return kh_parse_record(msg, arg);
}

/* -ENOENT: no record for key. */
int kh_get_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN],
		struct kh_record *rec)
{
	struct nl_msg *msg;
	int ret;

	memset(rec, 0, sizeof(*rec));
	msg = kh_msg(nl, KH_CMD_GET_PEER, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, KH_A_PUBKEY, KH_KEY_LEN, key) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = khnl_request(nl, msg, parse_one_record, rec);
	/* a reply for another key would be the module's bug, not a record */
	if (!ret && memcmp(rec->key, key, KH_KEY_LEN))
		ret = -EBADMSG;
	return ret;
}

/* ttl_s 0: the table's default. */
int kh_set_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN],
		const struct sockaddr_storage *endpoint, uint32_t ttl_s)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_SET_PEER, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, KH_A_PUBKEY, KH_KEY_LEN, key) < 0 ||
	    nla_put(msg, KH_A_ENDPOINT, (int)sockaddr_len(endpoint),
		    endpoint) < 0 ||
	    (ttl_s && nla_put_u32(msg, KH_A_RECORD_TTL, ttl_s) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

/* A safe start toward @to (see KH_CMD_START). */
int kh_start(struct khnl *nl, uint16_t port, const struct sockaddr_storage *to,
	     uint8_t ttl, uint32_t hold_ms)
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_START, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, KH_A_PORT, port) < 0 ||
	    nla_put(msg, KH_A_ENDPOINT, (int)sockaddr_len(to), to) < 0 ||
	    nla_put_u8(msg, KH_A_START_TTL, ttl) < 0 ||
	    nla_put_u32(msg, KH_A_START_HOLD_MS, hold_ms) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

/* -ENOENT: no record for key. */
int kh_del_peer(struct khnl *nl, const uint8_t key[KH_KEY_LEN])
{
	struct nl_msg *msg;

	msg = kh_msg(nl, KH_CMD_DEL_PEER, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, KH_A_PUBKEY, KH_KEY_LEN, key) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return khnl_request(nl, msg, NULL, NULL);
}

int kh_flush_peers(struct khnl *nl)
{
	struct nl_msg *msg = kh_msg(nl, KH_CMD_FLUSH_PEERS, 0);

	return msg ? khnl_request(nl, msg, NULL, NULL) : -ENOMEM;
}

int kh_parse_dump_record(struct nl_msg *msg, void *arg)
{
	struct kh_dump *d = arg;
	struct kh_records *r = d->out;

	/*
	 * libnl reports this too, once the dump is read to its end; seeing
	 * it here does not depend on how a libnl version words it.
	 */
	if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct kh_record *v = reallocarray(r->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	/* one bad entry should not hide the others */
	if (kh_parse_record(msg, &r->v[r->n])) {
		r->bad++;
		return 0;
	}
	r->n++;
	return 0;
}

/*
 * Every record.  A dump that raced a change (NLM_F_DUMP_INTR) may have
 * missed or repeated records, so it is read again from the start, up to
 * DUMP_TRIES times in all; if the table never held still that long, the
 * last one is kept and flagged inconsistent.  Free with kh_records_free()
 * whatever the result.
 */
int kh_dump_peers(struct khnl *nl, struct kh_records *out)
{
	struct kh_dump d = { .out = out };
	struct nl_msg *msg;
	int tries, ret;

	memset(out, 0, sizeof(*out));
	/* only a hint: unprivileged, the kernel caps it at rmem_max */
	nl_socket_set_buffer_size(nl->sk, DUMP_RCVBUF, 0);
	for (tries = 0; tries < DUMP_TRIES; tries++) {
		out->n = 0;
		out->bad = 0;
		d.intr = false;
		msg = kh_msg(nl, KH_CMD_GET_PEERS, NLM_F_DUMP);
		if (!msg)
			return -ENOMEM;
		ret = khnl_request(nl, msg, kh_parse_dump_record, &d);
		/* -EAGAIN: how khnl_request() passes on NLE_DUMP_INTR */
		if (ret == -EAGAIN)
			d.intr = true;
		else if (ret)
			return ret;
		if (!d.intr)
			return 0;
	}
	out->inconsistent = true;
	return 0;
}

void kh_records_free(struct kh_records *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
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
	if (tb[KH_A_AUTH])
		r->auth = nla_get_u8(tb[KH_A_AUTH]) != 0;
	if (tb[KH_A_RELAY] && nla_len(tb[KH_A_RELAY]) == KH_KEY_LEN) {
		memcpy(r->relay, nla_data(tb[KH_A_RELAY]), KH_KEY_LEN);
		r->relay_ready = true;
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
