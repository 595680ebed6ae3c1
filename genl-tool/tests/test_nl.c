// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests for the netlink side: extack parsing, the WireGuard and
 * kh_reflect parsers on hand-built messages, and the request path against
 * the host kernel's own nlctrl family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "kh.h"
#include "nl.h"
#include "show.h"
#include "tap.h"
#include "util.h"
#include "wg.h"

/* ---- extack ------------------------------------------------------------ */

static size_t put_attr(unsigned char *p, size_t off, uint16_t type,
		       const void *data, uint16_t len)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };

	memcpy(p + off, &a, sizeof(a));
	memcpy(p + off + NLA_HDRLEN, data, len);
	return off + NLA_ALIGN(a.nla_len);
}

/* An NLMSG_ERROR in a heap block of exactly its size, for ASan. */
static struct nlmsghdr *make_error(uint16_t flags, uint32_t echo_len,
				   uint32_t claimed_echo_len,
				   const unsigned char *tlv, size_t tlv_len)
{
	unsigned char p[1024] = { 0 };
	struct nlmsghdr h = { .nlmsg_type = NLMSG_ERROR,
			      .nlmsg_flags = flags };
	struct nlmsgerr e = { .error = -EINVAL };
	size_t off = NLMSG_HDRLEN;
	struct nlmsghdr *out;

	e.msg.nlmsg_len = sizeof(e.msg) + claimed_echo_len;
	memcpy(p + off, &e, sizeof(e));
	off += sizeof(e) + echo_len;
	off = NLMSG_ALIGN(off);
	memcpy(p + off, tlv, tlv_len);
	off += tlv_len;
	h.nlmsg_len = (uint32_t)off;
	memcpy(p, &h, sizeof(h));
	out = malloc(off);
	memcpy(out, p, off);
	return out;
}

static void test_extack(struct tap *t)
{
	unsigned char tlv[256];
	char buf[64], small[5];
	struct nlmsghdr *nlh;
	uint32_t offs = 20;
	size_t n;

	n = put_attr(tlv, 0, NLMSGERR_ATTR_MSG, "bad port", 9);
	nlh = make_error(NLM_F_ACK_TLVS, 12, 12, tlv, n);
	tap_ok(t, extack_msg(nlh, buf, sizeof(buf)) && !strcmp(buf, "bad port"),
	       "extack after an echoed request");
	tap_ok(t, extack_msg(nlh, small, sizeof(small)) &&
	       !strcmp(small, "bad "), "extack truncated to the buffer");
	nlh->nlmsg_flags = 0;
	tap_ok(t, !extack_msg(nlh, buf, sizeof(buf)) && !buf[0],
	       "no NLM_F_ACK_TLVS, no message");
	free(nlh);

	nlh = make_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, 0, 12, tlv, n);
	tap_ok(t, extack_msg(nlh, buf, sizeof(buf)) && !strcmp(buf, "bad port"),
	       "extack after a capped echo");
	free(nlh);

	nlh = make_error(NLM_F_ACK_TLVS, 12, 400, tlv, n);
	tap_ok(t, !extack_msg(nlh, buf, sizeof(buf)),
	       "echo longer than the message is refused");
	free(nlh);

	n = put_attr(tlv, 0, NLMSGERR_ATTR_OFFS, &offs, sizeof(offs));
	n = put_attr(tlv, n, NLMSGERR_ATTR_MSG, "a\nb", 4);
	nlh = make_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, 0, 0, tlv, n);
	tap_ok(t, extack_msg(nlh, buf, sizeof(buf)) && !strcmp(buf, "a?b"),
	       "extack after another attribute, control bytes masked");
	free(nlh);

	/* a message attribute without its NUL, cut by the message end */
	n = put_attr(tlv, 0, NLMSGERR_ATTR_MSG, "abcd", 4);
	nlh = make_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, 0, 0, tlv, n);
	tap_ok(t, extack_msg(nlh, buf, sizeof(buf)) && !strcmp(buf, "abcd"),
	       "unterminated message stays in bounds");
	free(nlh);

	n = put_attr(tlv, 0, NLMSGERR_ATTR_MSG, "abcd", 4);
	((struct nlattr *)tlv)->nla_len = 200;
	nlh = make_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, 0, 0, tlv, n);
	tap_ok(t, !extack_msg(nlh, buf, sizeof(buf)),
	       "attribute longer than the message is refused");
	free(nlh);

	{
		unsigned char p[64] = { 0 };
		struct nlmsghdr h = { .nlmsg_type = NLMSG_DONE,
				      .nlmsg_flags = NLM_F_MULTI |
						     NLM_F_ACK_TLVS };
		int err = -ENODEV;
		size_t off = NLMSG_HDRLEN;

		memcpy(p + off, &err, sizeof(err));
		off = put_attr(p, off + sizeof(err), NLMSGERR_ATTR_MSG,
			       "gone", 5);
		h.nlmsg_len = (uint32_t)off;
		memcpy(p, &h, sizeof(h));
		nlh = malloc(off);
		memcpy(nlh, p, off);
		tap_ok(t, extack_msg(nlh, buf, sizeof(buf)) &&
		       !strcmp(buf, "gone"), "extack in NLMSG_DONE");
		free(nlh);
	}
}

/* ---- message parsers ---------------------------------------------------- */

static struct nl_msg *genl_msg(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg)
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, 0x42, 0, 0, cmd, 1);
	return msg;
}

static void put_sin(struct nl_msg *msg, int type, const char *ep)
{
	struct sockaddr_storage ss;
	socklen_t len;

	parse_endpoint(ep, &ss, &len, NULL);
	nla_put(msg, type, (int)len, &ss);
}

static void put_peer(struct nl_msg *msg, int idx, uint8_t key,
		     const char *ep)
{
	uint8_t k[WG_KEY_LEN];
	struct nlattr *peer;

	memset(k, key, sizeof(k));
	peer = nla_nest_start(msg, idx);
	nla_put(msg, WGPEER_A_PUBLIC_KEY, sizeof(k), k);
	if (ep)
		put_sin(msg, WGPEER_A_ENDPOINT, ep);
	nla_nest_end(msg, peer);
}

