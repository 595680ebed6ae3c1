// SPDX-License-Identifier: GPL-2.0
/* Reading a device from WireGuard's own generic-netlink family. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <linux/time_types.h>

#include "util.h"
#include "wg.h"

static struct nla_policy device_policy[WGDEVICE_A_MAX + 1] = {
	[WGDEVICE_A_IFINDEX]	 = { .type = NLA_U32, .maxlen = 4 },
	[WGDEVICE_A_IFNAME]	 = { .type = NLA_STRING, .maxlen = IF_NAMESIZE },
	[WGDEVICE_A_PUBLIC_KEY]	 = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGDEVICE_A_LISTEN_PORT] = { .type = NLA_U16, .maxlen = 2 },
	[WGDEVICE_A_FWMARK]	 = { .type = NLA_U32, .maxlen = 4 },
	[WGDEVICE_A_PEERS]	 = { .type = NLA_NESTED },
};

static struct nla_policy peer_policy[WGPEER_A_MAX + 1] = {
	[WGPEER_A_PUBLIC_KEY]	= { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGPEER_A_ENDPOINT]	= { .minlen = sizeof(struct sockaddr_in),
				    .maxlen = sizeof(struct sockaddr_in6) },
	[WGPEER_A_LAST_HANDSHAKE_TIME] = {
		.minlen = sizeof(struct __kernel_timespec),
		.maxlen = sizeof(struct __kernel_timespec) },
	[WGPEER_A_PRESHARED_KEY] = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] = { .type = NLA_U16, .maxlen = 2 },
	[WGPEER_A_ALLOWEDIPS]	= { .type = NLA_NESTED },
	[WGPEER_A_RX_BYTES]	= { .type = NLA_U64, .minlen = 8 },
	[WGPEER_A_TX_BYTES]	= { .type = NLA_U64, .minlen = 8 },
};

static struct nla_policy allowedip_policy[WGALLOWEDIP_A_MAX + 1] = {
	[WGALLOWEDIP_A_FAMILY]	  = { .type = NLA_U16, .maxlen = 2 },
	[WGALLOWEDIP_A_IPADDR]	  = { .minlen = 4, .maxlen = 16 },
	[WGALLOWEDIP_A_CIDR_MASK] = { .type = NLA_U8, .maxlen = 1 },
};

/* A dump that raced a change of the device is read again, this often. */
#define DUMP_TRIES	6

static struct wg_peer *peer_for_key(struct wg_device *dev, const void *key)
{
	struct wg_peer *p;

	/*
	 * A peer too big for one message continues at the start of the next,
	 * under the same key: it can only be the last one seen.
	 */
	if (dev->n_peers &&
	    !memcmp(dev->peers[dev->n_peers - 1].public_key, key, WG_KEY_LEN))
		return &dev->peers[dev->n_peers - 1];

	if (dev->n_peers == dev->cap_peers) {
		size_t cap = dev->cap_peers ? dev->cap_peers * 2 : 8;

		p = reallocarray(dev->peers, cap, sizeof(*p));
		if (!p)
			return NULL;
		dev->peers = p;
		dev->cap_peers = cap;
	}
	p = &dev->peers[dev->n_peers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, key, WG_KEY_LEN);
	return p;
}

