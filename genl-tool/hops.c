// SPDX-License-Identifier: GPL-2.0
/*
 * The start TTL, found.  A hold (apply.c) must cross every NAT in front of
 * us and no more: too short and our outer NAT never opens, so the far
 * side's first packet dies there; too long and it reaches the far NAT
 * before that one has a mapping.  We send one UDP probe per TTL toward
 * the reflector, from an ordinary socket marked as WireGuard's packets are
 * (so it takes their route, a full tunnel's too), and read the routers'
 * time-exceeded answers from the socket's error queue.
 *
 * The first router is always ours (a NAT or at least a firewall: the
 * default TTL of 2 crossed it).  Each next one is ours too while it
 * answers from a private or shared address (a carrier NAT's inside,
 * 100.64.0.0/10) or from the very address the reflector saw us at (a NAT
 * that uses its public address inside too); the first that does not, is
 * silent or is the reflector ends the count, and the wait.  A NAT inside
 * that answers from a
 * public address of another network is not told apart from the
 * Internet: the hold's bound (APPLY_HOLD_MS) then ends the hold, and the
 * start is a plain simultaneous one.
 */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hops.h"
#include "util.h"

static bool v4_private(uint32_t a)
{
	return (a >> 24) == 10 ||			/* 10.0.0.0/8 */
	       (a >> 20) == 0xac1 ||			/* 172.16.0.0/12 */
	       (a >> 16) == 0xc0a8 ||			/* 192.168.0.0/16 */
	       (a >> 22) == (100u << 2 | 1) ||		/* 100.64.0.0/10 */
	       (a >> 16) == 0xa9fe;			/* 169.254.0.0/16 */
}

/* RFC 1918, RFC 6598 (shared), link-local; IPv6 unique and link local. */
bool addr_is_private(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const uint8_t *b = s6->sin6_addr.s6_addr;

	if (ss->ss_family == AF_INET)
		return v4_private(ntohl(((const struct sockaddr_in *)ss)->
					sin_addr.s_addr));
	if (ss->ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return v4_private((uint32_t)b[12] << 24 | b[13] << 16 |
				  b[14] << 8 | b[15]);
	return (b[0] & 0xfe) == 0xfc ||			/* fc00::/7 */
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);	/* fe80::/10 */
}

/*
 * How many routers, from the first, are ours; *decided when no answer
 * still to come could change that (the first that is not ours answered).
 */
static size_t walk(const struct sockaddr_storage *seen,
		   const struct hop *hops, size_t n, bool *decided)
{
	size_t i;

	*decided = true;
	if (!n || (hops[0].answered && hops[0].reached))
		return 0;
	if (!hops[0].answered) {
		*decided = false;
		return 0;
	}
	for (i = 1; i < n; i++) {
		if (!hops[i].answered) {
			*decided = false;
			return i;
		}
		if (hops[i].reached ||
		    !(sockaddr_same_addr(&hops[i].from, seen) ||
		      addr_is_private(&hops[i].from)))
			return i;
	}
	return n;
}

uint8_t hops_start_ttl(const struct sockaddr_storage *seen,
		       const struct hop *hops, size_t n)
{
	bool decided;
	size_t ours = walk(seen, hops, n, &decided);

	return ours ? (uint8_t)(ours + 1) : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int probe_socket(const struct sockaddr_storage *to, uint32_t fwmark,
			int ttl)
{
	struct sockaddr_storage dst = *to;
	bool v6 = to->ss_family == AF_INET6;
	int fd, one = 1;
	socklen_t len;

	fd = socket(to->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	/* without the mark, a full tunnel would route it into the tunnel */
	if (fwmark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
	if (v6) {
		((struct sockaddr_in6 *)&dst)->sin6_port = htons(HOPS_PORT);
		len = sizeof(struct sockaddr_in6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
			       sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
			       sizeof(ttl)))
			goto fail;
	} else {
		((struct sockaddr_in *)&dst)->sin_port = htons(HOPS_PORT);
		len = sizeof(struct sockaddr_in);
		if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)))
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&dst, len) ||
	    send(fd, "", 0, 0) < 0)
		goto fail;
	return fd;
fail:
	one = -errno;
	close(fd);
	return one;
}

/* The ICMP error waiting on fd, if any, into *h. */
static void read_error(int fd, const struct sockaddr_storage *to,
		       struct hop *h)
{
	char ctl[512];
	char data[64];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;

	while (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			const struct sock_extended_err *ee;
			const struct sockaddr *off;
			bool exceeded;

			if (!((c->cmsg_level == IPPROTO_IP &&
			       c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == IPPROTO_IPV6 &&
			       c->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (const void *)CMSG_DATA(c);
			if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
				exceeded = ee->ee_type == 11;
			else if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
				exceeded = ee->ee_type == 3;
			else
				continue;
			off = SO_EE_OFFENDER(ee);
			memset(&h->from, 0, sizeof(h->from));
			if (off->sa_family == AF_INET)
				memcpy(&h->from, off, sizeof(struct sockaddr_in));
			else if (off->sa_family == AF_INET6)
				memcpy(&h->from, off,
				       sizeof(struct sockaddr_in6));
			h->answered = true;
			h->reached = !exceeded ||
				     sockaddr_same_addr(&h->from, to);
		}
		m.msg_controllen = sizeof(ctl);
	}
}

int hops_trace(const struct sockaddr_storage *to,
	       const struct sockaddr_storage *seen, uint32_t fwmark,
	       struct hop *hops, size_t n, int wait_ms)
{
	struct pollfd pfd[HOPS_MAX];
	int64_t end = mono_ms() + wait_ms, left;
	size_t i, sent = 0;
	int ret = 0;

	if (n > HOPS_MAX)
		n = HOPS_MAX;
	memset(hops, 0, n * sizeof(*hops));
	for (i = 0; i < n; i++) {
		pfd[i].fd = probe_socket(to, fwmark, (int)i + 1);
		pfd[i].events = 0;	/* errors are always polled */
		if (pfd[i].fd < 0)
			ret = pfd[i].fd;
		else
			sent++;
	}
	while (sent && (left = end - mono_ms()) > 0) {
		bool decided;

		if (poll(pfd, n, (int)left) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & POLLERR))
				continue;
			read_error(pfd[i].fd, to, &hops[i]);
			if (hops[i].answered) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
		walk(seen, hops, n, &decided);
		if (decided)
			break;
	}
	for (i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	return sent ? 0 : ret;
}

uint8_t hops_find(const struct sockaddr_storage *to,
		  const struct sockaddr_storage *seen, uint32_t fwmark)
{
	struct hop hops[HOPS_MAX];

	if (hops_trace(to, seen, fwmark, hops, HOPS_MAX, HOPS_WAIT_MS))
		return 0;
	return hops_start_ttl(seen, hops, HOPS_MAX);
}