static bool endpoint_is(const struct sockaddr_storage *ss, const char *want)
{
	char buf[ENDPOINT_STRLEN];

	if (!want)
		return ss->ss_family == 0;
	return !format_endpoint(ss, buf, sizeof(buf)) && !strcmp(buf, want);
}

static void test_wg_parse(struct tap *t)
{
	struct wg_device dev = { 0 };
	uint8_t key[WG_KEY_LEN] = { 0 };
	struct nlattr *peers;
	struct nl_msg *m1, *m2, *bad;
	int r1, r2;

	m1 = genl_msg(WG_CMD_GET_DEVICE);
	nla_put_u32(m1, WGDEVICE_A_IFINDEX, 4);
	nla_put_string(m1, WGDEVICE_A_IFNAME, "wg0");
	nla_put_u16(m1, WGDEVICE_A_LISTEN_PORT, 51820);
	nla_put(m1, WGDEVICE_A_PUBLIC_KEY, sizeof(key), key);
	peers = nla_nest_start(m1, WGDEVICE_A_PEERS);
	put_peer(m1, 0, 0xaa, "192.0.2.1:51820");
	put_peer(m1, 1, 0xbb, NULL);
	nla_nest_end(m1, peers);

	/* the second message carries on with peer 0xbb */
	m2 = genl_msg(WG_CMD_GET_DEVICE);
	peers = nla_nest_start(m2, WGDEVICE_A_PEERS);
	put_peer(m2, 0, 0xbb, "[2001:db8::2]:1234");
	put_peer(m2, 1, 0xcc, NULL);
	nla_nest_end(m2, peers);

	r1 = wg_parse_device(m1, &dev);
	r2 = wg_parse_device(m2, &dev);
	tap_ok(t, !r1 && !r2 && dev.ifindex == 4 && !strcmp(dev.ifname, "wg0") &&
	       dev.listen_port == 51820 && dev.has_public_key,
	       "wg: device attributes");
	tap_ok(t, dev.n_peers == 3 && dev.peers[0].public_key[0] == 0xaa &&
	       dev.peers[1].public_key[0] == 0xbb &&
	       dev.peers[2].public_key[0] == 0xcc,
	       "wg: a peer split over two messages is one peer");
	tap_ok(t, dev.n_peers == 3 &&
	       endpoint_is(&dev.peers[0].endpoint, "192.0.2.1:51820") &&
	       endpoint_is(&dev.peers[1].endpoint, "[2001:db8::2]:1234") &&
	       endpoint_is(&dev.peers[2].endpoint, NULL), "wg: peer endpoints");
	free(dev.peers);
	nlmsg_free(m1);
	nlmsg_free(m2);

	memset(&dev, 0, sizeof(dev));
	bad = genl_msg(WG_CMD_GET_DEVICE);
	peers = nla_nest_start(bad, WGDEVICE_A_PEERS);
	{
		struct nlattr *peer = nla_nest_start(bad, 0);
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET };

		nla_put(bad, WGPEER_A_PUBLIC_KEY, sizeof(key), key);
		nla_put(bad, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
		nla_nest_end(bad, peer);
	}
	nla_nest_end(bad, peers);
	tap_ok(t, wg_parse_device(bad, &dev) == -EBADMSG && !dev.n_peers,
	       "wg: AF_INET endpoint of sockaddr_in6 size is refused");
	nlmsg_free(bad);
	free(dev.peers);

	memset(&dev, 0, sizeof(dev));
	bad = genl_msg(WG_CMD_GET_DEVICE);
	peers = nla_nest_start(bad, WGDEVICE_A_PEERS);
	{
		struct nlattr *peer = nla_nest_start(bad, 0);

		put_sin(bad, WGPEER_A_ENDPOINT, "192.0.2.1:1");
		nla_nest_end(bad, peer);
	}
	nla_nest_end(bad, peers);
	tap_ok(t, wg_parse_device(bad, &dev) == -EBADMSG,
	       "wg: a peer without a key is refused");
	nlmsg_free(bad);
	free(dev.peers);

	memset(&dev, 0, sizeof(dev));
	bad = genl_msg(WG_CMD_GET_DEVICE);
	nla_put(bad, WGDEVICE_A_PUBLIC_KEY, WG_KEY_LEN - 1, key);
	tap_ok(t, wg_parse_device(bad, &dev) == -EBADMSG,
	       "wg: a short device key is refused");
	nlmsg_free(bad);

	bad = genl_msg(WG_CMD_GET_DEVICE);
	nla_put_u32(bad, WGDEVICE_A_LISTEN_PORT, 51820);
	tap_ok(t, wg_parse_device(bad, &dev) == -EBADMSG,
	       "wg: a listen port of the wrong size is refused");
	nlmsg_free(bad);
}

static struct nl_msg *status_msg(void)
{
	struct nl_msg *msg = genl_msg(KH_CMD_GET_STATUS);
	struct nlattr *nest;

	nla_put_u32(msg, KH_A_VERSION, KH_GENL_VERSION);
	nest = nla_nest_start(msg, KH_A_WATCH);
	nla_put_u16(msg, KH_WATCH_A_PORT, 51820);
	nla_put_u32(msg, KH_WATCH_A_IFINDEX, 4);
	nla_put_string(msg, KH_WATCH_A_IFNAME, "wg0");
	nla_nest_end(msg, nest);
	nest = nla_nest_start(msg, KH_A_WATCH);
	nla_put_u16(msg, KH_WATCH_A_PORT, 51821);
	nla_put_u32(msg, KH_WATCH_A_IFINDEX, 5);
	nla_nest_end(msg, nest);
	return msg;
}