static int parse_allowedip(struct wg_peer *peer, struct nlattr *nest)
{
	struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
	struct wg_allowedip *a;
	uint16_t family;
	uint8_t cidr;
	int len;

	if (nla_parse_nested(tb, WGALLOWEDIP_A_MAX, nest, allowedip_policy) < 0 ||
	    !tb[WGALLOWEDIP_A_FAMILY] || !tb[WGALLOWEDIP_A_IPADDR] ||
	    !tb[WGALLOWEDIP_A_CIDR_MASK])
		return -EBADMSG;
	family = nla_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	cidr = nla_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	len = nla_len(tb[WGALLOWEDIP_A_IPADDR]);
	if (!(family == AF_INET && len == 4 && cidr <= 32) &&
	    !(family == AF_INET6 && len == 16 && cidr <= 128))
		return -EBADMSG;

	if (peer->n_allowedips == peer->cap_allowedips) {
		size_t cap = peer->cap_allowedips ? peer->cap_allowedips * 2 : 4;

		a = reallocarray(peer->allowedips, cap, sizeof(*a));
		if (!a)
			return -ENOMEM;
		peer->allowedips = a;
		peer->cap_allowedips = cap;
	}
	a = &peer->allowedips[peer->n_allowedips++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->cidr = cidr;
	memcpy(a->addr, nla_data(tb[WGALLOWEDIP_A_IPADDR]), len);
	return 0;
}

static int parse_peer(struct wg_device *dev, struct nlattr *nest)
{
	struct nlattr *tb[WGPEER_A_MAX + 1];
	struct sockaddr_storage ss;
	struct wg_peer *peer;

	if (nla_parse_nested(tb, WGPEER_A_MAX, nest, peer_policy) < 0 ||
	    !tb[WGPEER_A_PUBLIC_KEY])
		return -EBADMSG;
	if (tb[WGPEER_A_ENDPOINT] &&
	    sockaddr_from_bytes(nla_data(tb[WGPEER_A_ENDPOINT]),
				nla_len(tb[WGPEER_A_ENDPOINT]), &ss))
		return -EBADMSG;

	peer = peer_for_key(dev, nla_data(tb[WGPEER_A_PUBLIC_KEY]));
	if (!peer)
		return -ENOMEM;
	if (tb[WGPEER_A_ENDPOINT])
		peer->endpoint = ss;
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME]) {
		struct __kernel_timespec ts;

		memcpy(&ts, nla_data(tb[WGPEER_A_LAST_HANDSHAKE_TIME]),
		       sizeof(ts));
		if (ts.tv_sec < 0 || ts.tv_sec > INT64_MAX / 1000 - 1 ||
		    ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EBADMSG;
		peer->last_handshake_ms = ts.tv_sec * 1000 +
					  ts.tv_nsec / 1000000;
	}
	if (tb[WGPEER_A_RX_BYTES])
		peer->rx_bytes = nla_get_u64(tb[WGPEER_A_RX_BYTES]);
	if (tb[WGPEER_A_TX_BYTES])
		peer->tx_bytes = nla_get_u64(tb[WGPEER_A_TX_BYTES]);
	if (tb[WGPEER_A_PRESHARED_KEY])
		memcpy(peer->preshared_key, nla_data(tb[WGPEER_A_PRESHARED_KEY]),
		       WG_KEY_LEN);
	if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL])
		peer->keepalive_s =
			nla_get_u16(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
	if (tb[WGPEER_A_ALLOWEDIPS]) {
		struct nlattr *a;
		int rem, ret;

		nla_for_each_nested(a, tb[WGPEER_A_ALLOWEDIPS], rem) {
			ret = parse_allowedip(peer, a);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int wg_parse_device(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[WGDEVICE_A_MAX + 1], *nest;
	struct wg_device *dev = arg;
	int rem, ret;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, WGDEVICE_A_MAX,
			  device_policy) < 0)
		return -EBADMSG;

	/* device attributes come in the first message of the dump only */
	if (tb[WGDEVICE_A_IFINDEX])
		dev->ifindex = nla_get_u32(tb[WGDEVICE_A_IFINDEX]);
	if (tb[WGDEVICE_A_IFNAME])
		nla_strlcpy(dev->ifname, tb[WGDEVICE_A_IFNAME],
			    sizeof(dev->ifname));
	if (tb[WGDEVICE_A_LISTEN_PORT])
		dev->listen_port = nla_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
	if (tb[WGDEVICE_A_FWMARK])
		dev->fwmark = nla_get_u32(tb[WGDEVICE_A_FWMARK]);
	if (tb[WGDEVICE_A_PUBLIC_KEY]) {
		memcpy(dev->public_key, nla_data(tb[WGDEVICE_A_PUBLIC_KEY]),
		       WG_KEY_LEN);
		dev->has_public_key = true;
	}
	if (tb[WGDEVICE_A_PEERS]) {
		nla_for_each_nested(nest, tb[WGDEVICE_A_PEERS], rem) {
			ret = parse_peer(dev, nest);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void wg_peers_free(struct wg_peer *peers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(peers[i].allowedips);
	free(peers);
}

void wg_device_free(struct wg_device *dev)
{
	if (!dev)
		return;
	wg_peers_free(dev->peers, dev->n_peers);
	free(dev);
}

/*
 * One device, by name or (ifname NULL) by index.  -ENODEV: no such
 * interface; -EOPNOTSUPP: not a WireGuard one; -WG_ENOFAMILY: WireGuard
 * is not there at all.
 */
int wg_get_device(struct khnl *nl, const char *ifname, uint32_t ifindex,
		  struct wg_device **out)
{
	struct wg_device *dev;
	struct nl_msg *msg;
	int ret = -EAGAIN, tries;

	*out = NULL;
	if (ifname && (!*ifname || strlen(ifname) >= IF_NAMESIZE))
		return -ENODEV;
	if (!nl->wg_family) {
		ret = khnl_resolve(nl, WG_GENL_NAME);
		if (ret == -ENOENT)
			return -WG_ENOFAMILY;
		if (ret < 0)
			return ret;
		nl->wg_family = ret;
	}

	for (tries = 0; tries < DUMP_TRIES; tries++) {
		msg = khnl_msg(nl->wg_family, WG_CMD_GET_DEVICE,
			       WG_GENL_VERSION, NLM_F_DUMP);
		if (!msg)
			return -ENOMEM;
		/* exactly one of the two: newer kernels reject anything more */
		if (ifname)
			ret = nla_put_string(msg, WGDEVICE_A_IFNAME, ifname);
		else
			ret = nla_put_u32(msg, WGDEVICE_A_IFINDEX, ifindex);
		dev = calloc(1, sizeof(*dev));
		if (ret < 0 || !dev) {
			nlmsg_free(msg);
			free(dev);
			return -ENOMEM;
		}

		ret = khnl_request(nl, msg, wg_parse_device, dev);
		if (!ret && !dev->ifindex)
			ret = -EBADMSG;
		if (!ret) {
			*out = dev;
			return 0;
		}
		wg_device_free(dev);
		/* -EAGAIN: peers changed under the dump (NLM_F_DUMP_INTR) */
		if (ret != -EAGAIN)
			break;
	}
	return ret;
}

static int cmp_peer(const void *a, const void *b)
{
	return memcmp(((const struct wg_peer *)a)->public_key,
		      ((const struct wg_peer *)b)->public_key, WG_KEY_LEN);
}

/* By key, so that wg_find_peer() is a binary search: records are many. */
void wg_sort_peers(struct wg_device *dev)
{
	if (dev->n_peers > 1)
		qsort(dev->peers, dev->n_peers, sizeof(*dev->peers), cmp_peer);
}

/* After wg_sort_peers(). */
struct wg_peer *wg_find_peer(const struct wg_device *dev, const void *key)
{
	struct wg_peer probe;

	if (!dev->n_peers)
		return NULL;
	memcpy(probe.public_key, key, WG_KEY_LEN);
	return bsearch(&probe, dev->peers, dev->n_peers, sizeof(*dev->peers),
		       cmp_peer);
}

/*
 * Another peer of @dev at @p's endpoint, or NULL: @p is relayed through it
 * (peers sync points a relayed peer at its reflector).
 */
const struct wg_peer *wg_relaying_peer(const struct wg_device *dev,
				       const struct wg_peer *p)
{
	size_t i;

	for (i = 0; i < dev->n_peers; i++)
		if (&dev->peers[i] != p &&
		    sockaddr_same(&dev->peers[i].endpoint, &p->endpoint))
			return &dev->peers[i];
	return NULL;
}

struct nl_msg *wg_set_endpoint_msg(int family, uint32_t ifindex,
				   const void *key,
				   const struct sockaddr_storage *endpoint)
{
	struct nlattr *peers, *peer;
	struct nl_msg *msg;

	msg = khnl_msg(family, WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0);
	if (!msg)
		return NULL;
	/* NLA_F_NESTED spelled out: strict kernels want it, libnl may not add it */
	if (nla_put_u32(msg, WGDEVICE_A_IFINDEX, ifindex) < 0 ||
	    !(peers = nla_nest_start(msg, WGDEVICE_A_PEERS | NLA_F_NESTED)) ||
	    !(peer = nla_nest_start(msg, 0 | NLA_F_NESTED)) ||
	    nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, key) < 0 ||
	    nla_put_u32(msg, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY) < 0 ||
	    nla_put(msg, WGPEER_A_ENDPOINT, (int)sockaddr_len(endpoint),
		    endpoint) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, peer);
	nla_nest_end(msg, peers);
	return msg;
}

/*
 * Sets one peer's endpoint and nothing else.  WGPEER_F_UPDATE_ONLY: a peer
 * removed meanwhile is not created again with no allowed IPs.
 */
/* Sends a SET_DEVICE built by one of the *_msg() below (NULL: no memory). */
static int set_device(struct khnl *nl, struct nl_msg *msg)
{
	if (!msg)
		return -ENOMEM;
	return khnl_request(nl, msg, NULL, NULL);
}

int wg_set_endpoint(struct khnl *nl, uint32_t ifindex, const void *key,
		    const struct sockaddr_storage *endpoint)
{
	if (!nl->wg_family)
		return -WG_ENOFAMILY;
	return set_device(nl, wg_set_endpoint_msg(nl->wg_family, ifindex, key,
						  endpoint));
}

/*
 * One SET_DEVICE that removes the peer and creates it again as it was (key,
 * preshared key, keepalive, allowed IPs) with the new endpoint.  A peer made
 * anew may start a handshake at once; the old one waits out WireGuard's 5 s
 * between initiations, counted from its last attempt, even one that went
 * nowhere because it had no endpoint.
 */
struct nl_msg *wg_restart_peer_msg(int family, uint32_t ifindex,
				   const struct wg_peer *peer,
				   const struct sockaddr_storage *endpoint)
{
	struct nlattr *peers, *p, *aips, *aip;
	struct nl_msg *msg;
	size_t i;

	if (peer->n_allowedips > WG_RESTART_MAX_ALLOWEDIPS)
		return NULL;
	msg = khnl_msg(family, WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0);
	if (!msg)
		return NULL;
	if (nla_put_u32(msg, WGDEVICE_A_IFINDEX, ifindex) < 0 ||
	    !(peers = nla_nest_start(msg, WGDEVICE_A_PEERS | NLA_F_NESTED)) ||
	    !(p = nla_nest_start(msg, 0 | NLA_F_NESTED)) ||
	    nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, peer->public_key) < 0 ||
	    nla_put_u32(msg, WGPEER_A_FLAGS, WGPEER_F_REMOVE_ME) < 0)
		goto fail;
	nla_nest_end(msg, p);
	if (!(p = nla_nest_start(msg, 1 | NLA_F_NESTED)) ||
	    nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, peer->public_key) < 0 ||
	    nla_put(msg, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN,
		    peer->preshared_key) < 0 ||
	    nla_put_u16(msg, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
			peer->keepalive_s) < 0 ||
	    nla_put(msg, WGPEER_A_ENDPOINT, (int)sockaddr_len(endpoint),
		    endpoint) < 0 ||
	    !(aips = nla_nest_start(msg, WGPEER_A_ALLOWEDIPS | NLA_F_NESTED)))
		goto fail;
	for (i = 0; i < peer->n_allowedips; i++) {
		const struct wg_allowedip *a = &peer->allowedips[i];

		if (!(aip = nla_nest_start(msg, (int)i | NLA_F_NESTED)) ||
		    nla_put_u16(msg, WGALLOWEDIP_A_FAMILY, a->family) < 0 ||
		    nla_put(msg, WGALLOWEDIP_A_IPADDR,
			    a->family == AF_INET ? 4 : 16, a->addr) < 0 ||
		    nla_put_u8(msg, WGALLOWEDIP_A_CIDR_MASK, a->cidr) < 0)
			goto fail;
		nla_nest_end(msg, aip);
	}
	nla_nest_end(msg, aips);
	nla_nest_end(msg, p);
	nla_nest_end(msg, peers);
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

int wg_restart_peer(struct khnl *nl, uint32_t ifindex,
		    const struct wg_peer *peer,
		    const struct sockaddr_storage *endpoint)
{
	if (!nl->wg_family)
		return -WG_ENOFAMILY;
	return set_device(nl, wg_restart_peer_msg(nl->wg_family, ifindex, peer,
						  endpoint));
}

/*
 * One SET_DEVICE that makes WireGuard start a handshake with an idle peer
 * now: the peer's persistent keepalive is set twice, to another value and
 * back to its own (to 1 and back to 0 when it has none).  WireGuard sends a
 * keepalive whenever the interval goes from 0 to something, and a keepalive
 * without a session begins a handshake, which WireGuard then retries every
 * 5 s as for any packet waiting.  Both nests carry WGPEER_F_UPDATE_ONLY: a
 * peer removed meanwhile is not created again.
 */
struct nl_msg *wg_nudge_peer_msg(int family, uint32_t ifindex,
				 const struct wg_peer *peer)
{
	uint16_t first = peer->keepalive_s ? 0 : 1;
	uint16_t ka[2] = { first, peer->keepalive_s };
	struct nlattr *peers, *p;
	struct nl_msg *msg;
	int i;

	msg = khnl_msg(family, WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0);
	if (!msg)
		return NULL;
	if (nla_put_u32(msg, WGDEVICE_A_IFINDEX, ifindex) < 0 ||
	    !(peers = nla_nest_start(msg, WGDEVICE_A_PEERS | NLA_F_NESTED)))
		goto fail;
	for (i = 0; i < 2; i++) {
		if (!(p = nla_nest_start(msg, i | NLA_F_NESTED)) ||
		    nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN,
			    peer->public_key) < 0 ||
		    nla_put_u32(msg, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY) < 0 ||
		    nla_put_u16(msg, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
				ka[i]) < 0)
			goto fail;
		nla_nest_end(msg, p);
	}
	nla_nest_end(msg, peers);
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

int wg_nudge_peer(struct khnl *nl, uint32_t ifindex, const struct wg_peer *peer)
{
	if (!nl->wg_family)
		return -WG_ENOFAMILY;
	return set_device(nl, wg_nudge_peer_msg(nl->wg_family, ifindex, peer));
}

void wg_perror(const struct khnl *nl, int err, const char *dev)
{
	switch (-err) {
	case ENODEV:
		kh_err("%s: no such WireGuard device", dev);
		break;
	case EOPNOTSUPP:
		kh_err("%s: not a WireGuard device", dev);
		break;
	case WG_ENOFAMILY:
		kh_err("%s: no such WireGuard device (WireGuard is not loaded)",
		       dev);
		break;
	default:
		khnl_perror(nl, err, "%s: reading the WireGuard device", dev);
	}
}