static void test_kh_parse(struct tap *t)
{
	struct kh_status st = { 0 };
	struct kh_reflection r;
	struct nlattr *nest;
	struct nl_msg *msg;
	uint8_t nonce[KH_NONCE_LEN] = { 1, 2, 3 };
	int ret;

	msg = status_msg();
	nest = nla_nest_start(msg, KH_A_STATS);
	nla_put(msg, KH_STAT_PAD, 0, NULL);
	nla_put_u64(msg, KH_STAT_RX_REQUESTS, 3);
	nla_put_u64(msg, 200, 7);
	nla_nest_end(msg, nest);
	ret = kh_parse_status(msg, &st);
	tap_ok(t, !ret && st.version == KH_GENL_VERSION && st.n_watches == 2 &&
	       st.watches[0].port == 51820 && st.watches[0].ifindex == 4 &&
	       !strcmp(st.watches[0].ifname, "wg0") &&
	       st.watches[1].port == 51821 && !st.watches[1].ifname[0],
	       "kh: repeated watches");
	tap_ok(t, !ret && st.n_counters == 2 &&
	       st.counters[0].id == KH_STAT_RX_REQUESTS &&
	       st.counters[0].value == 3 && st.counters[1].id == 200 &&
	       st.counters[1].value == 7, "kh: counters, padding skipped");
	tap_ok(t, kh_stat_name(KH_STAT_TX_ERRORS) &&
	       !strcmp(kh_stat_name(KH_STAT_TX_ERRORS), "tx_errors") &&
	       !strcmp(kh_stat_name(KH_STAT_RX_REQUESTS), "rx_requests") &&
	       !kh_stat_name(KH_STAT_PAD) && !kh_stat_name(__KH_STAT_MAX) &&
	       !kh_stat_name(200), "kh: counter names");
	tap_ok(t, kh_msg_cmd(msg) == KH_CMD_GET_STATUS, "kh: command of a message");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = status_msg();
	nest = nla_nest_start(msg, KH_A_STATS);
	nla_put_u32(msg, KH_STAT_RX_REQUESTS, 3);
	nla_nest_end(msg, nest);
	tap_ok(t, kh_parse_status(msg, &st) == -EBADMSG,
	       "kh: a 32-bit counter is refused");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_GET_STATUS);
	nest = nla_nest_start(msg, KH_A_WATCH);
	nla_put_u32(msg, KH_WATCH_A_IFINDEX, 4);
	nla_nest_end(msg, nest);
	tap_ok(t, kh_parse_status(msg, &st) == -EBADMSG,
	       "kh: a watch without a port is refused");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_GET_STATUS);
	nest = nla_nest_start(msg, KH_A_WATCH);
	nla_put_u16(msg, KH_WATCH_A_PORT, 1);
	nla_put_string(msg, KH_WATCH_A_IFNAME, "a-name-far-too-long");
	nla_nest_end(msg, nest);
	tap_ok(t, kh_parse_status(msg, &st) == -EBADMSG,
	       "kh: an over-long ifname is refused");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_REFLECTION);
	nla_put_u16(msg, KH_A_PORT, 51820);
	put_sin(msg, KH_A_REFLECTOR, "198.51.100.1:51820");
	put_sin(msg, KH_A_ENDPOINT, "[2001:db8::7]:40312");
	nla_put(msg, KH_A_NONCE, sizeof(nonce), nonce);
	nla_put_u32(msg, KH_A_RTT_US, 812);
	ret = kh_parse_reflection(msg, &r);
	tap_ok(t, !ret && r.port == 51820 &&
	       endpoint_is(&r.reflector, "198.51.100.1:51820") &&
	       endpoint_is(&r.endpoint, "[2001:db8::7]:40312") &&
	       r.has_nonce && !memcmp(r.nonce, nonce, sizeof(nonce)) &&
	       r.has_rtt && r.rtt_us == 812 && !r.has_age,
	       "kh: reflection event");
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_REFLECTION);
	nla_put_u16(msg, KH_A_PORT, 51820);
	put_sin(msg, KH_A_REFLECTOR, "198.51.100.1:51820");
	tap_ok(t, kh_parse_reflection(msg, &r) == -EBADMSG,
	       "kh: a reflection without an endpoint is refused");
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_REFLECTION);
	nla_put_u16(msg, KH_A_PORT, 51820);
	put_sin(msg, KH_A_REFLECTOR, "198.51.100.1:51820");
	put_sin(msg, KH_A_ENDPOINT, "203.0.113.1:40312");
	nla_put(msg, KH_A_NONCE, sizeof(nonce) - 1, nonce);
	tap_ok(t, kh_parse_reflection(msg, &r) == -EBADMSG,
	       "kh: a short nonce is refused");
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_REFLECTION);
	nla_put_u16(msg, KH_A_PORT, 51820);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET6 };

		nla_put(msg, KH_A_REFLECTOR, sizeof(sin), &sin);
	}
	put_sin(msg, KH_A_ENDPOINT, "203.0.113.1:40312");
	tap_ok(t, kh_parse_reflection(msg, &r) == -EBADMSG,
	       "kh: AF_INET6 in a sockaddr_in is refused");
	nlmsg_free(msg);
}


static void put_handshake(struct nl_msg *msg, int64_t sec, int64_t nsec,
			  int len)
{
	struct __kernel_timespec ts = { .tv_sec = sec, .tv_nsec = nsec };

	nla_put(msg, WGPEER_A_LAST_HANDSHAKE_TIME, len, &ts);
}

static struct nl_msg *handshake_msg(int64_t sec, int64_t nsec, int len)
{
	struct nl_msg *msg = genl_msg(WG_CMD_GET_DEVICE);
	struct nlattr *peers, *peer;
	uint8_t k[WG_KEY_LEN];

	memset(k, 0xaa, sizeof(k));
	nla_put_u32(msg, WGDEVICE_A_IFINDEX, 4);
	peers = nla_nest_start(msg, WGDEVICE_A_PEERS);
	peer = nla_nest_start(msg, 0);
	nla_put(msg, WGPEER_A_PUBLIC_KEY, sizeof(k), k);
	put_handshake(msg, sec, nsec, len);
	nla_put_u64(msg, WGPEER_A_RX_BYTES, 4242);
	nla_nest_end(msg, peer);
	nla_nest_end(msg, peers);
	return msg;
}

static void test_wg_more(struct tap *t)
{
	struct wg_device dev = { 0 };
	struct sockaddr_storage ss;
	struct nlattr *tb[WGDEVICE_A_MAX + 1], *ptb[WGPEER_A_MAX + 1];
	struct nlattr *peer;
	struct nl_msg *msg;
	uint8_t k[WG_KEY_LEN];
	socklen_t len;
	int rem, n = 0, ret;

	msg = handshake_msg(1700000000, 123456789, 16);
	ret = wg_parse_device(msg, &dev);
	tap_ok(t, !ret && dev.n_peers == 1 &&
	       dev.peers[0].last_handshake_ms == 1700000000123LL &&
	       dev.peers[0].rx_bytes == 4242,
	       "wg: latest handshake in ms, bytes received");
	free(dev.peers);
	nlmsg_free(msg);

	memset(&dev, 0, sizeof(dev));
	msg = handshake_msg(0, 0, 16);
	tap_ok(t, !wg_parse_device(msg, &dev) &&
	       dev.peers[0].last_handshake_ms == 0, "wg: no handshake is 0");
	free(dev.peers);
	nlmsg_free(msg);

	memset(&dev, 0, sizeof(dev));
	msg = handshake_msg(1, 0, 8);
	tap_ok(t, wg_parse_device(msg, &dev) == -EBADMSG,
	       "wg: a short handshake time is refused");
	free(dev.peers);
	nlmsg_free(msg);

	memset(&dev, 0, sizeof(dev));
	msg = handshake_msg(-1, 0, 16);
	tap_ok(t, wg_parse_device(msg, &dev) == -EBADMSG,
	       "wg: a negative handshake time is refused");
	free(dev.peers);
	nlmsg_free(msg);

	/* sorted lookup */
	memset(&dev, 0, sizeof(dev));
	dev.peers = calloc(300, sizeof(*dev.peers));
	dev.n_peers = dev.cap_peers = 300;
	for (int i = 0; i < 300; i++) {
		dev.peers[i].public_key[0] = (uint8_t)(299 - i);
		dev.peers[i].public_key[31] = (uint8_t)(i / 256);
	}
	wg_sort_peers(&dev);
	memset(k, 0, sizeof(k));
	k[0] = 7;
	tap_ok(t, wg_find_peer(&dev, k) && wg_find_peer(&dev, k)->public_key[0] == 7,
	       "wg: find a peer by key");
	k[31] = 9;
	tap_ok(t, !wg_find_peer(&dev, k), "wg: a key that is no peer");
	free(dev.peers);
	memset(&dev, 0, sizeof(dev));
	tap_ok(t, !wg_find_peer(&dev, k), "wg: no peers at all");

	/* WG_CMD_SET_DEVICE: ifindex, one peer: key, UPDATE_ONLY, endpoint */
	memset(k, 0x5a, sizeof(k));
	parse_endpoint("[2001:db8::9]:4500", &ss, &len, NULL);
	msg = wg_set_endpoint_msg(0x42, 7, k, &ss);
	ret = genlmsg_parse(nlmsg_hdr(msg), 0, tb, WGDEVICE_A_MAX, NULL);
	tap_ok(t, !ret && genlmsg_hdr(nlmsg_hdr(msg))->cmd == WG_CMD_SET_DEVICE &&
	       tb[WGDEVICE_A_IFINDEX] && nla_get_u32(tb[WGDEVICE_A_IFINDEX]) == 7 &&
	       !tb[WGDEVICE_A_IFNAME] && !tb[WGDEVICE_A_FLAGS] &&
	       tb[WGDEVICE_A_PEERS] &&
	       (tb[WGDEVICE_A_PEERS]->nla_type & NLA_F_NESTED),
	       "wg: set endpoint: device attributes, nested flag");
	if (tb[WGDEVICE_A_PEERS]) {
		nla_for_each_nested(peer, tb[WGDEVICE_A_PEERS], rem) {
			n++;
			ret = nla_parse_nested(ptb, WGPEER_A_MAX, peer, NULL);
			tap_ok(t, !ret && nla_type(peer) == 0 &&
			       (peer->nla_type & NLA_F_NESTED) &&
			       ptb[WGPEER_A_PUBLIC_KEY] &&
			       nla_len(ptb[WGPEER_A_PUBLIC_KEY]) == WG_KEY_LEN &&
			       !memcmp(nla_data(ptb[WGPEER_A_PUBLIC_KEY]), k, WG_KEY_LEN) &&
			       ptb[WGPEER_A_FLAGS] &&
			       nla_get_u32(ptb[WGPEER_A_FLAGS]) == WGPEER_F_UPDATE_ONLY &&
			       ptb[WGPEER_A_ENDPOINT] &&
			       nla_len(ptb[WGPEER_A_ENDPOINT]) == sizeof(struct sockaddr_in6) &&
			       !ptb[WGPEER_A_ALLOWEDIPS] && !ptb[WGPEER_A_PRESHARED_KEY],
			       "wg: set endpoint: the peer nest");
		}
	}
	tap_ok(t, n == 1, "wg: set endpoint: exactly one peer");
	nlmsg_free(msg);
}

/* The keepalives of a nudge's peer nests, in order; -1 where one is off. */
static int nudge_keepalives(struct nl_msg *msg, const uint8_t *k,
			    int ka[2])
{
	struct nlattr *tb[WGDEVICE_A_MAX + 1], *ptb[WGPEER_A_MAX + 1], *peer;
	int rem, n = 0;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, WGDEVICE_A_MAX, NULL) ||
	    genlmsg_hdr(nlmsg_hdr(msg))->cmd != WG_CMD_SET_DEVICE ||
	    !tb[WGDEVICE_A_IFINDEX] || nla_get_u32(tb[WGDEVICE_A_IFINDEX]) != 7 ||
	    !tb[WGDEVICE_A_PEERS])
		return -1;
	nla_for_each_nested(peer, tb[WGDEVICE_A_PEERS], rem) {
		if (n == 2 || nla_parse_nested(ptb, WGPEER_A_MAX, peer, NULL) ||
		    !(peer->nla_type & NLA_F_NESTED) ||
		    !ptb[WGPEER_A_PUBLIC_KEY] ||
		    memcmp(nla_data(ptb[WGPEER_A_PUBLIC_KEY]), k, WG_KEY_LEN) ||
		    !ptb[WGPEER_A_FLAGS] ||
		    nla_get_u32(ptb[WGPEER_A_FLAGS]) != WGPEER_F_UPDATE_ONLY ||
		    ptb[WGPEER_A_ENDPOINT] || ptb[WGPEER_A_ALLOWEDIPS] ||
		    !ptb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL])
			return -1;
		ka[n++] = nla_get_u16(ptb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
	}
	return n;
}

static void test_wg_nudge(struct tap *t)
{
	struct wg_peer p = { 0 };
	struct nl_msg *msg;
	int ka[2] = { -1, -1 };

	memset(p.public_key, 0x33, sizeof(p.public_key));
	msg = wg_nudge_peer_msg(0x42, 7, &p);
	tap_ok(t, msg && nudge_keepalives(msg, p.public_key, ka) == 2 &&
	       ka[0] == 1 && ka[1] == 0,
	       "wg: nudge without a keepalive: 1, then back to 0, update only");
	nlmsg_free(msg);

	p.keepalive_s = 25;
	msg = wg_nudge_peer_msg(0x42, 7, &p);
	tap_ok(t, msg && nudge_keepalives(msg, p.public_key, ka) == 2 &&
	       ka[0] == 0 && ka[1] == 25,
	       "wg: nudge with a keepalive of 25 s: 0, then back to 25");
	nlmsg_free(msg);
}

static struct nl_msg *record_msg(uint8_t cmd, uint8_t key, const char *ep,
				 const char *refl, uint16_t flags)
{
	struct nl_msg *msg = nlmsg_alloc();
	uint8_t k[KH_KEY_LEN];

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, 0x42, 0, flags, cmd, 1);
	memset(k, key, sizeof(k));
	if (cmd == KH_CMD_PEER_EVENT)
		nla_put_u8(msg, KH_A_EVENT, KH_EVENT_CHANGED);
	nla_put(msg, KH_A_PUBKEY, sizeof(k), k);
	if (ep)
		put_sin(msg, KH_A_ENDPOINT, ep);
	nla_put_u8(msg, KH_A_SOURCE, KH_SOURCE_LEARNED);
	nla_put_u16(msg, KH_A_PORT, 51820);
	if (refl)
		put_sin(msg, KH_A_REFLECTOR, refl);
	nla_put_u32(msg, KH_A_AGE_MS, 12000);
	nla_put_u32(msg, KH_A_EXPIRES_MS, 588000);
	return msg;
}

static void test_kh_records(struct tap *t)
{
	struct kh_records recs = { 0 };
	struct kh_dump d = { .out = &recs };
	struct kh_status st = { 0 };
	struct kh_record rec;
	struct nlattr *nest, *tb[KH_A_MAX + 1];
	struct nl_msg *msg;
	uint8_t k[KH_KEY_LEN], wants[KH_MAX_WANT + 1][KH_KEY_LEN];
	struct sockaddr_storage ss;
	socklen_t len;
	int ret, n, rem;

	msg = status_msg();
	nla_put_u32(msg, KH_A_RECORDS, 12);
	nla_put_u32(msg, KH_A_MAX_RECORDS, 131072);
	nla_put_u32(msg, KH_A_RECORD_TTL, 600);
	nest = nla_nest_start(msg, KH_A_WATCH);
	nla_put_u16(msg, KH_WATCH_A_PORT, 51822);
	nla_put_u8(msg, KH_WATCH_A_HAS_KEY, 1);
	nla_nest_end(msg, nest);
	ret = kh_parse_status(msg, &st);
	tap_ok(t, !ret && st.has_records && st.records == 12 &&
	       st.max_records == 131072 && st.record_ttl == 600 &&
	       st.n_watches == 3 && !st.watches[0].has_key &&
	       st.watches[2].has_key, "kh: status with records and has_key");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = status_msg();
	tap_ok(t, !kh_parse_status(msg, &st) && !st.has_records,
	       "kh: status without record limits");
	kh_status_free(&st);
	nlmsg_free(msg);

	msg = record_msg(KH_CMD_GET_PEER, 0x11, "203.0.113.2:51820",
			 "198.51.100.1:51820", 0);
	ret = kh_parse_record(msg, &rec);
	tap_ok(t, !ret && rec.key[0] == 0x11 && rec.key[31] == 0x11 &&
	       endpoint_is(&rec.endpoint, "203.0.113.2:51820") &&
	       endpoint_is(&rec.reflector, "198.51.100.1:51820") &&
	       rec.source == KH_SOURCE_LEARNED && rec.port == 51820 &&
	       rec.age_ms == 12000 && rec.expires_ms == 588000 && !rec.event,
	       "kh: a record");
	nlmsg_free(msg);

	msg = record_msg(KH_CMD_PEER_EVENT, 0x22, "[2001:db8::2]:1", NULL, 0);
	ret = kh_parse_record(msg, &rec);
	tap_ok(t, !ret && rec.event == KH_EVENT_CHANGED &&
	       endpoint_is(&rec.endpoint, "[2001:db8::2]:1") &&
	       !rec.reflector.ss_family, "kh: a peer event, no reflector");
	nlmsg_free(msg);

	msg = record_msg(KH_CMD_GET_PEER, 0x11, NULL, NULL, 0);
	tap_ok(t, kh_parse_record(msg, &rec) == -EBADMSG,
	       "kh: a record without an endpoint is refused");
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_GET_PEER);
	nla_put(msg, KH_A_PUBKEY, 31, k);
	put_sin(msg, KH_A_ENDPOINT, "192.0.2.1:1");
	tap_ok(t, kh_parse_record(msg, &rec) == -EBADMSG,
	       "kh: a 31-byte key is refused");
	nlmsg_free(msg);

	msg = genl_msg(KH_CMD_GET_PEER);
	memset(k, 1, sizeof(k));
	nla_put(msg, KH_A_PUBKEY, sizeof(k), k);
	put_sin(msg, KH_A_ENDPOINT, "192.0.2.1:1");
	nla_put_u16(msg, KH_A_SOURCE, 1);
	tap_ok(t, kh_parse_record(msg, &rec) == -EBADMSG,
	       "kh: a 16-bit source is refused");
	nlmsg_free(msg);

	tap_ok(t, !strcmp(kh_source_name(KH_SOURCE_OBSERVED), "observed") &&
	       !strcmp(kh_source_name(KH_SOURCE_PUSHED), "pushed") &&
	       !strcmp(kh_source_name(KH_SOURCE_LEARNED), "learned") &&
	       !strcmp(kh_source_name(0), "unknown") &&
	       !strcmp(kh_source_name(77), "unknown") &&
	       !strcmp(kh_event_name(KH_EVENT_REMOVED), "removed"),
	       "kh: source and event names");

	/* dump entries: a bad one is counted, NLM_F_DUMP_INTR noticed */
	msg = record_msg(KH_CMD_GET_PEERS, 1, "192.0.2.1:1", NULL, NLM_F_MULTI);
	ret = kh_parse_dump_record(msg, &d);
	nlmsg_free(msg);
	msg = record_msg(KH_CMD_GET_PEERS, 2, NULL, NULL, NLM_F_MULTI);
	ret |= kh_parse_dump_record(msg, &d);
	nlmsg_free(msg);
	tap_ok(t, !ret && recs.n == 1 && recs.bad == 1 && !d.intr,
	       "kh: dump entries, a bad one skipped and counted");
	msg = record_msg(KH_CMD_GET_PEERS, 3, "192.0.2.3:3", NULL,
			 NLM_F_MULTI | NLM_F_DUMP_INTR);
	ret = kh_parse_dump_record(msg, &d);
	nlmsg_free(msg);
	tap_ok(t, !ret && recs.n == 2 && d.intr,
	       "kh: NLM_F_DUMP_INTR on an entry is noticed");
	kh_records_free(&recs);

	/* KH_CMD_PROBE: port, reflector, pubkey, every want */
	memset(wants, 0, sizeof(wants));
	for (n = 0; n <= KH_MAX_WANT; n++)
		wants[n][0] = (uint8_t)n;
	parse_endpoint("198.51.100.1:51820", &ss, &len, NULL);
	msg = kh_probe_msg(0x42, 51820, &ss, k, (const uint8_t (*)[KH_KEY_LEN])wants,
			   KH_MAX_WANT);
	ret = msg ? genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, NULL) : -1;
	n = 0;
	if (!ret) {
		struct nlmsghdr *nlh = nlmsg_hdr(msg);
		struct nlattr *a;

		nla_for_each_attr(a, genlmsg_attrdata(genlmsg_hdr(nlh), 0),
				  genlmsg_attrlen(genlmsg_hdr(nlh), 0), rem)
			if (nla_type(a) == KH_A_WANT && nla_len(a) == KH_KEY_LEN &&
			    ((uint8_t *)nla_data(a))[0] == n)
				n++;
	}
	tap_ok(t, !ret && tb[KH_A_PORT] && nla_get_u16(tb[KH_A_PORT]) == 51820 &&
	       tb[KH_A_REFLECTOR] &&
	       nla_len(tb[KH_A_REFLECTOR]) == sizeof(struct sockaddr_in) &&
	       tb[KH_A_PUBKEY] && !memcmp(nla_data(tb[KH_A_PUBKEY]), k, KH_KEY_LEN) &&
	       n == KH_MAX_WANT && genlmsg_hdr(nlmsg_hdr(msg))->cmd == KH_CMD_PROBE,
	       "kh: probe message with %d wants, in order", n);
	nlmsg_free(msg);
	tap_ok(t, !kh_probe_msg(0x42, 1, &ss, k, (const uint8_t (*)[KH_KEY_LEN])wants,
				KH_MAX_WANT + 1),
	       "kh: more than KH_MAX_WANT wants is refused here");
	tap_ok(t, !kh_probe_msg(0x42, 1, &ss, NULL,
				(const uint8_t (*)[KH_KEY_LEN])wants, 1),
	       "kh: wants without our key are refused here");
	msg = kh_probe_msg(0x42, 1, &ss, k, NULL, 0);
	tap_ok(t, msg && !genlmsg_parse(nlmsg_hdr(msg), 0, tb, KH_A_MAX, NULL) &&
	       tb[KH_A_PUBKEY] && !tb[KH_A_WANT], "kh: a punch: our key, no wants");
	nlmsg_free(msg);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * 100,000 records through the dump parser, filtered by a device of 1,000
 * peers and printed: anything quadratic would take minutes here.
 */
static void test_many(struct tap *t)
{
	enum { N = 100000, PEERS = 1000 };
	struct kh_records recs = { 0 };
	struct kh_dump d = { .out = &recs };
	struct wg_device dev = { 0 };
	struct nl_msg *msg;
	size_t i, found = 0;
	int out, null, ret = 0;
	double t0, t1;

	msg = record_msg(KH_CMD_GET_PEERS, 0, "203.0.113.2:51820",
			 "198.51.100.1:51820", NLM_F_MULTI);
	t0 = seconds();
	for (i = 0; i < N && !ret; i++) {
		/* the key is the first attribute after the header */
		struct nlattr *a = nlmsg_find_attr(nlmsg_hdr(msg), GENL_HDRLEN,
						   KH_A_PUBKEY);

		memcpy(nla_data(a), &i, sizeof(i));
		ret = kh_parse_dump_record(msg, &d);
	}
	nlmsg_free(msg);

	dev.peers = calloc(PEERS, sizeof(*dev.peers));
	dev.n_peers = dev.cap_peers = PEERS;
	for (i = 0; i < PEERS; i++) {
		size_t key = i * (N / PEERS);

		memcpy(dev.peers[i].public_key, &key, sizeof(key));
	}
	wg_sort_peers(&dev);

	fflush(stdout);
	out = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	for (i = 0; i < recs.n; i++) {
		if (wg_find_peer(&dev, recs.v[i].key))
			found++;
		putchar('{');
		print_record_json(&recs.v[i]);
		puts("}");
	}
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	close(out);
	close(null);
	t1 = seconds();

	tap_ok(t, !ret && recs.n == N && found == PEERS,
	       "many: %d records parsed, %zu of them peers", N, found);
	/* generous for sanitizers and slow machines; quadratic would be ~1e10 */
	tap_ok(t, t1 - t0 < 20.0, "many: parsed, matched, printed in %.2f s",
	       t1 - t0);
	kh_records_free(&recs);
	free(dev.peers);
}

/* ---- the request path, against the host kernel's nlctrl ----------------- */

static int count(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(*(int *)arg)++;
	return 0;
}

static int fail_first(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(*(int *)arg)++;
	return -E2BIG;
}

static struct nl_msg *ctrl_msg(uint8_t cmd, int flags, const char *name)
{
	struct nl_msg *msg = khnl_msg(GENL_ID_CTRL, cmd, 1, flags);

	if (msg && name)
		nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name);
	return msg;
}

static void test_live(struct tap *t)
{
	struct nl_sock *ev;
	struct khnl nl;
	struct nl_msg *msg;
	int ret, n;

	ret = khnl_open(&nl);
	if (ret) {
		tap_skip(t, "live nlctrl tests", strerror(-ret));
		return;
	}
	tap_ok(t, khnl_resolve(&nl, "nlctrl") == GENL_ID_CTRL,
	       "live: resolve nlctrl");
	tap_ok(t, khnl_resolve(&nl, "kh_nosuch") == -ENOENT,
	       "live: a missing family is -ENOENT");

	n = 0;
	ret = khnl_request(&nl, ctrl_msg(CTRL_CMD_GETFAMILY, 0, "nlctrl"),
			   count, &n);
	tap_ok(t, !ret && n == 1, "live: do with a reply and an ACK (%d, %d)",
	       ret, n);

	n = 0;
	ret = khnl_request(&nl, ctrl_msg(CTRL_CMD_GETFAMILY, 0,
					 "kh_nosuch"), count, &n);
	tap_ok(t, ret == -ENOENT && n == 0, "live: the kernel's -errno is kept (%d)",
	       ret);

	n = 0;
	ret = khnl_request(&nl, ctrl_msg(CTRL_CMD_GETFAMILY, NLM_F_DUMP, NULL),
			   count, &n);
	tap_ok(t, !ret && n >= 1, "live: dump up to NLMSG_DONE (%d families)",
	       n);

	n = 0;
	ret = khnl_request(&nl, ctrl_msg(CTRL_CMD_GETFAMILY, NLM_F_DUMP, NULL),
			   fail_first, &n);
	tap_ok(t, ret == -E2BIG && n == 1,
	       "live: a parse error fails the request, once");
	n = 0;
	ret = khnl_request(&nl, ctrl_msg(CTRL_CMD_GETFAMILY, 0, "nlctrl"),
			   count, &n);
	tap_ok(t, !ret && n == 1, "live: the socket was drained after it");

	/* strict policy of GETPOLICY: an unknown attribute earns an extack */
	msg = khnl_msg(GENL_ID_CTRL, CTRL_CMD_GETPOLICY, 1, NLM_F_DUMP);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	nla_put_u32(msg, 1000, 0);
	ret = khnl_request(&nl, msg, count, &n);
	tap_ok(t, ret < 0, "live: a refused dump fails (%d)", ret);
	if (nl.ext_msg[0])
		tap_ok(t, true, "live: extack message kept: '%s'", nl.ext_msg);
	else
		tap_skip(t, "live: extack message", "this kernel sent none");

	ret = khnl_events_open(&nl, "nlctrl", "notify", &ev);
	if (tap_ok(t, !ret, "live: join nlctrl's notify group (%d)", ret)) {
		n = 0;
		ret = khnl_events_read(ev, count, &n);
		tap_ok(t, !ret && !n, "live: reading no events does not block");
		nl_socket_free(ev);
	}
	tap_ok(t, khnl_events_open(&nl, "nlctrl", "no_such_group", &ev) ==
	       -ENOENT, "live: a missing group is -ENOENT");

	khnl_close(&nl);
}

static void put_aip(struct nl_msg *msg, int idx, uint16_t family,
		    const char *addr, uint8_t cidr, int addr_len)
{
	uint8_t a[16] = { 0 };
	struct nlattr *n;

	inet_pton(family, addr, a);
	n = nla_nest_start(msg, idx);
	nla_put_u16(msg, WGALLOWEDIP_A_FAMILY, family);
	nla_put(msg, WGALLOWEDIP_A_IPADDR, addr_len, a);
	nla_put_u8(msg, WGALLOWEDIP_A_CIDR_MASK, cidr);
	nla_nest_end(msg, n);
}

/* A peer with its PSK, keepalive and allowed IPs, split over messages. */
static void test_wg_restart(struct tap *t)
{
	struct wg_device dev = { 0 };
	struct nlattr *peers, *peer, *aips, *tb[WGDEVICE_A_MAX + 1];
	struct nlattr *ptb[WGPEER_A_MAX + 1], *atb[WGALLOWEDIP_A_MAX + 1];
	struct nlattr *p, *a;
	uint8_t k[WG_KEY_LEN], psk[WG_KEY_LEN];
	struct sockaddr_storage ss;
	struct nl_msg *m1, *m2, *bad, *msg;
	socklen_t len;
	int n = 0, rem, rem2, naips = 0, ret;
	bool good = true;

	memset(k, 0x11, sizeof(k));
	memset(psk, 0x77, sizeof(psk));
	m1 = genl_msg(WG_CMD_GET_DEVICE);
	nla_put_u32(m1, WGDEVICE_A_IFINDEX, 4);
	peers = nla_nest_start(m1, WGDEVICE_A_PEERS);
	peer = nla_nest_start(m1, 0);
	nla_put(m1, WGPEER_A_PUBLIC_KEY, sizeof(k), k);
	nla_put(m1, WGPEER_A_PRESHARED_KEY, sizeof(psk), psk);
	nla_put_u16(m1, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	aips = nla_nest_start(m1, WGPEER_A_ALLOWEDIPS);
	put_aip(m1, 0, AF_INET, "198.51.100.131", 32, 4);
	nla_nest_end(m1, aips);
	nla_nest_end(m1, peer);
	nla_nest_end(m1, peers);
	m2 = genl_msg(WG_CMD_GET_DEVICE);
	peers = nla_nest_start(m2, WGDEVICE_A_PEERS);
	peer = nla_nest_start(m2, 0);
	nla_put(m2, WGPEER_A_PUBLIC_KEY, sizeof(k), k);
	aips = nla_nest_start(m2, WGPEER_A_ALLOWEDIPS);
	put_aip(m2, 0, AF_INET6, "2001:db8::", 32, 16);
	nla_nest_end(m2, aips);
	nla_nest_end(m2, peer);
	nla_nest_end(m2, peers);
	tap_ok(t, !wg_parse_device(m1, &dev) && !wg_parse_device(m2, &dev) &&
	       dev.n_peers == 1 && dev.peers[0].keepalive_s == 25 &&
	       !memcmp(dev.peers[0].preshared_key, psk, WG_KEY_LEN) &&
	       dev.peers[0].n_allowedips == 2 &&
	       dev.peers[0].allowedips[0].family == AF_INET &&
	       dev.peers[0].allowedips[0].cidr == 32 &&
	       dev.peers[0].allowedips[0].addr[0] == 198 &&
	       dev.peers[0].allowedips[1].family == AF_INET6 &&
	       dev.peers[0].allowedips[1].cidr == 32 &&
	       dev.peers[0].allowedips[1].addr[2] == 0x0d,
	       "wg: PSK, keepalive, allowed IPs (continued in a second message)");

	/* the message that makes the peer anew */
	parse_endpoint("203.0.113.2:40000", &ss, &len, NULL);
	msg = wg_restart_peer_msg(0x42, 4, &dev.peers[0], &ss);
	ret = msg ? genlmsg_parse(nlmsg_hdr(msg), 0, tb, WGDEVICE_A_MAX, NULL) : -1;
	tap_ok(t, !ret && tb[WGDEVICE_A_IFINDEX] &&
	       nla_get_u32(tb[WGDEVICE_A_IFINDEX]) == 4 && tb[WGDEVICE_A_PEERS],
	       "wg: restart: device attributes");
	if (!ret && tb[WGDEVICE_A_PEERS]) {
		nla_for_each_nested(p, tb[WGDEVICE_A_PEERS], rem) {
			if (nla_parse_nested(ptb, WGPEER_A_MAX, p, NULL) ||
			    !ptb[WGPEER_A_PUBLIC_KEY] ||
			    memcmp(nla_data(ptb[WGPEER_A_PUBLIC_KEY]), k, WG_KEY_LEN)) {
				good = false;
				continue;
			}
			if (n++ == 0) {
				good &= ptb[WGPEER_A_FLAGS] &&
					nla_get_u32(ptb[WGPEER_A_FLAGS]) == WGPEER_F_REMOVE_ME &&
					!ptb[WGPEER_A_ENDPOINT] && !ptb[WGPEER_A_ALLOWEDIPS];
				continue;
			}
			good &= !ptb[WGPEER_A_FLAGS] && ptb[WGPEER_A_PRESHARED_KEY] &&
				!memcmp(nla_data(ptb[WGPEER_A_PRESHARED_KEY]), psk, WG_KEY_LEN) &&
				ptb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] &&
				nla_get_u16(ptb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) == 25 &&
				ptb[WGPEER_A_ENDPOINT] &&
				nla_len(ptb[WGPEER_A_ENDPOINT]) == sizeof(struct sockaddr_in) &&
				ptb[WGPEER_A_ALLOWEDIPS];
			if (!ptb[WGPEER_A_ALLOWEDIPS])
				continue;
			nla_for_each_nested(a, ptb[WGPEER_A_ALLOWEDIPS], rem2) {
				const struct wg_allowedip *w = &dev.peers[0].allowedips[naips];

				good &= naips < 2 && (a->nla_type & NLA_F_NESTED) &&
					!nla_parse_nested(atb, WGALLOWEDIP_A_MAX, a, NULL) &&
					atb[WGALLOWEDIP_A_FAMILY] &&
					nla_get_u16(atb[WGALLOWEDIP_A_FAMILY]) == w->family &&
					atb[WGALLOWEDIP_A_CIDR_MASK] &&
					nla_get_u8(atb[WGALLOWEDIP_A_CIDR_MASK]) == w->cidr &&
					atb[WGALLOWEDIP_A_IPADDR] &&
					nla_len(atb[WGALLOWEDIP_A_IPADDR]) ==
						(w->family == AF_INET ? 4 : 16) &&
					!memcmp(nla_data(atb[WGALLOWEDIP_A_IPADDR]), w->addr,
						w->family == AF_INET ? 4 : 16);
				naips++;
			}
		}
	}
	tap_ok(t, good && n == 2 && naips == 2,
	       "wg: restart: remove, then the same peer with PSK, keepalive, endpoint, allowed IPs");
	nlmsg_free(msg);

	dev.peers[0].n_allowedips = WG_RESTART_MAX_ALLOWEDIPS + 1;
	tap_ok(t, !wg_restart_peer_msg(0x42, 4, &dev.peers[0], &ss),
	       "wg: restart: no message for more allowed IPs than fit");
	dev.peers[0].n_allowedips = 2;
	wg_peers_free(dev.peers, dev.n_peers);

	/* an IPv4 allowed IP with 16 bytes of address */
	memset(&dev, 0, sizeof(dev));
	bad = genl_msg(WG_CMD_GET_DEVICE);
	nla_put_u32(bad, WGDEVICE_A_IFINDEX, 4);
	peers = nla_nest_start(bad, WGDEVICE_A_PEERS);
	peer = nla_nest_start(bad, 0);
	nla_put(bad, WGPEER_A_PUBLIC_KEY, sizeof(k), k);
	aips = nla_nest_start(bad, WGPEER_A_ALLOWEDIPS);
	put_aip(bad, 0, AF_INET, "2001:db8::", 24, 16);
	nla_nest_end(bad, aips);
	nla_nest_end(bad, peer);
	nla_nest_end(bad, peers);
	tap_ok(t, wg_parse_device(bad, &dev) == -EBADMSG,
	       "wg: an allowed IP whose length is not its family's is refused");
	wg_peers_free(dev.peers, dev.n_peers);
	nlmsg_free(bad);
	nlmsg_free(m1);
	nlmsg_free(m2);
}

int main(void)
{
	struct tap t = { 0 };

	test_extack(&t);
	test_wg_parse(&t);
	test_kh_parse(&t);
	test_wg_more(&t);
	test_wg_nudge(&t);
	test_wg_restart(&t);
	test_kh_records(&t);
	test_many(&t);
	test_live(&t);
	return tap_done(&t);
}
